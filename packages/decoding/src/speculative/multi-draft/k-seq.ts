/**
 * @file K-SEQ draft selection of SpecTr (Sun et al., arXiv 2310.15141) for k i.i.d. drafts of q at
 * one position: a (1 - 1/e)-approximation of the optimal transport plan in O(V) per step.
 *
 * With a division factor rho in [1, k] and beta(rho) = sum_y min(q(y), p(y) / rho):
 * - draft i (x) is accepted iff p(x) / (rho q(x)) >= u_i, trying i = 0, 1, ... in order;
 * - if none is, the token ~ p_res(y) proportional to p(y) - min(q(y), p(y) / rho) (1 - (1 - beta)^k) / beta.
 * A token y is accepted at some draft with probability min(q(y), p(y)/rho) (1 - (1-beta)^k) / beta,
 * so the output is p exactly whenever p_res >= 0, i.e. whenever 1 - (1 - beta)^k <= rho beta. The
 * left side falls and the right side grows with rho, and rho = k always qualifies (Bernoulli's
 * inequality), so the smallest such rho (highest acceptance 1 - (1 - beta)^k) is found by bisection.
 * The rule above is derived here from the paper's description (the stored corpus held only its
 * abstract); the tests check that the output is exactly p and the acceptance never beats the optimum.
 *
 * Random stream: `rng.uniform(k)`, then one categorical sample if every draft is rejected.
 */
import { sampleWeights } from '../distributions';
import { type MultiDraftInput, type MultiDraftResult, parseMultiDraft, result } from './input';

const WHERE = 'verifyKSeq';

function beta(p: Float64Array, q: Float64Array, rho: number): number {
  let b = 0;
  for (let j = 0; j < p.length; j++) b += Math.min(q[j], p[j] / rho);
  return b;
}

/** The smallest division factor rho in [1, k] for which K-SEQ's residual is a distribution. */
export function kSeqRho(p: Float64Array, q: Float64Array, k: number): number {
  // The tolerance absorbs rounding (p = q gives beta = 1 - 1e-16 at rho = 1); a residual entry it
  // lets go negative by ~1e-12 is clamped to 0.
  const feasible = (rho: number) => {
    const b = beta(p, q, rho);
    return 1 - (1 - b) ** k <= rho * b + 1e-12;
  };
  if (feasible(1)) return 1;
  let lo = 1;
  let hi = k;
  for (let it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
    const mid = 0.5 * (lo + hi);
    if (feasible(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

export function verifyKSeq(input: MultiDraftInput): MultiDraftResult {
  const { p, q, drafts, gen } = parseMultiDraft(WHERE, input);
  const k = drafts.length;
  const rho = kSeqRho(p, q, k);
  const u = gen.uniform(k);
  for (let i = 0; i < k; i++) {
    const x = drafts[i];
    if (q[x] > 0 && p[x] > 0 && p[x] / (rho * q[x]) >= u[i]) return result(x, drafts);
  }
  const b = beta(p, q, rho);
  const scale = b > 0 ? (1 - (1 - b) ** k) / b : 0;
  const residual = new Float64Array(p.length);
  let mass = 0;
  for (let j = 0; j < p.length; j++) {
    residual[j] = Math.max(p[j] - Math.min(q[j], p[j] / rho) * scale, 0);
    mass += residual[j];
  }
  // No residual mass only when acceptance is certain up to rounding; p itself is then exact.
  return result(sampleWeights(gen, mass > 0 ? residual : p), drafts);
}
