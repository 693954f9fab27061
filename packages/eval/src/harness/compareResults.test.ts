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
});
