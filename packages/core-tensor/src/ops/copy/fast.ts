/**
 * @file Fast strided copy (`contiguous()`, reshape of a permuted view) for the 'cpu' backend, any
 * dtype: raw storage values move a row at a time (a block copy when the row is contiguous), through
 * an integer view for f32 as in the reference, so the result equals it bit for bit.
 */
import type { Backend } from '../../backend';
import { cpuStorageAs } from '../../backends/cpu';
import { lastStride, tensorRows } from '../../backends/cpu-rows';
import { Tensor } from '../../tensor';

export function copyFast([t]: Tensor[], _attrs: object, backend: Backend): Tensor {
  const out = Tensor.empty(backend, t.shape, t.dtype);
  const asBits = t.dtype === 'f32' ? 'i32' : t.dtype;
  const src = cpuStorageAs(t, asBits);
  const dst = cpuStorageAs(out, asBits);
  const n = t.rank ? t.shape[t.rank - 1] : 1;
  const s = lastStride(t);
  const rows = tensorRows(t);
  for (let r = 0; r < rows.length; r++) {
    const so = rows[r];
    const oo = r * n;
    if (s === 1 && n >= 16) dst.set(src.subarray(so, so + n), oo);
    else for (let j = 0; j < n; j++) dst[oo + j] = src[so + j * s];
  }
  return out;
}
