/**
 * @file H2O, Heavy-Hitter Oracle (Zhang et al., arXiv:2306.14048): keep the "heavy hitters", the
 * positions with the highest attention weight ACCUMULATED over the queries seen, plus a window of
 * recent positions. Here the queries are the ones the caller supplies (the last W positions'), the
 * score of a kv head is the accumulated weight averaged over the query heads that read it, and the
 * last `window` positions score +Infinity (default: the W positions the queries come from).
 */
import { parseOptionsWith, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { windowAttention } from './attention-weights';
import type { ScoreInput, ScorePolicy } from './scorer';

export const H2OOptions = z.strictObject({
  /** Most recent positions always kept (default: as many as queries are supplied). */
  window: z.number().int().nonnegative().optional(),
});
export type H2OOptions = z.input<typeof H2OOptions>;

export function h2o(opts?: H2OOptions): ScorePolicy {
  const o = parseOptionsWith(H2OOptions, opts, (p) => new TensorError('h2o', p));
  return {
    name: 'h2o',
    needsQueries: true,
    score(input: ScoreInput): Float64Array {
      const { weights, B, Hq, Hkv, W, T } = windowAttention('h2o', input);
      const group = Hq / Hkv;
      const window = o.window ?? W;
      const out = new Float64Array(B * Hkv * T);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < Hq; h++) {
          const r = (b * Hkv + Math.floor(h / group)) * T;
          for (let w = 0; w < W; w++) {
            const base = ((b * Hq + h) * W + w) * T;
            for (let t = 0; t < T; t++) out[r + t] += weights[base + t] / group;
          }
        }
      for (let r = 0; r < B * Hkv; r++)
        for (let t = Math.max(0, T - window); t < T; t++) out[r * T + t] = Infinity;
      return out;
    },
  };
}
