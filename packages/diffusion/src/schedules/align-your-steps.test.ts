import { describe, expect, it } from 'vitest';
import { AYS_SCHEDULES, alignYourSteps, loglinearInterp } from './align-your-steps';

describe('Align Your Steps', () => {
  it('returns the presets at 10 steps and interpolates log-linearly otherwise', () => {
    expect([...alignYourSteps('StableDiffusionTimesteps', 10)]).toEqual([
      999, 850, 736, 645, 545, 455, 343, 233, 124, 24,
    ]);
    const s20 = alignYourSteps('StableDiffusionXLSigmas', 20);
    expect(s20.length).toBe(21);
    expect(s20[0]).toBeCloseTo(14.615, 12);
    expect(s20[19]).toBeCloseTo(0.113, 12);
    expect(s20[20]).toBe(0);
    // every other point of a 19-point interpolation of 10 values is an original value; between them the geometric mean
    const p = AYS_SCHEDULES.StableDiffusionXLSigmas.slice(0, 10);
    const i19 = loglinearInterp(p, 19);
    expect(i19[2]).toBeCloseTo(p[1], 12);
    expect(i19[3]).toBeCloseTo(Math.sqrt(p[1] * p[2]), 12);
    expect(() => loglinearInterp([1, 0], 5)).toThrow(/positive/);
  });
});
