import { describe, expect, it } from 'vitest';
import { createRng } from '../util/seededRng.js';
import { klDivergence, klDivergenceFromSamples } from './klDivergence.js';

describe('klDivergence (discrete)', () => {
  it('known values', () => {
    // KL([1/2, 1/2] || [1/4, 3/4]) = 1/2 ln 2 + 1/2 ln(2/3)
    expect(klDivergence([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 15);
    expect(klDivergence([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])).toBe(0);
    expect(klDivergence([1, 0], [0.5, 0.5])).toBeCloseTo(Math.log(2), 15);
    expect(klDivergence([0.5, 0.5], [1, 0])).toBe(Infinity);
  });

  it('published worked example: Binomial(2, 0.4) against uniform on {0, 1, 2}', () => {
    // Wikipedia, "Kullback–Leibler divergence", Basic example: P = (9, 12, 4) / 25, Q = 1/3 each gives
    // KL(P || Q) = 0.0852996 and KL(Q || P) = 0.097455 nats.
    const p = [9 / 25, 12 / 25, 4 / 25];
    const q = [1 / 3, 1 / 3, 1 / 3];
    expect(klDivergence(p, q)).toBeCloseTo(0.0852996, 7);
    expect(klDivergence(q, p)).toBeCloseTo(0.097455, 6);
  });

  it('rejects vectors that are not distributions', () => {
    expect(() => klDivergence([0.5, 0.6], [0.5, 0.5])).toThrow(/p must sum to 1/);
    expect(() => klDivergence([1.5, -0.5], [0.5, 0.5])).toThrow('klDivergence: p[1] must be >= 0 (got -0.5)');
  });
});

describe('klDivergenceFromSamples (kNN estimator)', () => {
  const rng = createRng(8);
  const sample = (n: number, mu: number[], sd: number[]) =>
    Array.from({ length: n }, () => mu.map((m, j) => m + sd[j]! * rng.normal()));

  it('estimates KL(N(0,1) || N(1,1)) = 0.5', () => {
    const kl = klDivergenceFromSamples(sample(1500, [0], [1]), sample(1500, [1], [1]));
    expect(kl).toBeGreaterThan(0.4);
    expect(kl).toBeLessThan(0.6);
  });

  it('estimates a 2-D Gaussian KL with different scales (closed form 0.5 * sum(s^2 - 1 - ln s^2))', () => {
    // KL(N(0, I) || N(0, diag(4, 1))) = 0.5 * (1/4 - 1 + ln 4)
    const expected = 0.5 * (0.25 - 1 + Math.log(4));
    const kl = klDivergenceFromSamples(sample(1500, [0, 0], [1, 1]), sample(1500, [0, 0], [2, 1]), { k: 3 });
    expect(Math.abs(kl - expected)).toBeLessThan(0.08);
  });

  it('is near zero for samples of the same distribution', () => {
    const kl = klDivergenceFromSamples(sample(1000, [0], [1]), sample(1000, [0], [1]));
    expect(Math.abs(kl)).toBeLessThan(0.08);
  });

  it('rejects duplicates and mismatched dimensions', () => {
    expect(() => klDivergenceFromSamples([[1], [1], [2]], [[0], [3]])).toThrow(/duplicate samples/);
    expect(() => klDivergenceFromSamples([[1], [2]], [[0, 1]])).toThrow(/y has dimension 2, x has 1/);
  });
});
