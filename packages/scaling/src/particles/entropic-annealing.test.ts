import { describe, expect, it } from 'vitest';
import { entropicAnnealing } from './entropic-annealing';

describe('entropicAnnealing', () => {
  it('raises T to (N/ESS)(1 − t/T_max) when the ESS collapses early, by hand', () => {
    const s = entropicAnnealing();
    // Weights [0.7, 0.1, 0.1, 0.1]: Σw² = 0.52, ESS = 1/0.52, ESS/N = 0.4808 < 0.5.
    const lw = Float64Array.from([0.7, 0.1, 0.1, 0.1], Math.log);
    expect(s({ step: 1, maxSteps: 10, logWeights: lw })).toBeCloseTo(4 * 0.52 * 0.9, 12);
    // Late (t/T_max >= 0.5) or diverse: T = 1.
    expect(s({ step: 5, maxSteps: 10, logWeights: lw })).toBe(1);
    expect(s({ step: 1, maxSteps: 10, logWeights: new Float64Array(4) })).toBe(1);
    // Never below 1: (N/ESS)(1 − t/T) = 2.08 × 0.55 = 1.144, and at t = 4.9 of 10 it is 1.0608.
    expect(s({ step: 4.9, maxSteps: 10, logWeights: lw })).toBeCloseTo(2.08 * 0.51, 12);
  });
});
