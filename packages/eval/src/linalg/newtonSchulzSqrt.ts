import { z } from 'zod';
import { fail, parseOptions } from '../util/check.js';
import { frobeniusNorm, identity, matmul } from './matrix.js';

// Matrix square root by the coupled Newton–Schulz iteration (Higham, "Functions of Matrices", 2008,
// §6.7, eq. 6.35; used for FID on GPUs, e.g. POSTECH-CVLab/PyTorch-StudioGAN `sqrt_newton_schulz`, and
// in Lin & Maji, arXiv 1707.06772). With Y0 = A/||A||_F, Z0 = I:
//   T = (3I - Z Y) / 2,  Y <- Y T,  Z <- T Z,   Y -> sqrt(A/||A||_F),  Z -> its inverse.
// Only matrix products, so it maps onto fast matmul kernels; converges for matrices with positive real
// spectrum (such as a product of two positive-definite covariances). It cannot converge when A is
// singular (Z blows up on the null space), so a non-converged run throws instead of returning a guess.

const EIGEN_HINT = "use an eigendecomposition: frechetDistance method 'jacobi' or 'tridiagonal-qr'";

export interface NewtonSchulzResult {
  sqrt: Float64Array;
  iterations: number;
  /** ||Z Y - I||_F / sqrt(n) at exit (computed before the last update, so a bound on the error). */
  residual: number;
}

const nsOptions = z
  .object({
    /** Stop when ||Z Y - I||_F / sqrt(n) falls below this. */
    tolerance: z.number().positive().default(1e-10),
    maxIterations: z.number().int().min(1).default(100),
    /** Run exactly this many iterations and return whatever they give (for convergence plots). */
    iterations: z.number().int().min(0).optional(),
  })
  .strict();
export type NewtonSchulzOptions = z.input<typeof nsOptions>;

export function newtonSchulzSqrt(
  matrix: Float64Array,
  n: number,
  options: NewtonSchulzOptions = {},
): NewtonSchulzResult {
  const where = 'newtonSchulzSqrt';
  const opts = parseOptions(nsOptions, options, where);
  if (!Number.isInteger(n) || n < 1) fail(where, 'n', `must be an integer >= 1 (got ${n})`);
  if (matrix?.length !== n * n)
    fail(where, 'matrix', `must have n*n = ${n * n} entries (got ${matrix?.length})`);
  const tol = opts.tolerance;
  const fixed = opts.iterations;
  const maxIt = fixed ?? opts.maxIterations;
  const norm = frobeniusNorm(matrix);
  if (norm === 0) return { sqrt: new Float64Array(n * n), iterations: 0, residual: 0 };
  let y: Float64Array = Float64Array.from(matrix, (v) => v / norm);
  let z: Float64Array = identity(n);
  const t: Float64Array = new Float64Array(n * n);
  let y2: Float64Array = new Float64Array(n * n);
  let z2: Float64Array = new Float64Array(n * n);
  let residual = Infinity;
  let it = 0;
  for (; it < maxIt; it++) {
    matmul(z, y, n, t);
    let r = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const idx = i * n + j;
        const e = t[idx]! - (i === j ? 1 : 0);
        r += e * e;
        t[idx] = (i === j ? 1.5 : 0) - 0.5 * t[idx]!;
      }
    }
    const prev = residual;
    residual = Math.sqrt(r / n);
    if (!Number.isFinite(residual) || residual > 1e6) {
      fail(
        where,
        'matrix',
        `diverged at iteration ${it}; it is singular or not positive definite (${EIGEN_HINT})`,
      );
    }
    // Converged: below the tolerance, or at the rounding floor (small and no longer shrinking fast).
    if (fixed === undefined && (residual < tol || (residual < 1e-7 && residual > 0.5 * prev))) break;
    matmul(y, t, n, y2);
    matmul(t, z, n, z2);
    [y, y2] = [y2, y];
    [z, z2] = [z2, z];
  }
  if (fixed === undefined && !(residual < Math.max(tol, 1e-7))) {
    fail(
      where,
      'matrix',
      `did not converge in ${maxIt} iterations (residual ${residual.toExponential(2)}); it is singular or badly ` +
        `conditioned (${EIGEN_HINT})`,
    );
  }
  const s = Math.sqrt(norm);
  for (let i = 0; i < y.length; i++) y[i]! *= s;
  return { sqrt: y, iterations: it, residual };
}
