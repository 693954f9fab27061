import { defineBenchmark, defineCase } from '../harness/benchmark.js';
import { runBenchmark } from '../harness/runBenchmark.js';
import type { BenchResult, Environment } from '../harness/schema.js';
import { createRng } from '../util/seededRng.js';

// Test helpers (not exported from the package): a fake clock, so the harness can be tested with exact
// timings and no wall-clock assertions, and a synthetic benchmark built on it.

export function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export const testEnvironment: Environment = {
  runtime: 'node v0-test',
  platform: 'test x64',
  cpu: 'Test CPU',
  cores: 2,
  memoryGiB: 4,
  backend: 'cpu',
  adapter: null,
  versions: { '@hasten/eval': '0.0.0' },
  gitCommit: '0123456789abcdef0123456789abcdef01234567',
  gitDirty: false,
};

/** A benchmark whose method costs baselineMs / factor per call (± 5% seeded jitter). */
export async function syntheticResult(
  options: {
    factor?: number;
    baselineMs?: number;
    seed?: number;
    bench?: string;
    failQuality?: boolean;
  } = {},
): Promise<BenchResult> {
  const clock = fakeClock();
  const rng = createRng(options.seed ?? 0);
  const factor = options.factor ?? 2;
  const base = options.baselineMs ?? 4;
  const jitter = () => 1 + 0.05 * (rng.next() - 0.5);
  /** Advances the fake clock by `ms` and returns `out`: a call that "takes" ms. */
  const take = <T>(ms: number, out: T): T => {
    clock.advance(ms);
    return out;
  };
  const def = defineBenchmark({
    package: 'synthetic',
    name: options.bench ?? 'toy',
    cases: [
      defineCase({
        name: 'sum',
        baselineLabel: 'loop',
        methodLabel: 'closed form',
        baseline: () => take(base * jitter(), 5050),
        method: () => take((base / factor) * jitter(), options.failQuality ? 5051 : 5050),
        quality: (a: number, b: number) => ({
          metric: 'abs error',
          value: Math.abs(a - b),
          pass: a === b,
          threshold: '= 0',
        }),
        work: { amount: 100, unit: 'items' },
      }),
      defineCase({
        name: 'copy',
        baseline: () => take(2 * base * jitter(), [1, 2]),
        method: () => take(((2 * base) / (factor * 1.5)) * jitter(), [1, 2]),
        quality: (a: number[], b: number[]) => ({
          metric: 'identical',
          value: a.join() === b.join() ? 1 : 0,
          pass: true,
        }),
      }),
    ],
    warmup: 1,
    repeats: 9,
    series: [
      {
        kind: 'accuracy-vs-budget',
        name: 'coverage',
        title: 'Coverage against samples',
        xLabel: 'samples',
        yLabel: 'accuracy',
        lines: [
          { label: 'oracle', points: [1, 2, 4, 8, 16].map((x, i) => ({ x, y: 0.3 + 0.1 * i })) },
          {
            label: 'majority',
            points: [1, 2, 4, 8, 16].map((x, i) => ({
              x,
              y: 0.3 + 0.05 * i,
              low: 0.25 + 0.05 * i,
              high: 0.35 + 0.05 * i,
            })),
          },
        ],
      },
      {
        kind: 'quality-vs-steps',
        name: 'error-steps',
        title: 'Error against steps',
        xLabel: 'steps',
        yLabel: 'relative error',
        lines: [{ label: 'solver-x', points: [5, 10, 20].map((x) => ({ x, y: 1 / x })) }],
      },
    ],
  });
  return runBenchmark(def, {
    clock: clock.now,
    environment: testEnvironment,
    createdAt: new Date(Date.UTC(2025, 0, 2)),
  });
}
