import { describe, expect, it } from 'vitest';
import { fixedTemperature } from './tempering-fixed';
import { linearTemperature } from './tempering-linear';

const at = (s: (i: { step: number; maxSteps: number; logWeights: Float64Array }) => number, step: number) =>
  s({ step, maxSteps: 10, logWeights: new Float64Array(2) });

describe('fixed and linear temperature schedules', () => {
  it('linear goes from `from` to `to` over `steps` steps, then stays', () => {
    const s = linearTemperature({ from: 2, to: 0.5, steps: 3 });
    expect([0, 1, 2, 3, 7].map((t) => at(s, t))).toEqual([2, 1.5, 1, 0.5, 0.5]);
    expect(at(fixedTemperature(0.7), 5)).toBe(0.7);
  });

  it('rejects bad options naming the field', () => {
    expect(() => linearTemperature({ from: 1, to: 0, steps: 3 })).toThrow(/option 'to'/);
    expect(() => linearTemperature({ from: 1, to: 1, steps: 3, extra: 1 } as never)).toThrow(
      /"extra".*allowed: from, to, steps/,
    );
    expect(() => fixedTemperature(-1)).toThrow(/> 0/);
  });
});
