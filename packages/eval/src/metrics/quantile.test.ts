import { describe, expect, it } from 'vitest';
import { median, quantile } from './quantile.js';

describe('quantile (type 7, as numpy.percentile)', () => {
  it('matches numpy on a small sample', () => {
    const xs = [7, 1, 3, 9, 5];
    // numpy.percentile([7,1,3,9,5], [0, 25, 50, 90, 100]) -> 1, 3, 5, 8.2, 9
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 0.25)).toBe(3);
    expect(quantile(xs, 0.5)).toBe(5);
    expect(quantile(xs, 0.9)).toBeCloseTo(8.2, 12);
    expect(quantile(xs, 1)).toBe(9);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('rejects bad input', () => {
    expect(() => quantile([], 0.5)).toThrow(/values must have at least 1/);
    expect(() => quantile([1], 1.5)).toThrow(/q must be in \[0, 1\]/);
    expect(() => median([1, Number.NaN])).toThrow(/values\[1\]/);
  });
});
