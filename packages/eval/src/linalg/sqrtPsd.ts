import { jacobiEigen, type SymmetricEigen } from './jacobiEigen.js';
import { tridiagonalQrEigen } from './tridiagonalQrEigen.js';

export type SymmetricEigenMethod = 'jacobi' | 'tridiagonal-qr';

export function symmetricEigen(
  matrix: Float64Array,
  n: number,
  method: SymmetricEigenMethod,
  vectors = true,
): SymmetricEigen {
  return method === 'jacobi' ? jacobiEigen(matrix, n) : tridiagonalQrEigen(matrix, n, { vectors });
}

/** Principal square root V diag(sqrt(max(lambda, 0))) V^T of a symmetric PSD matrix. */
export function sqrtPsd(
  matrix: Float64Array,
  n: number,
  method: SymmetricEigenMethod = 'jacobi',
): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n, method);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(values[k]!, 0));
    if (s === 0) continue;
    const vk = k * n;
    for (let i = 0; i < n; i++) {
      const vi = vectors[vk + i]! * s;
      if (vi === 0) continue;
      const oi = i * n;
      for (let j = 0; j < n; j++) out[oi + j]! += vi * vectors[vk + j]!;
    }
  }
  // Exactly symmetric, as a square root of a symmetric matrix should be.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (out[i * n + j]! + out[j * n + i]!);
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}
