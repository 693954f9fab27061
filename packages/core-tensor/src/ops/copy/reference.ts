/** @file Reference kernels for `copy` (strided gather of raw storage values) and `cast`. */
import type { Backend } from '../../backend';
import { cpuStorage, cpuStorageAs } from '../../backends/cpu';
import { readF64, stridedPositions, writeValues } from '../../backends/cpu-access';
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from '../../f16';
import { Tensor } from '../../tensor';
import type { CastAttrs } from './copy';

export function copyReference([t]: Tensor[], _attrs: object, backend: Backend): Tensor {
  const out = Tensor.empty(backend, t.shape, t.dtype);
  // Copy through an integer view: moving a float32 through a JS number may quieten a signalling NaN.
  const asBits = t.dtype === 'f32' ? 'i32' : t.dtype;
  const src = cpuStorageAs(t, asBits);
  const dst = cpuStorageAs(out, asBits);
  const pos = stridedPositions(t);
  for (let i = 0; i < pos.length; i++) dst[i] = src[pos[i]];
  return out;
}

const FLOATS = new Set(['f32', 'f16', 'bf16']);

export function castReference([t]: Tensor[], { dtype }: CastAttrs, backend: Backend): Tensor {
  const out = Tensor.empty(backend, t.shape, dtype);
  if (FLOATS.has(t.dtype) && FLOATS.has(dtype)) {
    // Between float formats, convert bit patterns so NaN payloads survive exactly (see f16.ts).
    const c = copyReference([t], {}, backend);
    const src = cpuStorage(c);
    const wide =
      t.dtype === 'f32'
        ? (src as Float32Array)
        : t.dtype === 'f16'
          ? f16ArrayToF32(src)
          : bf16ArrayToF32(src);
    const dst = cpuStorage(out);
    if (dtype === 'f32') (dst as Float32Array).set(wide);
    else if (dtype === 'f16') f32ArrayToF16(wide, dst as Uint16Array);
    else f32ArrayToBf16(wide, dst as Uint16Array);
    c.dispose();
    return out;
  }
  writeValues(out, readF64(t));
  return out;
}
