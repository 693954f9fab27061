import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { compareWithOde, empiricalOrder } from '../testing/convergence';
import { absMean, absSum, dummyModel, dummySampleDeter } from '../testing/diffusers-dummy';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D } from '../testing/statistics';
import { PNDMScheduler, type PNDMSchedulerOptions } from './pndm';

// diffusers' full loop (tests/schedulers/test_scheduler_pndm.py): 1000 steps, linear betas
// 1e-4..0.02, 10 inference steps, the PRK warm-up then PLMS.
function fullLoop(config: PNDMSchedulerOptions = {}): Float64Array {
  const s = new PNDMScheduler({ betaStart: 0.0001, betaEnd: 0.02, ...config });
  s.setTimesteps(10);
  let x = dummySampleDeter();
  for (const t of s.timesteps) x = s.step(dummyModel(x, t), t, x).prevSample;
  return x;
}

describe('PNDMScheduler', () => {
  it("reproduces diffusers' full-loop sums and means", () => {
    const cases: [PNDMSchedulerOptions, number, number][] = [
      [{}, 198.1318, 0.258],
      [{ predictionType: 'v_prediction' }, 67.3986, 0.0878],
      [{ setAlphaToOne: true, betaStart: 0.01 }, 230.0399, 0.2995],
      [{ setAlphaToOne: false, betaStart: 0.01 }, 186.9482, 0.2434],
    ];
    for (const [cfg, sum, mean] of cases) {
      const x = fullLoop(cfg);
      expect(Math.abs(absSum(x) - sum)).toBeLessThan(1e-2);
      expect(Math.abs(absMean(x) - mean)).toBeLessThan(1e-3);
    }
  });

  it('builds the PRK and PLMS timesteps as diffusers does', () => {
    const s = new PNDMScheduler();
    s.setTimesteps(10);
    expect([...s.prkTimesteps]).toEqual([900, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600]);
    expect([...s.plmsTimesteps]).toEqual([600, 500, 400, 300, 200, 100, 0]);
    const skip = new PNDMScheduler({ skipPrkSteps: true });
    skip.setTimesteps(5);
    expect([...skip.timesteps]).toEqual([800, 600, 600, 400, 200, 0]);
  });

  it('PLMS (skipPrkSteps) converges to the exact ODE (measured order 1.7 on this grid)', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const z = rng(1).normal(16 * 2);
    // leading spacing over T = 1000 training steps, ending at ᾱ = 1 (setAlphaToOne)
    const steps = [25, 50, 100, 200];
    const errors = steps.map((n) => {
      const s = new PNDMScheduler({ skipPrkSteps: true, setAlphaToOne: true, stepsOffset: 1 });
      const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
      return compareWithOde(mix, s, den, 'vp', { steps: n }, z).rmse;
    });
    // PLMS works on ε in t (not in λ), whose derivative grows like 1/σ near the data: 1.7 here.
    expect(empiricalOrder(steps, errors)).toBeGreaterThan(1.4);
    expect(errors[3]).toBeLessThan(1e-4);
  });
});
