/**
 * @file SnapKV (Li et al., "SnapKV: LLM Knows What You are Looking for Before Generation",
 * arXiv:2404.14469): the queries of an observation window at the end of the prompt (the supplied W
 * queries) vote for earlier positions with their attention weights (averaged over the window, as
 * kvpress does; the paper sums, which ranks the same); the votes are max-pooled over neighbouring
 * positions (kernel 5, the paper's default, padding kernel/2) so kept positions come with their
 * context; a kv head's score is the pooled vote averaged over its query heads. The observation
 * window itself is always kept (+Infinity).
 */
import { parseOptionsWith, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { windowAttention } from './attention-weights';
import type { ScoreInput, ScorePolicy } from './scorer';

export const SnapKVOptions = z.strictObject({
  /** Max-pool width over positions (odd, so the window is centred). */
  kernelSize: z
    .number()
    .int()
    .positive()
    .refine((k) => k % 2 === 1, 'kernelSize must be odd')
    .default(5),
});
export type SnapKVOptions = z.input<typeof SnapKVOptions>;

export function snapKV(opts?: SnapKVOptions): ScorePolicy {
  const { kernelSize } = parseOptionsWith(SnapKVOptions, opts, (p) => new TensorError('snapKV', p));
  const half = (kernelSize - 1) / 2;
  return {
    name: 'snapkv',
    needsQueries: true,
    score(input: ScoreInput): Float64Array {
      const { weights, B, Hq, Hkv, W, T } = windowAttention('snapKV', input);
      const group = Hq / Hkv;
      const P = T - W; // positions before the observation window
      const out = new Float64Array(B * Hkv * T);
      const vote = new Float64Array(P);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < Hq; h++) {
          vote.fill(0);
          for (let w = 0; w < W; w++) {
            const base = ((b * Hq + h) * W + w) * T;
            for (let t = 0; t < P; t++) vote[t] += weights[base + t] / W;
          }
          const r = (b * Hkv + Math.floor(h / group)) * T;
          for (let t = 0; t < P; t++) {
            let m = -Infinity;
            for (let u = Math.max(0, t - half); u <= Math.min(P - 1, t + half); u++) m = Math.max(m, vote[u]);
            out[r + t] += m / group;
          }
        }
      for (let r = 0; r < B * Hkv; r++) for (let t = P; t < T; t++) out[r * T + t] = Infinity;
      return out;
    },
  };
}
