import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { compareWithOde, empiricalOrder, MIXTURE_2D } from '../testing/convergence';
import { absMean, absSum, dummyModel, dummyNoiseDeter, dummySampleDeter } from '../testing/diffusers-dummy';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D, statsCheck } from '../testing/statistics';
import { DDIMScheduler, type DDIMSchedulerOptions } from './ddim';

// diffusers' full-loop config and expectations: tests/schedulers/test_scheduler_ddim.py
// (num_train_timesteps 1000, linear betas 1e-4..0.02, clip_sample True, 10 steps, eta 0).
function fullLoop(config: DDIMSchedulerOptions = {}): Float64Array {
  const s = new DDIMScheduler({
    numTrainTimesteps: 1000,
    betaStart: 0.0001,
    betaEnd: 0.02,
    clipSample: true,
    ...config,
  });
  s.setTimesteps(10);
  let x = dummySampleDeter();
  for (const t of s.timesteps) x = s.step(dummyModel(x, t), t, x).prevSample;
  return x;
}

describe('DDIMScheduler', () => {
  it("reproduces diffusers' full-loop sums and means", () => {
    const cases: [DDIMSchedulerOptions, number, number][] = [
      [{}, 172.0067, 0.223967],
      [{ predictionType: 'v_prediction' }, 52.5302, 0.0684],
      [{ setAlphaToOne: true, betaStart: 0.01 }, 149.8295, 0.1951],
      [{ setAlphaToOne: false, betaStart: 0.01 }, 149.0784, 0.1941],
    ];
    for (const [cfg, sum, mean] of cases) {
      const x = fullLoop(cfg);
      expect(Math.abs(absSum(x) - sum)).toBeLessThan(1e-2);
      expect(Math.abs(absMean(x) - mean)).toBeLessThan(1e-3);
    }
  });

  it("reproduces diffusers' full loop with noise (add_noise at step 8)", () => {
    const s = new DDIMScheduler({ clipSample: true });
    s.setTimesteps(10);
    const ts = s.timesteps.slice(8);
    let x = s.addNoise(dummySampleDeter(), dummyNoiseDeter(), ts[0]);
    for (const t of ts) x = s.step(dummyModel(x, t), t, x).prevSample;
    expect(Math.abs(absSum(x) - 354.5418)).toBeLessThan(1e-2);
    expect(Math.abs(absMean(x) - 0.4616)).toBeLessThan(1e-3);
  });

  it('spaces timesteps as diffusers does, steps_offset included', () => {
    const s = new DDIMScheduler({ stepsOffset: 1 });
    s.setTimesteps(5);
    expect([...s.timesteps]).toEqual([801, 601, 401, 201, 1]); // test_steps_offset
    const lin = new DDIMScheduler({ timestepSpacing: 'linspace' });
    lin.setTimesteps(10);
    expect([...lin.timesteps]).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    const tr = new DDIMScheduler({ timestepSpacing: 'trailing' });
    tr.setTimesteps(10);
    expect([...tr.timesteps]).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  });

  it('rejects unknown options, bad steps and a noiseless stochastic step', () => {
    expect(() => new DDIMScheduler({ eta: 0, etaa: 1 } as DDIMSchedulerOptions)).toThrow(
      /etaa.*allowed: .*eta/,
    );
    const s = new DDIMScheduler({ eta: 1 });
    expect(() => s.setTimesteps(2000)).toThrow(/cannot exceed/);
    s.setTimesteps(10);
    const x = new Float64Array(4);
    expect(() => s.step(x, 900, x)).toThrow(/noise or options.generator/);
    expect(() => s.step(x, 901, x, { generator: rng(0) })).toThrow(/not in the schedule/);
  });

  it('converges to the exact probability-flow ODE solution at first order (eta = 0)', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const z = rng(1).normal(32 * 2);
    const steps = [25, 50, 100, 200];
    const errors = steps.map((n) => {
      const s = new DDIMScheduler({ timestepSpacing: 'trailing', clipSample: false });
      const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
      return compareWithOde(mix, s, den, 'vp', { steps: n }, z).rmse;
    });
    const order = empiricalOrder(steps, errors);
    expect(order).toBeGreaterThan(0.85);
    expect(order).toBeLessThan(1.3);
    expect(errors[3]).toBeLessThan(2e-2);
  });

  it('with eta = 1 samples the target (mean, covariance, occupancy)', () => {
    // 4000 samples, 100 trailing steps, seed 7: mean within 4 standard errors, covariance within
    // 8% (Frobenius), occupancy chi-square below its p = 0.001 critical value.
    const mix = new GaussianMixture(MIXTURE_2D);
    const s = new DDIMScheduler({ eta: 1, clipSample: false, timestepSpacing: 'trailing' });
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const r = statsCheck(mix, s, den, { steps: 100 }, 4000, 7);
    expect(r.meanZ).toBeLessThan(4);
    expect(r.covRelErr).toBeLessThan(0.08);
    expect(r.chi2).toBeLessThan(r.chi2Critical);
  });
});
