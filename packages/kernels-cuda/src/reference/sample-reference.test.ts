/**
 * The device sampler's reference against core-tensor's own categorical sampler (inverse CDF, f64):
 * with the same Philox stream, both must pick the same index, at several temperatures, on fresh
 * random logits; and the empirical frequencies over many uniforms match softmax(x / T).
 */
import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { sampleReference } from './sample-reference';

describe('sampleReference', () => {
  it('picks what core-tensor rng().categorical picks from the same uniform', () => {
    const logitsGen = rng(1403);
    for (let trial = 0; trial < 200; trial++) {
      const V = 2 + (trial % 50);
      const logits = Float64Array.from(logitsGen.normal(V), (x) => x * 3);
      if (trial % 7 === 0) logits[trial % V] = Number.NEGATIVE_INFINITY;
      const temperature = [0, 0.5, 1, 2][trial % 4];
      const seed = 9000 + trial;
      const u = rng(seed).uniform(1)[0];
      const want = rng(seed).categorical(logits, { temperature })[0];
      expect(sampleReference(logits, u, temperature)).toBe(want);
    }
  });

  it('has the softmax(x / T) frequencies (chi-square, 5 categories, 20000 draws, p > 0.001)', () => {
    const logits = [1.5, 0.2, -0.7, 0.9, -2];
    const T = 0.8;
    const w = logits.map((x) => Math.exp(x / T));
    const z = w.reduce((a, b) => a + b);
    const n = 20000;
    const counts = new Array(5).fill(0);
    const u = rng(1404).uniform(n);
    for (let i = 0; i < n; i++) counts[sampleReference(logits, u[i], T)]++;
    const chi2 = counts.reduce((acc, c, j) => acc + (c - (n * w[j]) / z) ** 2 / ((n * w[j]) / z), 0);
    expect(chi2).toBeLessThan(18.47); // chi-square 0.999 quantile with 4 degrees of freedom
  });

  it('temperature 0 is the argmax, first index on ties; -Infinity is never picked', () => {
    expect(sampleReference([1, 3, 3, 2], 0.99, 0)).toBe(1);
    const logits = [Number.NEGATIVE_INFINITY, 0, Number.NEGATIVE_INFINITY];
    for (const u of [0, 0.5, 0.999999]) expect(sampleReference(logits, u, 1)).toBe(1);
    expect(() => sampleReference([1, 2], 1, 1)).toThrow(/u must be in \[0, 1\)/);
  });
});
