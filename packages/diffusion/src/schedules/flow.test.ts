import { describe, expect, it } from 'vitest';
import { calculateShift, shiftSigma, stretchShiftToTerminal, timeShiftExponential } from './flow';

describe('flow-matching shifts', () => {
  it('static shift, exponential time shift and the FLUX mu line', () => {
    expect(shiftSigma(0.5, 3)).toBeCloseTo(0.75, 14);
    expect(shiftSigma(0.2, 1)).toBe(0.2);
    expect(timeShiftExponential(0, 0.3)).toBeCloseTo(0.3, 14);
    expect(timeShiftExponential(Math.log(3), 0.5)).toBeCloseTo(shiftSigma(0.5, 3), 14); // e^μ = shift
    expect(calculateShift(256)).toBeCloseTo(0.5, 14);
    expect(calculateShift(4096)).toBeCloseTo(1.15, 14);
    const st = stretchShiftToTerminal(Float64Array.from([1, 0.6, 0.2]), 0.1);
    expect(st[2]).toBeCloseTo(0.1, 14);
    expect(st[0]).toBeCloseTo(1, 14);
  });
});
