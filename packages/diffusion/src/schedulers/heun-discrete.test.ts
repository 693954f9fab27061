import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { exponentialSigmas } from '../schedules/sigmas';
import { compareWithOde, empiricalOrder } from '../testing/convergence';
import { absMean, absSum, dummyModel, dummySampleDeter } from '../testing/diffusers-dummy';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D } from '../testing/statistics';
import { HeunDiscreteScheduler, type HeunDiscreteSchedulerOptions } from './heun-discrete';

// diffusers' full loop (tests/schedulers/test_scheduler_heun.py): 1100 training steps, 10 steps.
function fullLoop(config: HeunDiscreteSchedulerOptions = {}): Float64Array {
  const s = new HeunDiscreteScheduler({ numTrainTimesteps: 1100, ...config });
  s.setTimesteps(10);
  let x: Float64Array = dummySampleDeter().map((v) => v * s.initNoiseSigma);
  for (const t of s.timesteps) {
    x = s.scaleModelInput(x, t);
    x = s.step(dummyModel(x, t), t, x).prevSample;
  }
  return x;
}

describe('HeunDiscreteScheduler', () => {
  it("reproduces diffusers' full-loop sums and means", () => {
    const cases: [HeunDiscreteSchedulerOptions, number, number][] = [
      [{}, 0.1233, 0.0002],
      [{ predictionType: 'v_prediction' }, 4.6934e-7, 6.1112e-10],
      [{ sigmaSpacing: 'karras' }, 0.00015, 1.9869554535034695e-7],
    ];
    for (const [cfg, sum, mean] of cases) {
      const x = fullLoop(cfg);
      expect(Math.abs(absSum(x) - sum)).toBeLessThan(1e-2);
      expect(Math.abs(absMean(x) - mean)).toBeLessThan(1e-3);
    }
  });

  it('repeats interior timesteps and sigmas (two model calls per interval)', () => {
    const s = new HeunDiscreteScheduler();
    s.setTimesteps(4);
    expect(s.timesteps.length).toBe(7);
    expect(s.sigmas.length).toBe(8);
    expect(s.timesteps[1]).toBe(s.timesteps[2]);
    expect(s.sigmas[1]).toBe(s.sigmas[2]);
    expect(s.sigmas[7]).toBe(0);
  });

  it('converges to the exact probability-flow ODE at second order', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const z = rng(1).normal(32 * 2);
    const steps = [16, 32, 64, 128];
    const errors = steps.map((n) => {
      const s = new HeunDiscreteScheduler();
      const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
      return compareWithOde(mix, s, den, 've', { sigmas: [...exponentialSigmas(0.02, 80, n + 1)] }, z).rmse;
    });
    const order = empiricalOrder(steps, errors);
    expect(order).toBeGreaterThan(1.8);
    expect(order).toBeLessThan(2.4);
  });
});
