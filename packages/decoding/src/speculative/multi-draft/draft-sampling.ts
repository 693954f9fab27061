/**
 * @file How k drafts for one position are drawn from the draft distribution q; each multi-draft
 * verifier assumes one of these schemes (the optimal acceptance rate depends on it, Hu et al.,
 * arXiv 2502.18779):
 *
 * - 'iid': k independent samples of q (with replacement; SpecInfer arXiv 2305.09781, SpecTr arXiv
 *   2310.15141). Random stream: one categorical draw of n = k.
 * - 'without-replacement': draft i ~ q with drafts 0..i-1 removed and renormalised (Jeon et al.,
 *   arXiv 2402.14160; Yang et al., arXiv 2401.06706). Stops early when q's support is exhausted.
 *   Random stream: one categorical sample per draft.
 * - 'greedy' (Hu et al., arXiv 2502.18779, greedy draft sampling): drafts 0..k-2 are the k-1 most
 *   likely tokens of q (ties: lower id first), deterministically; the last draft ~ q restricted to
 *   the other tokens, renormalised. If q puts no mass outside the top k-1, the last draft is the
 *   next most likely token and nothing is random. Random stream: at most one categorical sample.
 */
import type { Philox } from '@hasten/core-tensor';
import { normalized, type ProbRow, sampleWeights } from '../distributions';
import { inputError } from '../errors';

export type DraftScheme = 'iid' | 'without-replacement' | 'greedy';

const WHERE = 'sampleDrafts';

/** Token ids ordered by q descending, ties by id (the order greedy drafting takes them in). */
export function tokensByProbability(q: ArrayLike<number>): number[] {
  return Array.from({ length: q.length }, (_, j) => j).sort((a, b) => q[b] - q[a] || a - b);
}

/** k drafts from `q` (non-negative weights) under `scheme`. */
export function sampleDrafts(q: ProbRow, k: number, gen: Philox, scheme: DraftScheme = 'iid'): number[] {
  if (!Number.isInteger(k) || k < 1) throw inputError(WHERE, `k must be an integer >= 1, got ${k}`);
  const probs = normalized(WHERE, q, 'q');
  if (scheme === 'iid') return Array.from(gen.categorical(probs, { probs: true, n: k }));
  if (scheme === 'without-replacement') {
    const w = Float64Array.from(probs);
    const drafts: number[] = [];
    for (let i = 0; i < k && w.some((x) => x > 0); i++) {
      const x = sampleWeights(gen, w);
      drafts.push(x);
      w[x] = 0;
    }
    return drafts;
  }
  if (scheme !== 'greedy') {
    throw inputError(WHERE, `scheme must be 'iid', 'without-replacement' or 'greedy', got '${scheme}'`);
  }
  if (k > probs.length) throw inputError(WHERE, `greedy drafting needs k <= vocabulary size ${probs.length}`);
  const order = tokensByProbability(probs);
  const drafts = order.slice(0, k - 1);
  const rest = Float64Array.from(probs);
  for (const t of drafts) rest[t] = 0;
  drafts.push(rest.some((x) => x > 0) ? sampleWeights(gen, rest) : order[k - 1]);
  return drafts;
}
