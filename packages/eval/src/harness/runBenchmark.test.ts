import { describe, expect, it } from 'vitest';
import { fakeClock, syntheticResult, testEnvironment } from '../testing/syntheticBenchmark.js';
import { defineBenchmark, defineCase } from './benchmark.js';
import { runBenchmark } from './runBenchmark.js';
import { benchResultSchema, parseBenchResult, serializeBenchResult } from './schema.js';

describe('runBenchmark with a fake clock (exact timings, no wall-clock assertions)', () => {
  it('reports medians, spread, the speed-up with a CI, rates and quality', async () => {
    const r = await syntheticResult({ factor: 2 });
    expect(benchResultSchema.safeParse(r).success).toBe(true);
    const sum = r.cases[0]!;
    expect(sum.samples.baseline).toHaveLength(9);
    expect(sum.baseline.median).toBeGreaterThan(3.9);
    expect(sum.baseline.median).toBeLessThan(4.1);
    expect(sum.speedup.ratio).toBeGreaterThan(1.9);
    expect(sum.speedup.ratio).toBeLessThan(2.1);
    expect(sum.speedup.low).toBeLessThanOrEqual(sum.speedup.ratio);
    expect(sum.speedup.high).toBeGreaterThanOrEqual(sum.speedup.ratio);
    expect(sum.work!.baselinePerSecond).toBeCloseTo((100 * 1000) / sum.baseline.median, 9);
    expect(sum.quality).toEqual({ metric: 'abs error', value: 0, pass: true, threshold: '= 0' });
    expect([sum.baselineLabel, sum.methodLabel]).toEqual(['loop', 'closed form']);
    expect(r.cases[1]!.speedup.ratio).toBeCloseTo(3, 0);
    expect(r.series.map((s) => s.name)).toEqual(['coverage', 'error-steps']);
    expect(r.environment).toEqual(testEnvironment);
  });

  it('interleaves baseline and method (ABBA) after the warm-up, in one process', async () => {
    const calls: string[] = [];
    const clock = fakeClock();
    const progress: string[] = [];
    await runBenchmark(
      defineBenchmark({
        package: 'synthetic',
        name: 'order',
        warmup: 1,
        repeats: 4,
        cases: [
          {
            name: 'c',
            baseline: () => {
              calls.push('B');
              clock.advance(2);
            },
            method: () => {
              calls.push('M');
              clock.advance(1);
            },
          },
        ],
      }),
      { clock: clock.now, onProgress: (p) => progress.push(`${p.phase}:${p.done}/${p.total}`) },
    );
    expect(calls.join('')).toBe('BM' + 'BMMBBMMB');
    expect(progress).toEqual([
      'warmup:2/10',
      'measure:4/10',
      'measure:6/10',
      'measure:8/10',
      'measure:10/10',
      'quality:10/10',
    ]);
    const ab: string[] = [];
    await runBenchmark(
      {
        package: 'synthetic',
        name: 'order',
        warmup: 0,
        repeats: 3,
        interleave: 'ab',
        cases: [
          {
            name: 'c',
            baseline: () => {
              ab.push('B');
              clock.advance(1);
            },
            method: () => {
              ab.push('M');
              clock.advance(1);
            },
          },
        ],
      },
      { clock: clock.now },
    );
    expect(ab.join('')).toBe('BMBMBM');
  });

  it('sampleMs calibrates calls per sample per side; beforeSample runs untimed before each sample', async () => {
    const clock = fakeClock();
    const log: string[] = [];
    let calls = { B: 0, M: 0 };
    const r = await runBenchmark(
      defineBenchmark({
        package: 'synthetic',
        name: 'sample-ms',
        warmup: 1,
        repeats: 2,
        cases: [
          defineCase({
            name: 'fast calls',
            sampleMs: 10,
            batch: 3,
            baseline: () => {
              calls.B++;
              clock.advance(0.5);
              return 'b';
            },
            method: () => {
              calls.M++;
              clock.advance(0.2);
              return 'm';
            },
            beforeSample: (side, n) => {
              log.push(`${side}:${n}:${calls.B}/${calls.M}`);
              calls = { B: 0, M: 0 };
              clock.advance(100); // e.g. a pause for a spinning thread pool: never timed
            },
            quality: (b: string, m: string, timing) => ({
              metric: 'ms per call ratio',
              value: timing.baseline.median / timing.method.median,
              pass: b === 'b' && m === 'm' && timing.speedup.ratio > 1,
            }),
          }),
          defineCase({
            name: 'slow calls',
            sampleMs: 10,
            batch: 2,
            baseline: () => clock.advance(30),
            method: () => clock.advance(20),
          }),
        ],
      }),
      { clock: clock.now },
    );
    // Warm-up (1 + 1 call); calibration times 1, 2, 4, ... calls until they last sampleMs / 4 = 2.5 ms
    // (baseline 1 + 2 + 4 + 8, method 1 + 2 + 4 + 8 + 16), then ceil(10 / 0.5) = 20 and
    // ceil(10 / 0.2) = 50 calls per sample, ABBA; the hook sees what ran since the last sample.
    expect(log).toEqual(['baseline:20:16/32', 'method:50:20/0', 'method:50:0/50', 'baseline:20:0/50']);
    const fast = r.cases[0]!;
    expect(fast.callsPerSample).toEqual({ baseline: 20, method: 50 });
    // The fake clock adds in floating point: exact to ~1e-12.
    const rounded = (xs: number[]) => xs.map((x) => Number(x.toFixed(9)));
    expect(rounded(fast.samples.baseline)).toEqual([0.5, 0.5]);
    expect(rounded(fast.samples.method)).toEqual([0.2, 0.2]);
    expect(fast.quality!.value).toBeCloseTo(2.5, 9);
    expect(fast.quality!.pass).toBe(true);
    // Calls slower than sampleMs keep `batch`.
    expect(r.cases[1]!.callsPerSample).toEqual({ baseline: 2, method: 2 });
    expect(r.cases[1]!.samples.baseline).toEqual([30, 30]);
    // Without batch or sampleMs nothing is recorded, as before.
    const plain = await syntheticResult();
    expect(plain.cases[0]!.callsPerSample).toBeUndefined();
    await expect(
      runBenchmark(
        {
          package: 'p',
          name: 'x',
          warmup: 0,
          repeats: 1,
          cases: [{ name: 'a', sampleMs: 5, baseline: () => 1, method: () => clock.advance(1) }],
        },
        { clock: clock.now },
      ),
    ).rejects.toThrow(/case "a" baseline took no measurable time over 1048576 calls/);
    await expect(
      runBenchmark({
        package: 'p',
        name: 'x',
        cases: [{ name: 'a', sampleMs: 0, baseline: () => 1, method: () => 1 }],
      }),
    ).rejects.toThrow(/options\.cases\.0\.sampleMs/);
  });

  it('runs a real CPU workload end to end (structure only)', async () => {
    const n = 20000;
    const data = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
    const r = await runBenchmark(
      defineBenchmark({
        package: 'synthetic',
        name: 'cpu',
        warmup: 1,
        repeats: 3,
        cases: [
          defineCase({
            name: 'sum of squares',
            batch: 4,
            baseline: () => data.reduce((s, v) => s + v * v, 0),
            method: () => {
              let s = 0;
              for (let i = 0; i < n; i++) s += data[i]! * data[i]!;
              return s;
            },
            quality: (a: number, b: number) => ({
              metric: 'relative error',
              value: Math.abs(a - b) / a,
              pass: Math.abs(a - b) / a < 1e-12,
            }),
          }),
        ],
      }),
    );
    const c = r.cases[0]!;
    expect(c.samples.method).toHaveLength(3);
    expect(c.speedup.ratio).toBeGreaterThan(0);
    expect(c.quality!.pass).toBe(true);
    expect(r.environment.runtime).toMatch(/^node v/);
    expect(r.config).toMatchObject({ warmup: 1, repeats: 3, interleave: 'abba' });
  });

  it('images: resolved after the cases ran, kept in the result, checked; none = no field', async () => {
    const fn = () => 1;
    const made: string[] = [];
    const def = (images: unknown) =>
      defineBenchmark({
        package: 'synthetic',
        name: 'img',
        warmup: 0,
        repeats: 1,
        cases: [{ name: 'a', baseline: fn, method: () => made.push('ran') }],
        images: images as never,
      });
    const grid = { title: 'grid', path: 'bench-results/synthetic/grid.png' };
    // A function is called after the cases, so it can list the files the cases wrote.
    const r = await runBenchmark(def(() => (made.length > 0 ? [grid] : [])));
    expect(r.images).toEqual([grid]);
    expect(parseBenchResult(JSON.parse(serializeBenchResult(r))).images).toEqual([grid]);
    expect('images' in (await runBenchmark(def(undefined)))).toBe(false);
    await expect(runBenchmark(def([{ title: 'x', path: '../x.png' }]))).rejects.toThrow(
      /definition\.images is invalid \(images\.0\.path/,
    );
  });

  it('round-trips through JSON, including an infinite quality value', async () => {
    const r = await syntheticResult();
    r.cases[0]!.quality = { metric: 'PSNR (dB)', value: Infinity, pass: true };
    const back = parseBenchResult(JSON.parse(serializeBenchResult(r)));
    expect(back).toEqual(r);
  });

  it('rejects bad definitions with the field named', async () => {
    const fn = () => 1;
    await expect(
      runBenchmark({ package: 'Bad Name', name: 'x', cases: [{ name: 'a', baseline: fn, method: fn }] }),
    ).rejects.toThrow(/options\.package: must be a lower-case slug/);
    await expect(runBenchmark({ package: 'p', name: 'x', cases: [] })).rejects.toThrow(
      /options\.cases: must hold at least one case/,
    );
    await expect(
      runBenchmark({
        package: 'p',
        name: 'x',
        cases: [
          { name: 'a', baseline: fn, method: fn },
          { name: 'a', baseline: fn, method: fn },
        ],
      }),
    ).rejects.toThrow(/case names must be unique/);
    // Typos and unknown fields are errors, not silently ignored settings.
    await expect(
      runBenchmark({
        package: 'p',
        name: 'x',
        repeat: 3,
        cases: [{ name: 'a', baseline: fn, method: fn }],
      } as never),
    ).rejects.toThrow(/runBenchmark: invalid options: Unrecognized key.*"repeat"/);
    await expect(
      runBenchmark({
        package: 'p',
        name: 'x',
        cases: [{ name: 'a', baseline: fn, method: fn, qualty: fn }],
      } as never),
    ).rejects.toThrow(/options\.cases\.0: Unrecognized key.*"qualty"/);
    await expect(
      runBenchmark({
        package: 'p',
        name: 'x',
        cases: [{ name: 'a', baseline: fn, method: 'fast' as never }],
      }),
    ).rejects.toThrow(/options\.cases\.0\.method: must be a function/);
    await expect(
      runBenchmark({
        package: 'p',
        name: 'x',
        environment: { backend: 3 as never },
        cases: [{ name: 'a', baseline: fn, method: fn }],
      }),
    ).rejects.toThrow(/options\.environment\.backend/);
    await expect(
      runBenchmark(
        { package: 'p', name: 'x', cases: [{ name: 'a', baseline: fn, method: fn }] },
        { repeats: 0 },
      ),
    ).rejects.toThrow(/runBenchmark \(run options\): invalid options\.repeats/);
    const clock = fakeClock();
    await expect(
      runBenchmark(
        { package: 'p', name: 'x', warmup: 0, repeats: 1, cases: [{ name: 'a', baseline: fn, method: fn }] },
        { clock: clock.now },
      ),
    ).rejects.toThrow(/too fast for the clock; set case\.batch/);
    await expect(
      runBenchmark(
        {
          package: 'p',
          name: 'x',
          warmup: 0,
          repeats: 1,
          cases: [
            {
              name: 'a',
              baseline: () => clock.advance(1),
              method: () => clock.advance(1),
              quality: () => ({ metric: 'm' }) as never,
            },
          ],
        },
        { clock: clock.now },
      ),
    ).rejects.toThrow(/case "a" quality\(\) must return \{ metric, value, pass \}/);
  });
});
