import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { LCMScheduler } from './lcm';

describe('LCMScheduler', () => {
  it("builds LCM's skipping-step timesteps", () => {
    const s = new LCMScheduler();
    s.setTimesteps(4);
    expect([...s.timesteps]).toEqual([999, 759, 499, 259]); // the familiar 4-step LCM schedule
    s.setTimesteps(1);
    expect([...s.timesteps]).toEqual([999]);
    expect(() => s.setTimesteps(60)).toThrow(/originalInferenceSteps/);
  });

  it('steps by the consistency parameterisation, re-noising except after the last step', () => {
    const s = new LCMScheduler();
    s.setTimesteps(4);
    const g = rng(2);
    const [x, eps, z] = [g.normal(5), g.normal(5), g.normal(5)];
    const a = s.alphasCumprod;
    const t = 759;
    const cSkip = 0.25 / ((t * 10) ** 2 + 0.25);
    const cOut = (t * 10) / Math.sqrt((t * 10) ** 2 + 0.25);
    const fresh = new LCMScheduler();
    fresh.setTimesteps(4);
    fresh.step(eps, 999, x, { noise: z });
    const out = fresh.step(eps, t, x, { noise: z });
    for (let k = 0; k < 5; k++) {
      const d = cOut * ((x[k] - Math.sqrt(1 - a[t]) * eps[k]) / Math.sqrt(a[t])) + cSkip * x[k];
      expect(out.predOriginalSample?.[k]).toBeCloseTo(d, 12);
      expect(out.prevSample[k]).toBeCloseTo(Math.sqrt(a[499]) * d + Math.sqrt(1 - a[499]) * z[k], 12);
    }
    fresh.step(eps, 499, x, { noise: z });
    const final = fresh.step(eps, 259, x);
    expect([...final.prevSample]).toEqual([...(final.predOriginalSample as Float64Array)]);
  });
});
