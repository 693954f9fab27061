import { describe, expect, it } from 'vitest';
import { betaProbabilityLeaderIsBest, betaShouldStop, topTwoCounts } from './beta-stopping-rule';
import { doublingCheckpoints, supermajorityReached } from './supermajority-stopping-rule';

/** P(X > 1/2) for X ~ Beta(a, b) by the midpoint rule on the density (a readable reference). */
function betaTailByQuadrature(a: number, b: number): number {
  const steps = 200000;
  let num = 0;
  let all = 0;
  for (let i = 0; i < steps; i++) {
    const x = (i + 0.5) / steps;
    const f = x ** (a - 1) * (1 - x) ** (b - 1);
    all += f;
    if (x > 0.5) num += f;
  }
  return num / all;
}

describe('Beta stopping rule', () => {
  it('gives P(leader is best) by hand and against quadrature of the Beta density', () => {
    // v1 = 3, v2 = 1: P(Bin(5, 1/2) <= 3) = 1 − 6/32.
    expect(betaProbabilityLeaderIsBest(3, 1)).toBeCloseTo(26 / 32, 14);
    expect(betaProbabilityLeaderIsBest(0, 0)).toBeCloseTo(0.5, 14);
    for (const [v1, v2] of [
      [5, 2],
      [9, 7],
      [12, 3],
      [1, 0],
    ]) {
      expect(betaProbabilityLeaderIsBest(v1, v2)).toBeCloseTo(betaTailByQuadrature(v1 + 1, v2 + 1), 6);
    }
  });

  it('stops after 4 unanimous votes at 0.95 (1 − 2^-5 = 0.969; 3 votes give 0.9375)', () => {
    expect(betaShouldStop(['7', '7', '7'])).toBe(false);
    expect(betaShouldStop(['7', '7', '7', '7'])).toBe(true);
    expect(topTwoCounts(['a', 'b', 'a', 'c', 'b', 'a'])).toEqual([3, 2]);
  });

  it('supermajority rule and doubling checkpoints', () => {
    expect(supermajorityReached(['a', 'a', 'a', 'b'])).toBe(true);
    expect(supermajorityReached(['a', 'a', 'b', 'b'])).toBe(false);
    expect(doublingCheckpoints(10)).toEqual([2, 4, 8, 10]);
    expect(doublingCheckpoints(8)).toEqual([2, 4, 8]);
    expect(doublingCheckpoints(1)).toEqual([1]);
  });
});
