import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { exponentialSigmas } from '../schedules/sigmas';
import { compareWithOde, empiricalOrder } from '../testing/convergence';
import { absMean, dummyModel, dummyNoiseDeter, dummySampleDeter } from '../testing/diffusers-dummy';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D } from '../testing/statistics';
import {
  DPMSolverSinglestepScheduler,
  type DPMSolverSinglestepSchedulerOptions,
  singlestepOrderList,
} from './dpm-solver-singlestep';

// diffusers' config (tests/schedulers/test_scheduler_dpm_single.py): order 2, dpmsolver++,
// midpoint, final_sigmas_type sigma_min, 10 steps.
function fullLoop(
  config: DPMSolverSinglestepSchedulerOptions = {},
  steps = 10,
  start = 0,
  noise = false,
): Float64Array {
  const s = new DPMSolverSinglestepScheduler({ solverOrder: 2, finalSigmasType: 'sigma_min', ...config });
  s.setTimesteps(steps);
  const ts = s.timesteps.slice(start);
  let x = dummySampleDeter();
  if (noise) x = s.addNoise(x, dummyNoiseDeter(), ts[0]);
  for (const t of ts) x = s.step(dummyModel(x, t), t, x).prevSample;
  return x;
}

describe('DPMSolverSinglestepScheduler', () => {
  it("reproduces diffusers' full-loop means", () => {
    const cases: [DPMSolverSinglestepSchedulerOptions, number][] = [
      [{}, 0.2791],
      [{ sigmaSpacing: 'karras' }, 0.2248],
      [{ predictionType: 'v_prediction' }, 0.1453],
      [{ predictionType: 'v_prediction', sigmaSpacing: 'karras' }, 0.0649],
    ];
    for (const [cfg, mean] of cases) expect(Math.abs(absMean(fullLoop(cfg)) - mean)).toBeLessThan(1e-3);
    expect(Math.abs(absMean(fullLoop({}, 50, 3)) - 0.2574)).toBeLessThan(1e-3); // test_full_uneven_loop
    expect(Math.abs(absMean(fullLoop({}, 10, 5, true)) - 0.3505)).toBeLessThan(1e-3);
  });

  it("builds diffusers' order lists", () => {
    expect(singlestepOrderList(7, 3, true, false)).toEqual([1, 2, 3, 1, 2, 3, 1]);
    expect(singlestepOrderList(6, 3, true, false)).toEqual([1, 2, 3, 1, 2, 1]);
    expect(singlestepOrderList(6, 2, true, true)).toEqual([1, 2, 1, 2, 1, 1]);
    expect(singlestepOrderList(6, 2, false, false)).toEqual([1, 2, 1, 2, 1, 2]);
    const s = new DPMSolverSinglestepScheduler({ solverOrder: 3 });
    s.setTimesteps(10); // 10 steps with order 3 and a final σ of 0: lower-order-final forced on
    expect(s.lowerOrderFinalInEffect).toBe(true);
    expect(s.orderList).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1]);
  });

  it('converges at second order (2S) and third order (3S, heun form)', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const z = rng(1).normal(16 * 2);
    const steps = [18, 36, 72, 144];
    const errs = (o: DPMSolverSinglestepSchedulerOptions) =>
      steps.map((n) => {
        const s = new DPMSolverSinglestepScheduler(o);
        const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
        return compareWithOde(mix, s, den, 'vp', { sigmas: [...exponentialSigmas(0.02, 80, n + 1)] }, z, 4000)
          .rmse;
      });
    const p2 = empiricalOrder(steps, errs({ solverOrder: 2 }));
    expect(p2).toBeGreaterThan(1.8);
    expect(p2).toBeLessThan(2.4);
    const p3 = empiricalOrder(steps, errs({ solverOrder: 3, solverType: 'heun' }));
    expect(p3).toBeGreaterThan(2.6);
    expect(p3).toBeLessThan(3.6);
  });
});
