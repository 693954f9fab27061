/**
 * @file The optimal acceptance rate of multi-draft speculative decoding at one position (Hu et al.,
 * "Towards Optimal Multi-draft Speculative Decoding", arXiv 2502.18779): the largest probability,
 * over all verifiers whose output is exactly p, that the output equals one of the k drafts.
 *
 * It is the optimal transport between the target p and the draft-set distribution Q with the
 * membership cost, a max-flow (drafts -> tokens they contain -> sink with capacity p). Its dual, a
 * min cut, is the subset-selection form the paper works with:
 *
 *   alpha* = min over A subset of V of [ p(A) + 1 - Q(every draft is in A) ].
 *
 * Computed here for the three schemes of draft-sampling.ts:
 * - 'iid': Q(all in A) = q(A)^k, so alpha* = 1 - max_A (q(A)^k - p(A)). With g(s) = s^k convex, an
 *   exchange argument shows an optimal A takes the tokens of largest q/p first (a member y and a
 *   non-member x of an optimal A satisfy p(y)/q(y) <= g'(q(A)) <= p(x)/q(x), and among tied ratios
 *   the objective is concave in the mass taken, so all or none), so the prefixes of that order
 *   suffice: O(V log V), any vocabulary size.
 * - 'without-replacement': Q(all in A) summed over the exact distribution of the drawn set, built by
 *   a dynamic program over subsets (P[S] = sum over x in S of P[S \ x] q(x) / (1 - q(S \ x))), then a
 *   subset-sum (zeta) transform and the minimum over all 2^V subsets: O(2^V V), V <= 20.
 * - 'greedy': with T the k-1 fixed top tokens and q' = q on R = V \ T renormalised, the minimum is
 *   at A = T plus the tokens of R where q' > p, giving alpha* = p(T) + sum_{y in R} min(p(y), q'(y)).
 *   If q has no mass on R, all k drafts are fixed and alpha* = p(top k).
 * k = 1 gives sum_y min(p(y), q(y)) (1 - total variation) for every scheme; p = q gives 1.
 */
import { normalized, type ProbRow } from '../distributions';
import { inputError } from '../errors';
import { type DraftScheme, tokensByProbability } from './draft-sampling';

const WHERE = 'optimalAcceptance';
/** Largest vocabulary for the exhaustive 'without-replacement' computation (2^20 subsets). */
export const MAX_SUBSET_VOCAB = 20;

export interface OptimalAcceptanceOptions {
  /** How the k drafts are drawn from q (default 'iid'). */
  drafts?: DraftScheme;
}

export function optimalAcceptance(
  target: ProbRow,
  draft: ProbRow,
  k: number,
  options: OptimalAcceptanceOptions = {},
): number {
  const scheme = options.drafts ?? 'iid';
  const p = normalized(WHERE, target, 'p');
  const q = normalized(WHERE, draft, 'q');
  if (p.length !== q.length) throw inputError(WHERE, `p has ${p.length} entries but q has ${q.length}`);
  if (!Number.isInteger(k) || k < 1) throw inputError(WHERE, `k must be an integer >= 1, got ${k}`);
  if (scheme === 'iid') return iid(p, q, k);
  if (scheme === 'without-replacement') return withoutReplacement(p, q, k);
  if (scheme === 'greedy') return greedy(p, q, k);
  throw inputError(WHERE, `'drafts' must be 'iid', 'without-replacement' or 'greedy', got '${scheme}'`);
}

function iid(p: Float64Array, q: Float64Array, k: number): number {
  // Ratio q/p, descending: p = 0 first (+Infinity), q = 0 last; both 0 never changes the objective.
  const ratio = (j: number) => (p[j] > 0 ? q[j] / p[j] : q[j] > 0 ? Number.POSITIVE_INFINITY : 0);
  const order = Array.from({ length: p.length }, (_, j) => j).sort((a, b) => ratio(b) - ratio(a));
  let best = 0; // A = empty set
  let pA = 0;
  let qA = 0;
  for (const j of order) {
    pA += p[j];
    qA += q[j];
    best = Math.max(best, Math.min(qA, 1) ** k - pA);
  }
  return clamp01(1 - best);
}

function withoutReplacement(p: Float64Array, q: Float64Array, k: number): number {
  const v = p.length;
  if (v > MAX_SUBSET_VOCAB) {
    throw inputError(
      WHERE,
      `'without-replacement' is computed over all subsets; vocabulary ${v} > ${MAX_SUBSET_VOCAB}`,
    );
  }
  const size = 1 << v;
  const support = q.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
  const draws = Math.min(k, support);
  // reach[S]: probability that the first |S| drafts are exactly the set S.
  const reach = new Float64Array(size);
  const qMass = new Float64Array(size);
  const popcount = new Uint8Array(size);
  reach[0] = 1;
  const final = new Float64Array(size);
  for (let s = 1; s < size; s++) {
    const low = s & -s;
    const bit = 31 - Math.clz32(low);
    qMass[s] = qMass[s ^ low] + q[bit];
    popcount[s] = popcount[s ^ low] + 1;
    if (popcount[s] > draws) continue;
    let r = 0;
    for (let j = 0; j < v; j++) {
      if (!(s & (1 << j)) || !(q[j] > 0)) continue;
      const prev = s ^ (1 << j);
      const left = 1 - qMass[prev];
      if (reach[prev] > 0 && left > 0) r += (reach[prev] * q[j]) / left;
    }
    reach[s] = r;
    if (popcount[s] === draws) final[s] = r;
  }
  if (draws === 0) final[0] = 1;
  // final[A] <- Q(the drawn set is a subset of A) (zeta transform over subsets).
  for (let j = 0; j < v; j++) {
    const b = 1 << j;
    for (let s = 0; s < size; s++) if (s & b) final[s] += final[s ^ b];
  }
  let best = Number.POSITIVE_INFINITY;
  const pMass = new Float64Array(size);
  for (let s = 0; s < size; s++) {
    if (s > 0) {
      const low = s & -s;
      pMass[s] = pMass[s ^ low] + p[31 - Math.clz32(low)];
    }
    best = Math.min(best, pMass[s] + 1 - Math.min(final[s], 1));
  }
  return clamp01(best);
}

function greedy(p: Float64Array, q: Float64Array, k: number): number {
  if (k > p.length) throw inputError(WHERE, `greedy drafting needs k <= vocabulary size ${p.length}`);
  const order = tokensByProbability(q);
  const inT = new Uint8Array(p.length);
  let pT = 0;
  for (const t of order.slice(0, k - 1)) {
    inT[t] = 1;
    pT += p[t];
  }
  let qR = 0;
  for (let j = 0; j < q.length; j++) if (!inT[j]) qR += q[j];
  if (!(qR > 0)) return clamp01(pT + p[order[k - 1]]);
  let overlap = 0;
  for (let j = 0; j < p.length; j++) if (!inT[j]) overlap += Math.min(p[j], q[j] / qR);
  return clamp01(pT + overlap);
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
