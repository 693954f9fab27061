/**
 * @file Fast embedding lookup for the 'cpu' backend, any dtype: ids are read straight from their i32
 * storage (any strides) and checked as in the reference, then each weight row is copied as raw
 * storage values (a block copy when the row is contiguous), so the result equals the reference bit
 * for bit.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { lastStride, tensorRows } from '../../backends/cpu-rows';
import { fmtShape, TensorError } from '../../errors';
import { Tensor } from '../../tensor';

export function embeddingFast([weight, ids]: Tensor[], _attrs: object, backend: Backend): Tensor {
  const [V, H] = weight.shape;
  const I = cpuStorage(ids) as Int32Array;
  const n = ids.rank ? ids.shape[ids.rank - 1] : 1;
  const is = lastStride(ids);
  const idRows = tensorRows(ids);
  const flat = new Int32Array(ids.size);
  for (let r = 0, f = 0; r < idRows.length; r++) {
    for (let j = 0; j < n; j++, f++) {
      const id = I[idRows[r] + j * is];
      if (!(id >= 0 && id < V)) {
        throw new TensorError(
          'embedding',
          `id ${id} at flat index ${f} of ids ${fmtShape(ids.shape)} is out of range for a vocabulary of ${V} rows (weight ${fmtShape(weight.shape)})`,
        );
      }
      flat[f] = id;
    }
  }
  const out = Tensor.empty(backend, [...ids.shape, H], weight.dtype);
  const src = cpuStorage(weight);
  const dst = cpuStorage(out);
  const [rs, cs] = weight.strides;
  for (let i = 0; i < flat.length; i++) {
    const row = weight.offset + flat[i] * rs;
    if (cs === 1) dst.set(src.subarray(row, row + H), i * H);
    else for (let j = 0; j < H; j++) dst[i * H + j] = src[row + j * cs];
  }
  return out;
}
