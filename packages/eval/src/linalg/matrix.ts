// Dense square matrices as row-major Float64Array of n*n. Small helpers for the Fréchet distance; no
// BLAS, but the i-k-j loop order streams rows so V8 keeps it reasonably fast.

export function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** C = A B (n x n). `out` may be given to avoid an allocation; it must not alias A or B. */
export function matmul(
  a: Float64Array,
  b: Float64Array,
  n: number,
  out: Float64Array = new Float64Array(n * n),
): Float64Array {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ci + k]!;
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) out[ci + j]! += aik * b[bk + j]!;
    }
  }
  return out;
}

export function trace(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i]!;
  return t;
}

export function frobeniusNorm(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** In place: A <- (A + A^T) / 2, removing rounding asymmetry before a symmetric eigensolver. */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}
