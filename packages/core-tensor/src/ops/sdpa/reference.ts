/**
 * @file Reference attention: for each query row, float64 scores over the keys it may see, a
 * max-shifted softmax, and the weighted sum of values. No tiling, no online softmax: the ground truth.
 */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import type { SdpaAttrs } from './sdpa';

export function sdpaReference(
  inputs: Tensor[],
  { causal, scale, hasMask }: SdpaAttrs,
  backend: Backend,
): Tensor {
  const [q, k, v] = inputs;
  const [B, Hq, S, D] = q.shape;
  const [, Hkv, T] = k.shape;
  const Dv = v.shape[3];
  const group = Hq / Hkv;
  const Q = readF64(q);
  const K = readF64(k);
  const V = readF64(v);
  let M: Float64Array | null = null;
  if (hasMask) {
    const mv = inputs[3].expand([B, Hq, S, T]);
    M = readF64(mv);
    mv.dispose();
  }
  const out = new Float64Array(B * Hq * S * Dv);
  const score = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      const kBase = (b * Hkv + kvh) * T;
      for (let i = 0; i < S; i++) {
        const qRow = ((b * Hq + h) * S + i) * D;
        const mRow = ((b * Hq + h) * S + i) * T;
        const last = causal ? T - S + i : T - 1; // causal: the query sits at position T - S + i
        let max = -Infinity;
        let allowed = 0;
        for (let j = 0; j < T; j++) {
          if (j > last || (M && !M[mRow + j])) {
            score[j] = -Infinity;
            continue;
          }
          let s = 0;
          for (let d = 0; d < D; d++) s += Q[qRow + d] * K[(kBase + j) * D + d];
          score[j] = s * scale;
          allowed++;
          if (!Number.isNaN(max) && !(score[j] <= max)) max = score[j]; // a NaN sticks
        }
        // A row that may attend to no key (a padding row of a batch) is defined as zero.
        if (allowed === 0) continue;
        let sum = 0;
        for (let j = 0; j < T; j++) {
          score[j] = score[j] === -Infinity && max !== -Infinity ? 0 : Math.exp(score[j] - max);
          sum += score[j];
        }
        const oRow = ((b * Hq + h) * S + i) * Dv;
        for (let j = 0; j < T; j++) {
          const p = score[j] / sum;
          if (p === 0) continue;
          for (let d = 0; d < Dv; d++) out[oRow + d] += p * V[(kBase + j) * Dv + d];
        }
      }
    }
  }
  const result = Tensor.empty(backend, [B, Hq, S, Dv], q.dtype);
  writeValues(result, out);
  return result;
}
