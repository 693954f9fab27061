import { z } from 'zod';
import { type FeatureMatrix, type FeatureStatistics, featureStatistics } from '../linalg/covariance.js';
import { matmul, symmetrize, trace } from '../linalg/matrix.js';
import { type NewtonSchulzOptions, newtonSchulzSqrt } from '../linalg/newtonSchulzSqrt.js';
import { type SymmetricEigenMethod, sqrtPsd, symmetricEigen } from '../linalg/sqrtPsd.js';
import { fail, finiteResult, parseOptions } from '../util/check.js';

// Fréchet distance between Gaussians fitted to two feature sets (Dowson & Landau 1982; as FID, Heusel
// et al., arXiv 1706.08500, reference implementation mseitzer/pytorch-fid `calculate_frechet_distance`):
//   FD = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})
// The features come from a given network (for images: our glyph classifier's penultimate layer).
// Both square roots are taken in float64 on symmetric matrices:
//   method 'jacobi' (default, the reference): S1^{1/2} from a cyclic-Jacobi eigendecomposition, then the
//     eigenvalues of the symmetric PSD matrix S1^{1/2} S2 S1^{1/2}: tr sqrt = sum sqrt(max(lambda, 0)).
//   method 'tridiagonal-qr': the same with Householder tridiagonalisation + implicit symmetric QR
//     (Golub & Van Loan §8.3), several times faster at equal accuracy (see bench/).
//   method 'newton-schulz': both square roots by coupled Newton–Schulz, matrix products only (the form
//     that suits GPUs); needs full-rank covariances (more samples than feature dims) and throws otherwise.

const fdOptions = z
  .object({
    method: z.enum(['jacobi', 'tridiagonal-qr', 'newton-schulz']).default('jacobi'),
    /** Newton–Schulz: stop when ||ZY - I||_F / sqrt(n) falls below this. */
    tolerance: z.number().positive().default(1e-10),
    maxIterations: z.number().int().min(1).default(100),
  })
  .strict();
export type FrechetOptions = z.input<typeof fdOptions>;

/** Fréchet distance between two feature sets (rows = samples). */
export function frechetDistance(a: FeatureMatrix, b: FeatureMatrix, options: FrechetOptions = {}): number {
  return frechetDistanceFromStatistics(featureStatistics(a), featureStatistics(b), options);
}

/** Fréchet distance from precomputed statistics (cache the reference set's once). */
export function frechetDistanceFromStatistics(
  s1: Pick<FeatureStatistics, 'mean' | 'cov'>,
  s2: Pick<FeatureStatistics, 'mean' | 'cov'>,
  options: FrechetOptions = {},
): number {
  const where = 'frechetDistance';
  const opts = parseOptions(fdOptions, options, where);
  const n = s1.mean.length;
  if (s2.mean.length !== n) fail(where, 'b', `has ${s2.mean.length} feature dims, a has ${n}`);
  if (s1.cov.length !== n * n) fail(where, 'a.cov', `must be ${n}x${n}`);
  if (s2.cov.length !== n * n) fail(where, 'b.cov', `must be ${n}x${n}`);
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += (s1.mean[i]! - s2.mean[i]!) ** 2;
  const c1 = Float64Array.from(s1.cov);
  const c2 = Float64Array.from(s2.cov);
  const trSqrt =
    opts.method === 'newton-schulz'
      ? traceSqrtProductNs(c1, c2, n, { tolerance: opts.tolerance, maxIterations: opts.maxIterations })
      : traceSqrtProductEigen(c1, c2, n, opts.method);
  // Rounding can leave a tiny negative value for identical sets; anything beyond that is a real error.
  const fd = meanTerm + trace(c1, n) + trace(c2, n) - 2 * trSqrt;
  const scale = trace(c1, n) + trace(c2, n) + meanTerm;
  return finiteResult(where, fd < 0 && fd > -1e-9 * Math.max(scale, 1) ? 0 : fd, 'distance');
}

/** tr sqrt(S1^{1/2} S2 S1^{1/2}) via two symmetric eigendecompositions. */
export function traceSqrtProductEigen(
  c1: Float64Array,
  c2: Float64Array,
  n: number,
  method: SymmetricEigenMethod = 'jacobi',
): number {
  const r = sqrtPsd(c1, n, method);
  const m = symmetrize(matmul(matmul(r, c2, n), r, n), n);
  const { values } = symmetricEigen(m, n, method, false);
  let t = 0;
  for (const v of values) t += Math.sqrt(Math.max(v, 0));
  return t;
}

/** tr sqrt(S1^{1/2} S2 S1^{1/2}) with both square roots by coupled Newton–Schulz (symmetric, so stable). */
export function traceSqrtProductNs(
  c1: Float64Array,
  c2: Float64Array,
  n: number,
  opts: NewtonSchulzOptions = {},
): number {
  const r = newtonSchulzSqrt(c1, n, opts).sqrt;
  const m = symmetrize(matmul(matmul(r, c2, n), r, n), n);
  return trace(newtonSchulzSqrt(m, n, opts).sqrt, n);
}
