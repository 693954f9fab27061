import { coverageCurve, createRng, defineBenchmark, defineCase, passAtK } from '../src/index.js';

// pass@k: the numerically stable product form against the textbook ratio of binomials in exact BigInt
// arithmetic, over every k for a batch of problems with n = 200 samples. Quality: max absolute error.
// The report also plots the batch's coverage curve (mean pass@k against the sample budget k).

const n = 200;
const rng = createRng(7);
const problems = Array.from({ length: 16 }, () => rng.int(n + 1));

function binom(a: number, k: number): bigint {
  if (k < 0 || k > a) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(a - k + i)) / BigInt(i);
  return r;
}

function exact(): Float64Array {
  const out = new Float64Array(problems.length * n);
  problems.forEach((c, p) => {
    for (let k = 1; k <= n; k++) {
      const ratio = (binom(n - c, k) << 64n) / binom(n, k);
      out[p * n + k - 1] = 1 - Number(ratio) / 2 ** 64;
    }
  });
  return out;
}

function stable(): Float64Array {
  const out = new Float64Array(problems.length * n);
  problems.forEach((c, p) => {
    for (let k = 1; k <= n; k++) out[p * n + k - 1] = passAtK(n, c, k);
  });
  return out;
}

export default defineBenchmark({
  package: 'eval',
  name: 'pass-at-k',
  description: `Unbiased pass@k for 16 problems x every k in 1..${n} (n = ${n}): stable product vs exact BigInt binomials.`,
  warmup: 1,
  repeats: 10,
  series: () => [
    {
      kind: 'accuracy-vs-budget',
      name: 'coverage',
      title: `Coverage of the ${problems.length} problems against the sample budget`,
      xLabel: 'samples k',
      yLabel: 'coverage (mean pass@k)',
      lines: [
        {
          label: `unbiased pass@k, n = ${n}`,
          points: coverageCurve(problems.map((c) => ({ n, c }))).map((p) => ({ x: p.k, y: p.coverage })),
        },
      ],
    },
  ],
  cases: [
    defineCase({
      name: `n=${n}, all k`,
      baselineLabel: 'BigInt binomials',
      methodLabel: 'stable product',
      baseline: exact,
      method: stable,
      work: { amount: problems.length * n, unit: 'evals' },
      quality: (a: Float64Array, b: Float64Array) => {
        let max = 0;
        for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
        return { metric: 'max abs error', value: max, pass: max <= 1e-12, threshold: '<= 1e-12' };
      },
    }),
  ],
});
