import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { exponentialSigmas } from '../schedules/sigmas';
import { compareWithOde, empiricalOrder, MIXTURE_2D } from '../testing/convergence';
import { absMean, absSum, dummyModel, dummyNoiseDeter, dummySampleDeter } from '../testing/diffusers-dummy';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D, statsCheck } from '../testing/statistics';
import { EulerDiscreteScheduler, type EulerDiscreteSchedulerOptions } from './euler-discrete';

// diffusers' full loop (tests/schedulers/test_scheduler_euler.py): 1100 training steps, linear
// betas, 10 steps; the loop overwrites `sample` with the scaled input before stepping (as there).
function fullLoop(config: EulerDiscreteSchedulerOptions = {}, start = 0, noise = false): Float64Array {
  const s = new EulerDiscreteScheduler({
    numTrainTimesteps: 1100,
    betaStart: 0.0001,
    betaEnd: 0.02,
    ...config,
  });
  s.setTimesteps(10);
  let x: Float64Array = dummySampleDeter().map((v) => v * s.initNoiseSigma);
  const ts = s.timesteps.slice(start);
  if (noise) x = s.addNoise(x, dummyNoiseDeter(), ts[0]);
  for (const t of ts) {
    x = s.scaleModelInput(x, t);
    x = s.step(dummyModel(x, t), t, x).prevSample;
  }
  return x;
}

describe('EulerDiscreteScheduler', () => {
  it("reproduces diffusers' full-loop sums and means", () => {
    const cases: [EulerDiscreteSchedulerOptions, number, number][] = [
      [{}, 10.0807, 0.0131],
      [{ predictionType: 'v_prediction' }, 0.0002, 2.2676e-6],
      [{ sigmaSpacing: 'karras' }, 124.52299499511719, 0.16213932633399963],
    ];
    for (const [cfg, sum, mean] of cases) {
      const x = fullLoop(cfg);
      expect(Math.abs(absSum(x) - sum)).toBeLessThan(1e-2);
      expect(Math.abs(absMean(x) - mean)).toBeLessThan(1e-3);
    }
    // diffusers' 1e-2 on a sum of 57 063 is below what its f32 arithmetic resolves (we compute in
    // f64 and land 1.3e-6 relative away), so this one is checked to 1e-5 relative.
    const noisy = fullLoop({}, 8, true);
    expect(Math.abs(absSum(noisy) / 57062.9297 - 1)).toBeLessThan(1e-5);
    expect(Math.abs(absMean(noisy) - 74.3007)).toBeLessThan(1e-3);
  });

  it('round-trips custom sigmas and custom timesteps', () => {
    const a = new EulerDiscreteScheduler({ numTrainTimesteps: 1100 });
    a.setTimesteps(10);
    const b = new EulerDiscreteScheduler({ numTrainTimesteps: 1100 });
    b.setTimesteps({ sigmas: [...a.sigmas] });
    // sigmas interpolate linearly in σ, `sigmaToT` inverts log-linearly: equal to ~1e-3 steps.
    for (let i = 0; i < 10; i++) expect(Math.abs(b.timesteps[i] - a.timesteps[i])).toBeLessThan(1e-2);
    const c = new EulerDiscreteScheduler({ numTrainTimesteps: 1100 });
    c.setTimesteps({ timesteps: [...a.timesteps] });
    expect([...c.sigmas]).toEqual([...a.sigmas]);
    expect(() => c.setTimesteps({ steps: 10, sigmas: [1, 0] })).toThrow(/exactly one/);
    expect(() => c.setTimesteps({ sigmas: [1, 2, 0] })).toThrow(/descending/);
  });

  it('converges to the exact probability-flow ODE at first order', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const z = rng(1).normal(32 * 2);
    const steps = [16, 32, 64, 128];
    const errors = steps.map((n) => {
      const s = new EulerDiscreteScheduler();
      const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
      return compareWithOde(mix, s, den, 've', { sigmas: [...exponentialSigmas(0.02, 80, n + 1)] }, z).rmse;
    });
    const order = empiricalOrder(steps, errors);
    expect(order).toBeGreaterThan(0.85);
    expect(order).toBeLessThan(1.3);
  });

  it('with churn stays a sampler of the target', () => {
    const mix = new GaussianMixture(MIXTURE_2D);
    const s = new EulerDiscreteScheduler({ sChurn: 20, sTmin: 0.05, sTmax: 50 });
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const r = statsCheck(mix, s, den, { steps: 100 }, 4000, 11);
    expect(r.meanZ).toBeLessThan(4);
    expect(r.covRelErr).toBeLessThan(0.08);
    expect(r.chi2).toBeLessThan(r.chi2Critical);
  });
});
