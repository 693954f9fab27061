import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { logit, logSumExp, normalizeLogWeights, normalizeWeights } from './log-weights';

describe('log-weights', () => {
  it('logSumExp matches the naive sum on fresh random inputs, and stays finite far from 0', () => {
    const r = rng(11);
    for (let trial = 0; trial < 20; trial++) {
      const x = Array.from(r.normal(7), (v) => 3 * v);
      const naive = Math.log(x.reduce((s, v) => s + Math.exp(v), 0));
      expect(logSumExp(x)).toBeCloseTo(naive, 12);
      // Shifted by 1000 the naive sum overflows; log-sum-exp shifts exactly.
      expect(logSumExp(x.map((v) => v + 1000))).toBeCloseTo(naive + 1000, 9);
    }
    expect(logSumExp([Number.NEGATIVE_INFINITY, 0])).toBe(0);
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
    expect(() => logSumExp([0, Number.NaN])).toThrow(/index 1 is NaN/);
  });

  it('normalises log-weights to the softmax, with a temperature', () => {
    const w = normalizeLogWeights([Math.log(1), Math.log(3)]);
    expect(Array.from(w)).toEqual([0.25, 0.75].map((v) => expect.closeTo(v, 14)));
    // T = 2: p ∝ sqrt(1), sqrt(3).
    const t = normalizeLogWeights([0, Math.log(3)], 2);
    expect(t[1]).toBeCloseTo(Math.sqrt(3) / (1 + Math.sqrt(3)), 14);
    expect(() => normalizeLogWeights([Number.NEGATIVE_INFINITY])).toThrow(/every log-weight is -Infinity/);
    expect(() => normalizeLogWeights([0], 0)).toThrow(/temperature/);
  });

  it('normalizeWeights rejects negative, NaN and all-zero weights, naming the index', () => {
    expect(Array.from(normalizeWeights([1, 1, 2]))).toEqual([0.25, 0.25, 0.5]);
    expect(() => normalizeWeights([1, -1])).toThrow(/index 1 is -1/);
    expect(() => normalizeWeights([0, 0])).toThrow(/all weights are 0/);
  });

  it('logit inverts the sigmoid and clamps 0 and 1', () => {
    expect(logit(0.5)).toBe(0);
    expect(1 / (1 + Math.exp(-logit(0.8)))).toBeCloseTo(0.8, 14);
    expect(Number.isFinite(logit(1))).toBe(true);
    expect(logit(0)).toBeLessThan(-15);
    expect(() => logit(1.5)).toThrow(/\[0, 1\]/);
  });
});
