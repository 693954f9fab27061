/** Test helpers: tensors on stand-in buffers, for the argument checks (no device needed). */
import { BYTES, CudaBuffer, type CudaDType, type CudaTensor, numel } from '../cuda-tensor';

const owner = {};
let nextId = 1;

/** A tensor on its own buffer, exactly large enough unless `bytes` says otherwise. */
export function fake(
  dtype: CudaDType,
  shape: number[],
  opts: { bytes?: number; offset?: number } = {},
): CudaTensor {
  const bytes = opts.bytes ?? (numel(shape) + (opts.offset ?? 0)) * BYTES[dtype];
  return { buffer: new CudaBuffer(nextId++, bytes, owner), dtype, shape, offset: opts.offset };
}
