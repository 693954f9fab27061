/**
 * @file Row addressing for the fast CPU kernels: the storage offset of the first element of every
 * row (all dimensions but the last, row-major), so a kernel reads any strided layout straight from
 * storage, a row at a time, instead of gathering every element into float64 first (readF64).
 */
import type { Tensor } from '../tensor';

/** Number of rows of `shape`: the product of all dimensions but the last (1 for rank <= 1). */
export function rowCount(shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length - 1; d++) n *= shape[d];
  return n;
}

/**
 * Storage offsets of the rows of a view with this shape, strides and offset, in row-major order
 * (strides may be 0 for broadcast dimensions). Element j of row r sits at `rows[r] + j * strides[last]`.
 */
export function rowOffsets(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const lead = shape.length - 1;
  const n = rowCount(shape);
  const out = new Int32Array(n);
  if (lead <= 0) {
    if (n) out[0] = offset;
    return out;
  }
  const idx = new Array<number>(lead).fill(0);
  let pos = offset;
  for (let r = 0; r < n; r++) {
    out[r] = pos;
    for (let d = lead - 1; d >= 0; d--) {
      idx[d]++;
      pos += strides[d];
      if (idx[d] < shape[d]) break;
      pos -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** rowOffsets of a tensor. */
export const tensorRows = (t: Tensor): Int32Array => rowOffsets(t.shape, t.strides, t.offset);

/** Stride of the last dimension (1 for a scalar). */
export const lastStride = (t: Tensor): number => (t.rank ? t.strides[t.rank - 1] : 1);
