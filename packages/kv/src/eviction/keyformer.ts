/**
 * @file Keyformer (Adnan et al., "Keyformer: KV Cache Reduction through Key Tokens Selection for
 * Efficient Generative Inference", MLSys 2024, arXiv:2403.09054): keep a recent window plus the "key
 * tokens" whose Gumbel-regularised attention, accumulated over the decoding steps, is highest.
 * At step s the score of position t is the softmax of the noisy, tempered logits
 *   f(x_t) = exp((x_t + ζ_t) / τ_s) / Σ_j exp((x_j + ζ_j) / τ_s),   ζ ~ Gumbel(0, 1),
 * with x = q·k/√d (the unnormalised logits) and τ rising linearly from τ_init = 1 to τ_end = 2
 * over the steps (the paper's schedule); scores accumulate per layer. Here the steps are the
 * supplied window of W recent queries (query w at τ = τ_init + (τ_end - τ_init)·w/(W - 1)), a kv
 * head's score is the accumulated score averaged over its query heads, and the last `window`
 * positions always stay (default: the W positions the queries come from). The Gumbel draws come
 * from core-tensor's seeded Philox stream, one per layer, so a run reproduces.
 */
import { parseOptionsWith, rng, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { readF64, type ScoreInput, type ScorePolicy } from './scorer';

export const KeyformerOptions = z.strictObject({
  seed: z.number().int().nonnegative().default(0),
  /** Temperature at the first supplied query (paper: 1). */
  tauInit: z.number().positive().default(1),
  /** Temperature at the last supplied query (paper: 2). */
  tauEnd: z.number().positive().default(2),
  /** Most recent positions always kept (default: as many as queries are supplied). */
  window: z.number().int().nonnegative().optional(),
});
export type KeyformerOptions = z.input<typeof KeyformerOptions>;

const OP = 'keyformer';

export function keyformer(opts?: KeyformerOptions): ScorePolicy {
  const o = parseOptionsWith(KeyformerOptions, opts, (p) => new TensorError(OP, p));
  return {
    name: 'keyformer',
    needsQueries: true,
    score(input: ScoreInput): Float64Array {
      const [B, Hkv, T, D] = input.keys.shape;
      const { queries, numHeads: Hq } = input;
      if (!queries || Hq === undefined) {
        throw new TensorError(OP, 'needs queries [B, Hq, W, D] of the last W positions and numHeads (Hq)');
      }
      if (Hq % Hkv !== 0)
        throw new TensorError(OP, `numHeads ${Hq} is not a multiple of the ${Hkv} kv heads`);
      const W = queries.length / (B * Hq * D);
      if (!Number.isInteger(W) || W < 1 || W > T) {
        throw new TensorError(
          OP,
          `queries hold ${queries.length} values; expected [${B}, ${Hq}, W, ${D}] with W in [1, ${T}]`,
        );
      }
      const k = readF64(input.keys);
      const group = Hq / Hkv;
      const scale = 1 / Math.sqrt(D);
      // Gumbel(0, 1) = -log(-log u), one per (b, h, w, t); uniform draws are in (0, 1).
      const u = rng(o.seed)
        .fold(input.layer)
        .uniform(B * Hq * W * T);
      const out = new Float64Array(B * Hkv * T);
      const z = new Float64Array(T);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < Hq; h++) {
          const kb = (b * Hkv + Math.floor(h / group)) * T * D;
          const r = (b * Hkv + Math.floor(h / group)) * T;
          for (let w = 0; w < W; w++) {
            const tau = W === 1 ? o.tauInit : o.tauInit + ((o.tauEnd - o.tauInit) * w) / (W - 1);
            const qb = ((b * Hq + h) * W + w) * D;
            const last = T - W + w; // causal: query w sees positions 0..last
            const ub = ((b * Hq + h) * W + w) * T;
            let max = -Infinity;
            for (let t = 0; t <= last; t++) {
              let dot = 0;
              for (let e = 0; e < D; e++) dot += queries[qb + e] * k[kb + t * D + e];
              z[t] = (dot * scale - Math.log(-Math.log(u[ub + t]))) / tau;
              if (z[t] > max) max = z[t];
            }
            let sum = 0;
            for (let t = 0; t <= last; t++) sum += Math.exp(z[t] - max);
            for (let t = 0; t <= last; t++) out[r + t] += Math.exp(z[t] - max) / sum / group;
          }
        }
      const window = o.window ?? W;
      for (let r = 0; r < B * Hkv; r++)
        for (let t = Math.max(0, T - window); t < T; t++) out[r * T + t] = Infinity;
      return out;
    },
  };
}
