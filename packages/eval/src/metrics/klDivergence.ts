import { z } from 'zod';
import { type FeatureMatrix, toRows } from '../linalg/covariance.js';
import { checkFiniteArray, fail, finiteResult, parseOptions } from '../util/check.js';

// Kullback–Leibler divergence KL(P || Q) in nats.
// Discrete: sum_i p_i log(p_i / q_i) (Cover & Thomas, "Elements of Information Theory", eq. 2.26);
// Infinity when q_i = 0 < p_i (P is not absolutely continuous w.r.t. Q), which is the honest answer.
// Samples (continuous, low-dimensional): the k-nearest-neighbour estimator of Wang, Kulkarni & Verdú
// (IEEE Trans. IT 55(5), 2009; also Pérez-Cruz, ISIT 2008):
//   KL ≈ (d/n) sum_i log(nu_k(i) / rho_k(i)) + log(m / (n - 1))
// where rho_k(i) is the distance from x_i to its k-th neighbour among the other x's and nu_k(i) to its
// k-th neighbour among the m y's. Consistent, no binning; brute force O(n (n + m) d), fine for a few
// thousand 1-3-D samples (e.g. Gaussian-mixture sampler checks).

export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const where = 'klDivergence';
  checkFiniteArray(where, 'p', p, { minLength: 1 });
  checkFiniteArray(where, 'q', q, { length: p.length });
  checkDistribution(where, 'p', p);
  checkDistribution(where, 'q', q);
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    if (q[i] === 0) return Infinity;
    kl += p[i]! * Math.log(p[i]! / q[i]!);
  }
  return Math.max(kl, 0);
}

function checkDistribution(where: string, field: string, p: ArrayLike<number>): void {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! < 0) fail(where, `${field}[${i}]`, `must be >= 0 (got ${p[i]})`);
    sum += p[i]!;
  }
  if (Math.abs(sum - 1) > 1e-6) fail(where, field, `must sum to 1 (got ${sum}); normalise it first`);
}

const knnOptions = z.object({ k: z.number().int().min(1).default(1) }).strict();
export type KlKnnOptions = z.input<typeof knnOptions>;

/** KL(P || Q) estimated from samples x ~ P and y ~ Q (rows = samples, same dimension). */
export function klDivergenceFromSamples(
  x: FeatureMatrix,
  y: FeatureMatrix,
  options: KlKnnOptions = {},
): number {
  const where = 'klDivergenceFromSamples';
  const { k } = parseOptions(knnOptions, options, where);
  const xs = toRows(where, 'x', x);
  const ys = toRows(where, 'y', y);
  if (xs.cols !== ys.cols) fail(where, 'y', `has dimension ${ys.cols}, x has ${xs.cols}`);
  const n = xs.rows;
  const m = ys.rows;
  const d = xs.cols;
  if (n < k + 1) fail(where, 'x', `needs more than k = ${k} samples (got ${n})`);
  if (m < k) fail(where, 'y', `needs at least k = ${k} samples (got ${m})`);
  let sumLog = 0;
  const within = new Float64Array(n - 1);
  const across = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    let w = 0;
    for (let j = 0; j < n; j++) if (j !== i) within[w++] = dist2(xs.data, i, xs.data, j, d);
    for (let j = 0; j < m; j++) across[j] = dist2(xs.data, i, ys.data, j, d);
    const rho = Math.sqrt(kthSmallest(within, k));
    const nu = Math.sqrt(kthSmallest(across, k));
    if (rho === 0)
      fail(where, 'x', `has duplicate samples (row ${i}); the kNN estimator needs distinct points`);
    if (nu === 0) fail(where, 'y', `contains x row ${i} exactly; the kNN estimator needs distinct points`);
    sumLog += Math.log(nu / rho);
  }
  return finiteResult(where, (d / n) * sumLog + Math.log(m / (n - 1)), 'estimate');
}

function dist2(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) {
    const diff = a[i * d + c]! - b[j * d + c]!;
    s += diff * diff;
  }
  return s;
}

/** k-th smallest (1-based): one pass keeping the k smallest in a sorted buffer (k is small). */
function kthSmallest(values: Float64Array, k: number): number {
  const best = new Float64Array(k).fill(Infinity);
  for (const v of values) {
    if (v >= best[k - 1]!) continue;
    let i = k - 1;
    while (i > 0 && best[i - 1]! > v) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = v;
  }
  return best[k - 1]!;
}
