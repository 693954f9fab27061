import { describe, expect, it } from 'vitest';
import { coverageCurve, outcomesFromSamples } from './coverageCurve.js';
import { passAtK } from './passAtK.js';

describe('coverageCurve', () => {
  it('averages pass@k over problems at power-of-two budgets', () => {
    const problems = [
      { n: 8, c: 0 },
      { n: 8, c: 1 },
      { n: 8, c: 8 },
    ];
    const curve = coverageCurve(problems);
    expect(curve.map((p) => p.k)).toEqual([1, 2, 4, 8]);
    expect(curve[0]!.coverage).toBeCloseTo((0 + 1 / 8 + 1) / 3, 15);
    expect(curve[3]!.coverage).toBeCloseTo(2 / 3, 15);
    for (let i = 1; i < curve.length; i++)
      expect(curve[i]!.coverage).toBeGreaterThanOrEqual(curve[i - 1]!.coverage);
    expect(coverageCurve(problems, [3])[0]!.coverage).toBeCloseTo((passAtK(8, 1, 3) + 1) / 3, 15);
  });

  it('builds outcomes from correctness lists and rejects k above n', () => {
    expect(outcomesFromSamples([[true, false, true], [false]])).toEqual([
      { n: 3, c: 2 },
      { n: 1, c: 0 },
    ]);
    expect(() => coverageCurve([{ n: 4, c: 1 }], [5])).toThrow(
      'coverageCurve: ks[0] must be in [1, 4] (got 5)',
    );
  });
});
