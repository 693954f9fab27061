import { describe, expect, it } from 'vitest';
import { createRng } from '../util/seededRng.js';
import { speedup } from './speedup.js';

describe('speedup with a bootstrap CI', () => {
  it('is the ratio of medians', () => {
    const s = speedup([10, 12, 11], [5, 6, 5.5]);
    expect(s.ratio).toBe(2);
    expect(s.paired).toBe(true);
    expect(s.low).toBeLessThanOrEqual(s.ratio);
    expect(s.high).toBeGreaterThanOrEqual(s.ratio);
  });

  it('covers the true ratio on synthetic log-normal timings (paired and unpaired)', () => {
    const rng = createRng(3);
    const drift = Array.from({ length: 40 }, (_, i) => 1 + 0.2 * Math.sin(i / 4)); // shared machine drift
    const base = drift.map((d) => 20 * d * Math.exp(0.1 * rng.normal()));
    const meth = drift.map((d) => 8 * d * Math.exp(0.1 * rng.normal()));
    const paired = speedup(base, meth, { seed: 1 });
    expect(paired.low).toBeLessThan(2.5);
    expect(paired.high).toBeGreaterThan(2.5);
    const unpaired = speedup(base, meth, { paired: false, seed: 1 });
    expect(unpaired.low).toBeLessThan(2.5);
    expect(unpaired.high).toBeGreaterThan(2.5);
    // Pairing removes the shared drift, so its interval is narrower.
    expect(paired.high - paired.low).toBeLessThan(unpaired.high - unpaired.low);
  });

  it('is deterministic for a seed', () => {
    const a = [3, 4, 5, 6, 7, 3.5];
    const b = [1, 2, 2.5, 1.5, 2, 3];
    expect(speedup(a, b, { seed: 9 })).toEqual(speedup(a, b, { seed: 9 }));
  });

  it('rejects bad input', () => {
    expect(() => speedup([1, 2], [1], { paired: true })).toThrow(
      /options\.paired: needs equal lengths|paired/,
    );
    expect(() => speedup([0, 1], [1, 1])).toThrow('speedup: baselineTimes[0] must be > 0 (got 0)');
    expect(() => speedup([1], [1], { confidence: 1 })).toThrow(/options\.confidence/);
  });
});
