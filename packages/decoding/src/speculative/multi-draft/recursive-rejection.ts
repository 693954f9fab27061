/**
 * @file Recursive rejection sampling (RRS) over k drafts at one position: SpecInfer's multi-step
 * speculative sampling (Miao et al., arXiv 2305.09781) for i.i.d. drafts, and its without-
 * replacement form (Yang et al., arXiv 2401.06706; Jeon et al., arXiv 2402.14160).
 *
 * With p_1 = p and q_1 = q, draft i (x) is accepted iff q_i(x) > 0, p_i(x) > 0 and
 * p_i(x) / q_i(x) >= u_i; after a rejection the target becomes the residual
 *   p_{i+1} = normalize(max(p_i - q_i, 0)),
 * and the proposal q_{i+1} = q_i ('iid' drafts) or q_i with x zeroed and renormalised
 * ('without-replacement' drafts). If every draft is rejected, the token ~ p_{k+1}. Each step is
 * single-draft speculative sampling of p_i with proposal q_i, and the residual does not depend on
 * which token was rejected, so by induction the token ~ p exactly. A rejected token has no residual
 * mass left, so the output equals a draft only when that draft was accepted.
 *
 * The drafts must have been drawn under the scheme given (draft-sampling.ts); the rule is exact only
 * then. Random stream: `rng.uniform(k)`, then one categorical sample if every draft is rejected.
 */
import { sampleWeights } from '../distributions';
import { inputError } from '../errors';
import { type MultiDraftInput, type MultiDraftResult, parseMultiDraft, result } from './input';

const WHERE = 'verifyRecursiveRejection';

export interface RecursiveRejectionInput extends MultiDraftInput {
  /** How the drafts were drawn: 'iid' (default) or 'without-replacement'. */
  scheme?: 'iid' | 'without-replacement';
}

export function verifyRecursiveRejection(input: RecursiveRejectionInput): MultiDraftResult {
  const { scheme = 'iid', ...rest } = input ?? ({} as RecursiveRejectionInput);
  if (scheme !== 'iid' && scheme !== 'without-replacement') {
    throw inputError(WHERE, `'scheme' must be 'iid' or 'without-replacement', got '${scheme}'`);
  }
  const { p, q, drafts, gen } = parseMultiDraft(WHERE, rest);
  const u = gen.uniform(drafts.length);
  const vocab = p.length;
  for (let i = 0; i < drafts.length; i++) {
    const x = drafts[i];
    if (q[x] > 0 && p[x] > 0 && p[x] / q[x] >= u[i]) return result(x, drafts);
    // p <- normalize(max(p - q, 0)); with no mass left (p = q up to rounding) p is kept.
    let mass = 0;
    for (let j = 0; j < vocab; j++) mass += Math.max(p[j] - q[j], 0);
    if (mass > 0) for (let j = 0; j < vocab; j++) p[j] = Math.max(p[j] - q[j], 0) / mass;
    if (scheme === 'without-replacement') {
      const qx = q[x];
      if (qx < 1) {
        q[x] = 0;
        for (let j = 0; j < vocab; j++) q[j] /= 1 - qx;
      }
    }
  }
  return result(sampleWeights(gen, p), drafts);
}
