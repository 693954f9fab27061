/** @file Reference topk: per lane, a stable sort of the indices by value (descending, NaN first). */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import { lanesOf } from '../lanes';
import type { TopkAttrs } from './topk';

/** Descending order with NaN largest; equal values keep index order (Array.prototype.sort is stable). */
const order = (a: number, b: number) => {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a > b ? -1 : a < b ? 1 : 0;
};

export function topkReference([t]: Tensor[], { k, axis }: TopkAttrs, backend: Backend): Tensor[] {
  const shape = t.shape.slice();
  shape[axis] = k;
  const x = readF64(t);
  const { outer, n, inner } = lanesOf(t.shape, axis);
  const vals = new Float64Array(outer * k * inner);
  const idxs = new Float64Array(outer * k * inner);
  const lane = [...Array(n).keys()];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number) => x[o * n * inner + j * inner + i];
      const sorted = lane.slice().sort((p, q) => order(at(p), at(q)));
      for (let j = 0; j < k; j++) {
        vals[o * k * inner + j * inner + i] = at(sorted[j]);
        idxs[o * k * inner + j * inner + i] = sorted[j];
      }
    }
  }
  const values = Tensor.empty(backend, shape, t.dtype);
  const indices = Tensor.empty(backend, shape, 'i32');
  writeValues(values, vals);
  writeValues(indices, idxs);
  return [values, indices];
}
