import { z } from 'zod';
import { fail, parseOptions } from '../util/check.js';
import { symmetrize } from './matrix.js';

// Symmetric eigendecomposition by the cyclic Jacobi method (Jacobi 1846; Golub & Van Loan, "Matrix
// Computations", 4th ed., §8.5; rotation formulas as in Numerical Recipes `jacobi`). Each rotation zeroes
// one off-diagonal pair; sweeps converge quadratically. Slower than Householder + QR, but short, exact
// to float64 rounding, and it computes small eigenvalues to high relative accuracy, which is what the
// reference Fréchet distance needs.

export interface SymmetricEigen {
  /** Eigenvalues (unsorted, in the order of the vectors). */
  values: Float64Array;
  /** Eigenvectors as ROWS: vectors[i*n .. i*n+n) is the eigenvector of values[i]. */
  vectors: Float64Array;
  /** Jacobi sweeps used (0 for methods without sweeps). */
  sweeps: number;
}

const jacobiOptions = z
  .object({
    /** Stop when the off-diagonal Frobenius norm is below tolerance times the matrix's. */
    tolerance: z.number().positive().default(1e-15),
    maxSweeps: z.number().int().min(1).default(60),
  })
  .strict();
export type JacobiOptions = z.input<typeof jacobiOptions>;

export function jacobiEigen(matrix: Float64Array, n: number, options: JacobiOptions = {}): SymmetricEigen {
  const { tolerance: tol, maxSweeps } = parseOptions(jacobiOptions, options, 'jacobiEigen');
  if (!Number.isInteger(n) || n < 1) fail('jacobiEigen', 'n', `must be an integer >= 1 (got ${n})`);
  if (matrix?.length !== n * n)
    fail('jacobiEigen', 'matrix', `must have n*n = ${n * n} entries (got ${matrix?.length})`);
  const a = symmetrize(Float64Array.from(matrix), n);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i]! * a[i]!;
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off <= tol * tol * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // Rows p and q (contiguous), then mirror into columns p and q: A <- J^T A J.
        const rp = p * n;
        const rq = q * n;
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const akp = a[rp + k]!;
          const akq = a[rq + k]!;
          const np = c * akp - s * akq;
          const nq = s * akp + c * akq;
          a[rp + k] = np;
          a[rq + k] = nq;
          a[k * n + p] = np;
          a[k * n + q] = nq;
        }
        a[rp + p] = app - t * apq;
        a[rq + q] = aqq + t * apq;
        a[rp + q] = 0;
        a[rq + p] = 0;
        // Eigenvectors are stored as rows so this update is contiguous too.
        for (let k = 0; k < n; k++) {
          const vp = v[rp + k]!;
          const vq = v[rq + k]!;
          v[rp + k] = c * vp - s * vq;
          v[rq + k] = s * vp + c * vq;
        }
      }
    }
  }
  if (sweeps === maxSweeps) fail('jacobiEigen', 'matrix', `did not converge in ${maxSweeps} sweeps`);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v, sweeps };
}
