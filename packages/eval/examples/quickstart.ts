import { defineCase, formatResultTable, frechetDistance, passAtK, runBenchmark } from '@hasten/eval';

console.log(passAtK(200, 13, 10)); // 0.4976 (unbiased, Chen et al. 2021)

const a = [
  [0.1, 1.2],
  [0.4, 0.9],
  [0.3, 1.5],
  [0.2, 1.1],
];
const b = a.map(([x, y]) => [x! + 1, y!]);
console.log(frechetDistance(a, b)); // 1 (up to rounding): the squared mean shift, the covariances are equal

const data = Float64Array.from({ length: 100_000 }, Math.random);
const result = await runBenchmark({
  package: 'demo',
  name: 'sum',
  cases: [
    defineCase({
      name: 'sum of squares',
      baselineLabel: 'reduce',
      methodLabel: 'for loop',
      baseline: () => data.reduce((s, v) => s + v * v, 0),
      method: () => {
        let s = 0;
        for (let i = 0; i < data.length; i++) s += data[i]! * data[i]!;
        return s;
      },
      quality: (x: number, y: number) => ({
        metric: 'relative error',
        value: Math.abs(x - y) / x,
        pass: Math.abs(x - y) / x < 1e-12,
        threshold: '< 1e-12',
      }),
    }),
  ],
});
console.log(formatResultTable(result));
