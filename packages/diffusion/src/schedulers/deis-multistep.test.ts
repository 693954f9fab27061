import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { exponentialSigmas } from '../schedules/sigmas';
import { compareWithOde, empiricalOrder } from '../testing/convergence';
import { absMean, dummyModel, dummySampleDeter } from '../testing/diffusers-dummy';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D } from '../testing/statistics';
import { DEISMultistepScheduler, type DEISMultistepSchedulerOptions } from './deis-multistep';

// diffusers' full loop (tests/schedulers/test_scheduler_deis.py): order 2, linear betas, 10 steps.
function fullLoop(config: DEISMultistepSchedulerOptions = {}): Float64Array {
  const s = new DEISMultistepScheduler({ solverOrder: 2, ...config });
  s.setTimesteps(10);
  let x = dummySampleDeter();
  for (const t of s.timesteps) x = s.step(dummyModel(x, t), t, x).prevSample;
  return x;
}

function odeErrors(options: DEISMultistepSchedulerOptions, steps: number[]): number[] {
  const mix = new GaussianMixture(SMOOTH_2D);
  const z = rng(1).normal(16 * 2);
  return steps.map((n) => {
    const s = new DEISMultistepScheduler({ lowerOrderFinal: false, ...options });
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    return compareWithOde(mix, s, den, 'vp', { sigmas: [...exponentialSigmas(0.02, 80, n + 1)] }, z, 4000)
      .rmse;
  });
}

describe('DEISMultistepScheduler', () => {
  it("reproduces diffusers' full-loop means", () => {
    expect(Math.abs(absMean(fullLoop()) - 0.23916)).toBeLessThan(1e-3);
    expect(Math.abs(absMean(fullLoop({ predictionType: 'v_prediction' })) - 0.091)).toBeLessThan(1e-3);
  });

  it('converges at orders 1, 2 and 3 (first order equals DDIM)', () => {
    const steps = [16, 32, 64, 128];
    const cases: [1 | 2 | 3, number, number][] = [
      [1, 0.85, 1.3],
      [2, 1.8, 2.4],
      [3, 2.6, 3.6],
    ];
    for (const [solverOrder, lo, hi] of cases) {
      const p = empiricalOrder(steps, odeErrors({ solverOrder }, steps));
      expect(p).toBeGreaterThan(lo);
      expect(p).toBeLessThan(hi);
    }
  });
});
