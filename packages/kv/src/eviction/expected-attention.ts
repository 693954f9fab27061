/**
 * @file Expected Attention (Devoto et al., NVIDIA kvpress, arXiv:2510.00636): score each cached key by
 * the attention that FUTURE queries are expected to give it. Queries are modelled as Gaussian,
 * q ~ N(μ, Σ) per head, estimated here from the supplied window of recent queries; for such q,
 * E[exp(q·k/√d)] = exp(μ·k/√d + kᵀΣk/(2d)). The future queries sit at positions the keys have not
 * seen yet, so μ and Σ are first brought back to position 0 (inverse RoPE at each query's own
 * position) and then moved by R̄, the RoPE map AVERAGED over the next `futurePositions` positions
 * (kvpress's `n_future_positions`, default 512): μ' = R̄μ, Σ' = R̄ΣR̄ᵀ. Then, as kvpress computes it:
 *   score[t] = softmax_t(μ'·k_t/√d + k_tᵀΣ'k_t/(2d)) · ‖v_t‖₂   (use_vnorm),
 * averaged over the query heads of a kv head (GQA), and the first `sinks` positions (kvpress:
 * n_sink = 4) always kept. kvpress estimates μ, Σ from the prefill hidden states times W_q; the
 * window of post-RoPE queries that our ScoreInput carries gives the same statistics once un-rotated.
 * RoPE pairs dimensions i and i + d/2 (rotate_half), as core-tensor's `rope` does.
 */
import { parseOptionsWith, RopeScaling, ropeInvFreq, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { readF64, type ScoreInput, type ScorePolicy } from './scorer';

export const ExpectedAttentionOptions = z.strictObject({
  /** The model's RoPE base (config `rope_theta`). */
  ropeTheta: z.number().positive(),
  /** The model's RoPE scaling (config `rope_scaling`), if any. */
  ropeScaling: RopeScaling.optional(),
  /** How many future positions the averaged rotation R̄ covers (kvpress default 512). */
  futurePositions: z.number().int().positive().default(512),
  /** First positions always kept (attention sinks; kvpress n_sink = 4). */
  sinks: z.number().int().nonnegative().default(4),
  /** Multiply by ‖v‖₂ (kvpress use_vnorm, default true). */
  useValueNorm: z.boolean().default(true),
});
export type ExpectedAttentionOptions = z.input<typeof ExpectedAttentionOptions>;

const OP = 'expectedAttention';

export function expectedAttention(opts: ExpectedAttentionOptions): ScorePolicy {
  const o = parseOptionsWith(ExpectedAttentionOptions, opts, (p) => new TensorError(OP, p));
  return {
    name: 'expected-attention',
    needsQueries: true,
    score(input: ScoreInput): Float64Array {
      const [B, Hkv, T, D] = input.keys.shape;
      const { queries, numHeads: Hq } = input;
      if (!queries || Hq === undefined) {
        throw new TensorError(OP, 'needs queries [B, Hq, W, D] of the last W positions and numHeads (Hq)');
      }
      if (Hq % Hkv !== 0)
        throw new TensorError(OP, `numHeads ${Hq} is not a multiple of the ${Hkv} kv heads`);
      if (D % 2 !== 0) throw new TensorError(OP, `head dimension ${D} must be even (RoPE pairs)`);
      const W = queries.length / (B * Hq * D);
      if (!Number.isInteger(W) || W < 1 || W > T) {
        throw new TensorError(
          OP,
          `queries hold ${queries.length} values; expected [${B}, ${Hq}, W, ${D}] with W in [1, ${T}]`,
        );
      }
      const half = D / 2;
      const invFreq = ropeInvFreq(D, { theta: o.ropeTheta, scaling: o.ropeScaling });
      // Query w sits at cached slot T - W + w, true position + positionOffset.
      const first = T - W + (input.positionOffset ?? 0);
      // R̄ per pair i: mean over the next futurePositions positions of [[cos, -sin], [sin, cos]].
      const cBar = new Float64Array(half);
      const sBar = new Float64Array(half);
      const next = first + W;
      for (let i = 0; i < half; i++) {
        let c = 0;
        let s = 0;
        for (let p = next; p < next + o.futurePositions; p++) {
          c += Math.cos(p * invFreq[i]);
          s += Math.sin(p * invFreq[i]);
        }
        cBar[i] = c / o.futurePositions;
        sBar[i] = s / o.futurePositions;
      }
      const k = readF64(input.keys);
      const v = readF64(input.values);
      const group = Hq / Hkv;
      const out = new Float64Array(B * Hkv * T);
      const pre = new Float64Array(W * D);
      const mu = new Float64Array(D);
      const sigma = new Float64Array(D * D);
      const muF = new Float64Array(D);
      const sigF = new Float64Array(D * D);
      const tmp = new Float64Array(D * D);
      const logits = new Float64Array(T);
      // R̄ applied to a vector x (row r of the result): pair (i, i + half).
      const rbar = (x: (j: number) => number, r: number): number =>
        r < half
          ? cBar[r] * x(r) - sBar[r] * x(r + half)
          : sBar[r - half] * x(r - half) + cBar[r - half] * x(r);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < Hq; h++) {
          // Un-rotate each query to position 0: R(-p).
          for (let w = 0; w < W; w++) {
            const qb = ((b * Hq + h) * W + w) * D;
            const p = first + w;
            for (let i = 0; i < half; i++) {
              const c = Math.cos(p * invFreq[i]);
              const s = Math.sin(p * invFreq[i]);
              const x0 = queries[qb + i];
              const x1 = queries[qb + i + half];
              pre[w * D + i] = x0 * c + x1 * s;
              pre[w * D + i + half] = x1 * c - x0 * s;
            }
          }
          mu.fill(0);
          for (let w = 0; w < W; w++) for (let e = 0; e < D; e++) mu[e] += pre[w * D + e] / W;
          sigma.fill(0); // population covariance (1/W): defined for W = 1 too
          for (let w = 0; w < W; w++)
            for (let e = 0; e < D; e++) {
              const de = pre[w * D + e] - mu[e];
              for (let f = 0; f < D; f++) sigma[e * D + f] += (de * (pre[w * D + f] - mu[f])) / W;
            }
          for (let r = 0; r < D; r++) muF[r] = rbar((j) => mu[j], r);
          // tmp = R̄ Σ (columns), sigF = tmp R̄ᵀ (rows of tmp through R̄).
          for (let col = 0; col < D; col++)
            for (let r = 0; r < D; r++) tmp[r * D + col] = rbar((j) => sigma[j * D + col], r);
          for (let r = 0; r < D; r++)
            for (let col = 0; col < D; col++) sigF[r * D + col] = rbar((j) => tmp[r * D + j], col);
          const kb = (b * Hkv + Math.floor(h / group)) * T * D;
          let max = -Infinity;
          for (let t = 0; t < T; t++) {
            const kt = kb + t * D;
            let lin = 0;
            let quad = 0;
            for (let e = 0; e < D; e++) {
              lin += muF[e] * k[kt + e];
              let row = 0;
              for (let f = 0; f < D; f++) row += sigF[e * D + f] * k[kt + f];
              quad += k[kt + e] * row;
            }
            logits[t] = lin / Math.sqrt(D) + quad / (2 * D);
            if (logits[t] > max) max = logits[t];
          }
          let z = 0;
          for (let t = 0; t < T; t++) z += Math.exp(logits[t] - max);
          const r = (b * Hkv + Math.floor(h / group)) * T;
          for (let t = 0; t < T; t++) {
            let vn = 1;
            if (o.useValueNorm) {
              vn = 0;
              for (let e = 0; e < D; e++) vn += v[kb + t * D + e] ** 2;
              vn = Math.sqrt(vn);
            }
            out[r + t] += ((Math.exp(logits[t] - max) / z) * vn) / group;
          }
        }
      for (let r = 0; r < B * Hkv; r++)
        for (let t = 0; t < Math.min(o.sinks, T); t++) out[r * T + t] = Infinity;
      return out;
    },
  };
}
