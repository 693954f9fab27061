import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { exponentialSigmas } from '../schedules/sigmas';
import { compareWithOde, empiricalOrder } from '../testing/convergence';
import { absMean, dummyModel, dummyNoiseDeter, dummySampleDeter } from '../testing/diffusers-dummy';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D } from '../testing/statistics';
import { UniPCMultistepScheduler, type UniPCMultistepSchedulerOptions } from './unipc-multistep';

// diffusers' config (tests/schedulers/test_scheduler_unipc.py): order 2, bh2, sigma_min final, 10 steps.
function fullLoop(config: UniPCMultistepSchedulerOptions = {}, start = 0, noise = false): Float64Array {
  const s = new UniPCMultistepScheduler({
    solverOrder: 2,
    solverType: 'bh2',
    finalSigmasType: 'sigma_min',
    ...config,
  });
  s.setTimesteps(10);
  const ts = s.timesteps.slice(start);
  let x = dummySampleDeter();
  if (noise) x = s.addNoise(x, dummyNoiseDeter(), ts[0]);
  for (const t of ts) x = s.step(dummyModel(x, t), t, x).prevSample;
  return x;
}

function odeErrors(options: UniPCMultistepSchedulerOptions, steps: number[]): number[] {
  const mix = new GaussianMixture(SMOOTH_2D);
  const z = rng(1).normal(16 * 2);
  return steps.map((n) => {
    const s = new UniPCMultistepScheduler({ lowerOrderFinal: false, ...options });
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    return compareWithOde(mix, s, den, 'vp', { sigmas: [...exponentialSigmas(0.02, 80, n + 1)] }, z, 4000)
      .rmse;
  });
}

describe('UniPCMultistepScheduler', () => {
  it("reproduces diffusers' full-loop means", () => {
    const cases: [UniPCMultistepSchedulerOptions, number][] = [
      [{}, 0.2464],
      [{ sigmaSpacing: 'karras' }, 0.2925],
      [{ predictionType: 'v_prediction' }, 0.1014],
      [{ predictionType: 'v_prediction', sigmaSpacing: 'karras' }, 0.1966],
    ];
    for (const [cfg, mean] of cases) expect(Math.abs(absMean(fullLoop(cfg)) - mean)).toBeLessThan(1e-3);
  });

  it('the corrector raises the order by one (bh1 and bh2, orders 1 to 3)', () => {
    const steps = [16, 32, 64, 128];
    const cases: [UniPCMultistepSchedulerOptions, number, number][] = [
      [{ solverOrder: 1 }, 1.8, 2.3],
      [{ solverOrder: 2 }, 2.7, 3.3],
      [{ solverOrder: 2, solverType: 'bh1' }, 2.7, 3.3],
      [{ solverOrder: 3 }, 3.4, 4.3],
    ];
    for (const [cfg, lo, hi] of cases) {
      const p = empiricalOrder(steps, odeErrors(cfg, steps));
      expect(p).toBeGreaterThan(lo);
      expect(p).toBeLessThan(hi);
    }
  });

  it('without the corrector it is the order-p predictor', () => {
    const steps = [16, 32, 64, 128];
    const all = Array.from({ length: 128 }, (_, i) => i);
    const p = empiricalOrder(steps, odeErrors({ solverOrder: 2, disableCorrector: all }, steps));
    expect(p).toBeGreaterThan(1.8);
    expect(p).toBeLessThan(2.3);
  });
});
