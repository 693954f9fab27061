/**
 * @file TOVA, Token Omission Via Attention (Oren et al., "Transformers are Multi-State RNNs",
 * arXiv:2401.06104): keep the positions the LAST query attends to most, its attention weights
 * averaged over all query heads (so every kv head gets the same scores). Only the last of the
 * supplied queries is used.
 */
import { windowAttention } from './attention-weights';
import type { ScoreInput, ScorePolicy } from './scorer';

export function tova(): ScorePolicy {
  return {
    name: 'tova',
    needsQueries: true,
    score(input: ScoreInput): Float64Array {
      const { weights, B, Hq, Hkv, W, T } = windowAttention('tova', input);
      const out = new Float64Array(B * Hkv * T);
      for (let b = 0; b < B; b++) {
        const mean = new Float64Array(T);
        for (let h = 0; h < Hq; h++) {
          const base = ((b * Hq + h) * W + W - 1) * T;
          for (let t = 0; t < T; t++) mean[t] += weights[base + t] / Hq;
        }
        for (let j = 0; j < Hkv; j++) out.set(mean, (b * Hkv + j) * T);
      }
      return out;
    },
  };
}
