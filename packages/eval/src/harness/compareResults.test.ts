import { describe, expect, it } from 'vitest';
import { syntheticResult } from '../testing/syntheticBenchmark.js';
import { compareResults, formatComparison } from './compareResults.js';

describe('compareResults', () => {
  it('two runs of the same benchmark are unchanged (within the noise band)', async () => {
    const a = await syntheticResult({ seed: 1 });
    const b = await syntheticResult({ seed: 2 });
    const cmp = compareResults(a, b);
    expect(cmp.regressions).toBe(0);
    expect(cmp.cases.map((c) => c.status)).toEqual(['unchanged', 'unchanged']);
    expect(cmp.cases[0]!.band).toBeGreaterThanOrEqual(0.05);
  });

  it('flags a speed-up drop beyond the band, and an improvement', async () => {
    const before = await syntheticResult({ factor: 2 });
    const slower = await syntheticResult({ factor: 1.2 });
    const cmp = compareResults(before, slower);
    expect(cmp.regressions).toBe(2);
    expect(cmp.cases[0]!.status).toBe('regression');
    expect(cmp.cases[0]!.change).toBeCloseTo(1.2 / 2 - 1, 1);
    expect(formatComparison(cmp)).toMatch(
      /REGRESSION +sum: speed-up [12]\.\d+× → 1\.\d+× \(-\d+\.\d%, band ±\d+\.\d%\)/,
    );
    expect(compareResults(slower, before).cases[0]!.status).toBe('improvement');
  });

  it('flags a quality check that stops passing, and new/removed cases', async () => {
    const before = await syntheticResult();
    const after = await syntheticResult({ failQuality: true });
    const cmp = compareResults(before, after);
    expect(cmp.cases[0]).toMatchObject({ status: 'regression', qualityBefore: true, qualityAfter: false });
    const renamed = { ...after, cases: [{ ...after.cases[1]!, name: 'copy2' }] };
    const statuses = compareResults(before, renamed).cases.map((c) => `${c.name}:${c.status}`);
    expect(statuses).toEqual(['copy2:new', 'sum:removed', 'copy:removed']);
  });

  it('a wide minimum band absorbs the drop', async () => {
    const cmp = compareResults(await syntheticResult({ factor: 2 }), await syntheticResult({ factor: 1.8 }), {
      minBand: 0.5,
    });
    expect(cmp.regressions).toBe(0);
    expect(() => compareResults(cmp as never, cmp as never, { minBand: 2 })).toThrow(/options\.minBand/);
  });

  it('same machine: a method that got slower with its baseline is a regression the speed-up hides', async () => {
    const before = await syntheticResult({ baselineMs: 4, seed: 1 });
    const after = await syntheticResult({ baselineMs: 6, seed: 2 }); // both sides 1.5x slower
    const cmp = compareResults(before, after);
    expect(cmp.sameMachine).toBe(true);
    expect(cmp.regressions).toBe(2);
    const sum = cmp.cases[0]!;
    expect(Math.abs(sum.change!)).toBeLessThan(sum.band!); // the speed-up alone is unchanged
    expect(sum.methodTime!.ratio).toBeCloseTo(4 / 6, 1);
    expect(sum.methodTime!.high).toBeLessThan(1);
    expect(formatComparison(cmp)).toMatch(
      /REGRESSION +sum: closed form time \d\.\d+ ms → 3\.\d+ ms \(\+\d+\.\d%, 95% CI of the time ratio/,
    );
    // The reverse is an improvement; on another machine absolute times are not compared at all.
    expect(compareResults(after, before).cases.map((c) => c.status)).toEqual(['improvement', 'improvement']);
    const elsewhere = { ...after, environment: { ...after.environment, cpu: 'Other CPU' } };
    const cross = compareResults(before, elsewhere);
    expect(cross.sameMachine).toBe(false);
    expect(cross.regressions).toBe(0);
    expect(cross.cases[0]!.methodTime).toBeNull();
    expect(formatComparison(cross)).toContain('different machines: speed-ups only');
  });

  it('validates both results', async () => {
    const ok = await syntheticResult();
    expect(() => compareResults({ ...ok, cases: 'none' } as never, ok)).toThrow(
      /compareResults: baseline: not a valid hasten\.bench\/1 result: cases/,
    );
  });
});
