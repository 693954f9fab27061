/** @file Reference kernels for `copy` (strided gather of raw storage values) and `cast`. */
import type { Backend } from '../../backend';
import { cpuStorage, cpuStorageAs } from '../../backends/cpu';
import { readF64, stridedPositions, writeValues } from '../../backends/cpu-access';
import type { DType } from '../../dtype';
import { fmtShape, TensorError } from '../../errors';
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

/** The values each integer dtype holds. */
const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  i32: [-(2 ** 31), 2 ** 31 - 1],
  i8: [-128, 127],
  u8: [0, 255],
};

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
  const v = readF64(t);
  const range = FLOATS.has(t.dtype) ? INT_RANGE[dtype] : undefined;
  if (range) {
    for (let i = 0; i < v.length; i++) {
      const x = Math.trunc(v[i]);
      if (!(x >= range[0] && x <= range[1])) {
        throw new TensorError(
          'cast',
          `value ${v[i]} at flat index ${i} of input ${fmtShape(t.shape)} (${t.dtype}) has no ${dtype} value (${dtype} holds integers ${range[0]}..${range[1]})`,
        );
      }
    }
  }
  writeValues(out, v);
  return out;
}
