import {
  createRng,
  defineBenchmark,
  defineCase,
  type FeatureStatistics,
  featureStatistics,
  frechetDistanceFromStatistics,
  type Series,
} from '../src/index.js';
import { matmul, symmetrize, trace } from '../src/linalg/matrix.js';
import { newtonSchulzSqrt } from '../src/linalg/newtonSchulzSqrt.js';

// Fréchet distance on classifier-like features: the reference Jacobi eigendecomposition against
// Householder + implicit symmetric QR (same maths, fewer flops) and against Newton–Schulz (matrix products only).
// The statistics are computed once; what is timed is the matrix-square-root part of the distance.
// Quality: relative difference of the distance from the Jacobi reference.

/** Correlated Gaussian features (n > d, so covariances are full rank), the second set shifted and rescaled. */
function featurePair(d: number, seed: number): [FeatureStatistics, FeatureStatistics] {
  const rng = createRng(seed);
  const n = 2 * d + 64;
  const mix = Float64Array.from({ length: d * d }, () => rng.normal() / Math.sqrt(d));
  const sample = (shift: number, scale: number) =>
    Array.from({ length: n }, () => {
      const z = Float64Array.from({ length: d }, () => rng.normal());
      const row = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = shift + 0.3 * z[i]!;
        for (let k = 0; k < d; k++) s += mix[i * d + k]! * z[k]!;
        row[i] = scale * s;
      }
      return row;
    });
  return [featureStatistics(sample(0, 1)), featureStatistics(sample(0.1, 1.1))];
}

const relErr = (ref: number, v: number) => Math.abs(v - ref) / Math.abs(ref);

function fdCase(d: number, method: 'tridiagonal-qr' | 'newton-schulz', repeats: number, tolerance: number) {
  const [a, b] = featurePair(d, d);
  return defineCase({
    name: `d=${d} ${method}`,
    baselineLabel: 'jacobi',
    methodLabel: method,
    warmup: 1,
    repeats,
    baseline: () => frechetDistanceFromStatistics(a, b, { method: 'jacobi' }),
    method: () => frechetDistanceFromStatistics(a, b, { method }),
    quality: (ref: number, v: number) => ({
      metric: 'relative error vs Jacobi',
      value: relErr(ref, v),
      pass: relErr(ref, v) <= tolerance,
      threshold: `<= ${tolerance.toExponential(0)}`,
    }),
  });
}

/** Newton–Schulz with a fixed number of iterations: accuracy against steps. */
function nsConvergence(): Series[] {
  const steps = [4, 6, 8, 10, 12, 14, 16, 20, 24];
  const lines = [64, 128].map((d) => {
    const [a, b] = featurePair(d, d);
    const ref = frechetDistanceFromStatistics(a, b);
    let meanTerm = 0;
    for (let i = 0; i < d; i++) meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
    return {
      label: `d=${d}`,
      points: steps.map((iterations) => {
        const r = newtonSchulzSqrt(a.cov, d, { iterations }).sqrt;
        const m = symmetrize(matmul(matmul(r, b.cov, d), r, d), d);
        const tr = trace(newtonSchulzSqrt(m, d, { iterations }).sqrt, d);
        const fd = meanTerm + trace(a.cov, d) + trace(b.cov, d) - 2 * tr;
        return { x: iterations, y: Math.max(relErr(ref, fd), 1e-16) };
      }),
    };
  });
  return [
    {
      kind: 'quality-vs-steps',
      name: 'newton-schulz-error',
      title: 'Newton–Schulz Fréchet distance: relative error against iterations',
      xLabel: 'Newton–Schulz iterations (each square root)',
      yLabel: 'relative error vs Jacobi',
      yScale: 'log',
      lines,
    },
  ];
}

export default defineBenchmark({
  package: 'eval',
  name: 'frechet',
  description:
    'Fréchet distance from precomputed feature statistics (n = 2d + 64 samples): the matrix-square-root ' +
    'methods against the Jacobi reference, all float64 on the CPU.',
  warmup: 1,
  repeats: 8,
  cases: [
    fdCase(64, 'tridiagonal-qr', 10, 1e-9),
    fdCase(128, 'tridiagonal-qr', 8, 1e-9),
    fdCase(256, 'tridiagonal-qr', 5, 1e-9),
    fdCase(64, 'newton-schulz', 8, 1e-6),
  ],
  series: nsConvergence,
  environment: { backend: 'cpu (plain TypeScript, float64)' },
});
