/**
 * @file The verifier for greedy draft sampling (Hu et al., "Towards Optimal Multi-draft
 * Speculative Decoding", arXiv 2502.18779): drafts 0..k-2 are the top tokens T of q, fixed; the last
 * draft x ~ q' = q restricted to R = V \ T, renormalised (draft-sampling.ts, scheme 'greedy').
 *
 * Rule (derived here from the optimal-transport dual; the paper's own algorithm text was not
 * available in the stored corpus, only its abstract and claim that a verifier attains the bound):
 * accept x iff q'(x) > 0, p(x) > 0 and p(x) / q'(x) >= u; otherwise emit a sample of the residual
 *   r(y) = p(y) for y in T,  r(y) = max(p(y) - q'(y), 0) for y in R.
 * Token y in R is emitted with probability min(p, q')(y) + (1 - sum_R min(p, q')) r(y) / |r| = p(y)
 * (|r| = p(T) + sum_R (p - q')^+ = 1 - sum_R min(p, q')), and likewise p(y) for y in T, so the
 * output is exactly p. It equals a draft with probability p(T) + sum_R min(p(y), q'(y)), which is
 * the optimal acceptance rate for this draft distribution (optimal-acceptance.ts), so no verifier
 * can do better. When q has no mass on R, every draft is fixed and the token is simply ~ p.
 *
 * Random stream: `rng.uniform(1)`, then one categorical sample unless x is accepted.
 */
import { sampleWeights } from '../distributions';
import { inputError } from '../errors';
import { type MultiDraftInput, type MultiDraftResult, parseMultiDraft, result } from './input';

const WHERE = 'verifyGreedyDrafts';

export function verifyGreedyDrafts(input: MultiDraftInput): MultiDraftResult {
  const { p, q, drafts, gen } = parseMultiDraft(WHERE, input);
  const k = drafts.length;
  const fixed = drafts.slice(0, k - 1);
  const x = drafts[k - 1];
  if (fixed.includes(x)) {
    throw inputError(WHERE, `the last draft ${x} repeats a fixed draft; greedy drafts are distinct`);
  }
  const inT = new Uint8Array(p.length);
  for (const t of fixed) inT[t] = 1;
  let qR = 0;
  for (let j = 0; j < q.length; j++) if (!inT[j]) qR += q[j];
  const u = gen.uniform(1)[0];
  if (!(qR > 0)) return result(sampleWeights(gen, p), drafts);
  const qx = q[x] / qR;
  if (qx > 0 && p[x] > 0 && p[x] / qx >= u) return result(x, drafts);
  const residual = new Float64Array(p.length);
  for (let j = 0; j < p.length; j++) residual[j] = inT[j] ? p[j] : Math.max(p[j] - q[j] / qR, 0);
  return result(sampleWeights(gen, residual), drafts);
}
