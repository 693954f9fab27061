import { describe, expect, it } from 'vitest';
import { effectiveSampleSize, effectiveSampleSizeOfLogWeights } from './effective-sample-size';

describe('effective sample size', () => {
  it('is N for uniform weights, 1 for one particle, 1/Σw² by hand', () => {
    expect(effectiveSampleSize([1, 1, 1, 1])).toBeCloseTo(4, 14);
    expect(effectiveSampleSize([0, 5, 0])).toBe(1);
    // w = [0.5, 0.25, 0.25]: Σw² = 0.375.
    expect(effectiveSampleSize([2, 1, 1])).toBeCloseTo(1 / 0.375, 14);
    expect(effectiveSampleSizeOfLogWeights([Math.log(2), 0, 0].map((v) => v - 700))).toBeCloseTo(
      1 / 0.375,
      12,
    );
  });
});
