/**
 * @file Element access for CPU kernels: strided reads of any dtype into float64 (for reference
 * kernels), and writes with the output dtype's rounding. Plain loops, on purpose.
 */
import type { DType } from '../dtype';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../f16';
import type { Tensor } from '../tensor';
import { cpuStorage } from './cpu';

/** Storage positions of every logical element of `t`, in row-major order. */
export function stridedPositions(t: Tensor): Int32Array {
  const n = t.size;
  const out = new Int32Array(n);
  const rank = t.rank;
  if (rank === 0) {
    if (n) out[0] = t.offset;
    return out;
  }
  const idx = new Array<number>(rank).fill(0);
  let pos = t.offset;
  for (let i = 0; i < n; i++) {
    out[i] = pos;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      pos += t.strides[d];
      if (idx[d] < t.shape[d]) break;
      pos -= t.strides[d] * t.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Every logical element of `t` as float64, row-major, whatever its dtype and strides. */
export function readF64(t: Tensor): Float64Array {
  const src = cpuStorage(t);
  const pos = stridedPositions(t);
  const out = new Float64Array(pos.length);
  const conv = t.dtype === 'f16' ? f16BitsToF32 : t.dtype === 'bf16' ? bf16BitsToF32 : null;
  if (conv) for (let i = 0; i < pos.length; i++) out[i] = conv(src[pos[i]]);
  else for (let i = 0; i < pos.length; i++) out[i] = src[pos[i]];
  return out;
}

/** Contiguous float32 values of `t` (a view of the storage when it is already contiguous f32). */
export function readF32(t: Tensor): Float32Array {
  if (t.dtype === 'f32' && t.isContiguous()) {
    return (cpuStorage(t) as Float32Array).subarray(t.offset, t.offset + t.size);
  }
  return Float32Array.from(readF64(t));
}

/** Store `values` into a contiguous output tensor, converting to its dtype. */
export function writeValues(out: Tensor, values: ArrayLike<number>): void {
  const dst = cpuStorage(out);
  const o = out.offset;
  const n = values.length;
  switch (out.dtype as DType) {
    case 'f16':
      for (let i = 0; i < n; i++) dst[o + i] = f32ToF16Bits(values[i]);
      break;
    case 'bf16':
      for (let i = 0; i < n; i++) dst[o + i] = f32ToBf16Bits(values[i]);
      break;
    case 'bool':
      // x != 0, so NaN is true (as in PyTorch and C); `values[i] ? 1 : 0` would make it false.
      for (let i = 0; i < n; i++) dst[o + i] = values[i] !== 0 ? 1 : 0;
      break;
    case 'i32':
    case 'i8':
    case 'u8':
      // Integer stores truncate toward zero (C semantics); typed arrays wrap out-of-range values.
      for (let i = 0; i < n; i++) dst[o + i] = Math.trunc(values[i]);
      break;
    default:
      for (let i = 0; i < n; i++) dst[o + i] = values[i];
  }
}
