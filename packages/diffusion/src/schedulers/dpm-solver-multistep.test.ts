import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { exponentialSigmas } from '../schedules/sigmas';
import { compareWithOde, empiricalOrder, MIXTURE_2D } from '../testing/convergence';
import { absMean, dummyModel, dummyNoiseDeter, dummySampleDeter } from '../testing/diffusers-dummy';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D, statsCheck } from '../testing/statistics';
import { DPMSolverMultistepScheduler, type DPMSolverMultistepSchedulerOptions } from './dpm-solver-multistep';

// diffusers' config (tests/schedulers/test_scheduler_dpm_multi.py): order 2, dpmsolver++,
// midpoint, lower_order_final False, final_sigmas_type sigma_min, 10 steps.
const BASE: DPMSolverMultistepSchedulerOptions = {
  solverOrder: 2,
  lowerOrderFinal: false,
  finalSigmasType: 'sigma_min',
};

function fullLoop(config: DPMSolverMultistepSchedulerOptions = {}, start = 0, noise = false): Float64Array {
  const s = new DPMSolverMultistepScheduler({ ...BASE, ...config });
  s.setTimesteps(10);
  const ts = s.timesteps.slice(start);
  let x = dummySampleDeter();
  if (noise) x = s.addNoise(x, dummyNoiseDeter(), ts[0]);
  for (const t of ts) x = s.step(dummyModel(x, t), t, x).prevSample;
  return x;
}

/** Errors against the exact ODE for λ-uniform sigmas 80 → 0.02 at each step count. */
function odeErrors(options: DPMSolverMultistepSchedulerOptions, steps: number[]): number[] {
  const mix = new GaussianMixture(SMOOTH_2D);
  const z = rng(1).normal(16 * 2);
  return steps.map((n) => {
    const s = new DPMSolverMultistepScheduler({ lowerOrderFinal: false, ...options });
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    return compareWithOde(mix, s, den, 'vp', { sigmas: [...exponentialSigmas(0.02, 80, n + 1)] }, z, 4000)
      .rmse;
  });
}

describe('DPMSolverMultistepScheduler', () => {
  it("reproduces diffusers' full-loop means", () => {
    const cases: [DPMSolverMultistepSchedulerOptions, number][] = [
      [{}, 0.3301],
      [{ predictionType: 'v_prediction' }, 0.2251],
      [{ predictionType: 'v_prediction', sigmaSpacing: 'karras' }, 0.2096],
      [{ predictionType: 'v_prediction', sigmaSpacing: 'lu' }, 0.1554],
    ];
    for (const [cfg, mean] of cases) expect(Math.abs(absMean(fullLoop(cfg)) - mean)).toBeLessThan(1e-3);
    expect(Math.abs(absMean(fullLoop({}, 5, true)) - 0.4146)).toBeLessThan(1e-3);
  });

  it("spaces timesteps with N+1 points as diffusers' multistep schedulers do", () => {
    const s = new DPMSolverMultistepScheduler();
    s.setTimesteps(10);
    expect([...s.timesteps]).toEqual([999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
    expect(s.sigmas[10]).toBe(0);
    const lead = new DPMSolverMultistepScheduler({ timestepSpacing: 'leading', stepsOffset: 1 });
    lead.setTimesteps(10);
    expect([...lead.timesteps]).toEqual([901, 811, 721, 631, 541, 451, 361, 271, 181, 91]);
  });

  it('2M converges at second order (midpoint and heun)', () => {
    const steps = [16, 32, 64, 128];
    for (const solverType of ['midpoint', 'heun'] as const) {
      const e = odeErrors({ solverType }, steps);
      expect(empiricalOrder(steps, e)).toBeGreaterThan(1.8);
      expect(empiricalOrder(steps, e)).toBeLessThan(2.3);
    }
    const first = odeErrors({ solverOrder: 1 }, steps);
    expect(empiricalOrder(steps, first)).toBeGreaterThan(0.85);
    expect(empiricalOrder(steps, first)).toBeLessThan(1.3);
  });

  it('3M as diffusers is second-order; with taylorThirdOrder it is third-order', () => {
    const steps = [32, 64, 128, 256];
    const theirs = odeErrors({ solverOrder: 3 }, steps);
    const p = empiricalOrder(steps, theirs);
    expect(p).toBeGreaterThan(1.8);
    expect(p).toBeLessThan(2.3);
    const taylor = odeErrors({ solverOrder: 3, taylorThirdOrder: true }, steps);
    expect(empiricalOrder(steps, taylor)).toBeGreaterThan(2.6);
    expect(taylor[3]).toBeLessThan(theirs[3] / 5);
  });

  it('SDE-DPM-Solver++ 2M samples the target (mean, covariance, occupancy)', () => {
    const mix = new GaussianMixture(MIXTURE_2D);
    const s = new DPMSolverMultistepScheduler({ algorithmType: 'sde-dpmsolver++' });
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const r = statsCheck(mix, s, den, { steps: 50 }, 4000, 7);
    expect(r.meanZ).toBeLessThan(4);
    expect(r.covRelErr).toBeLessThan(0.08);
    expect(r.chi2).toBeLessThan(r.chi2Critical);
  });

  it('accepts v, sample and flow predictions of the same exact model', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const z = rng(2).normal(8 * 2);
    const results = (['epsilon', 'v_prediction', 'sample'] as const).map((p) => {
      const s = new DPMSolverMultistepScheduler({ predictionType: p });
      const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, p);
      return compareWithOde(mix, s, den, 'vp', { steps: 20 }, z).result;
    });
    for (let k = 0; k < z.length; k++) {
      expect(results[1][k]).toBeCloseTo(results[0][k], 8);
      expect(results[2][k]).toBeCloseTo(results[0][k], 8);
    }
    // Flow sigmas with flow predictions (FLUX set-up): the error against the exact flow ODE falls
    // with the steps (the last step denoises to σ = 0 at first order, so about linearly).
    const flowErr = (n: number) => {
      const s = new DPMSolverMultistepScheduler({
        useFlowSigmas: true,
        predictionType: 'flow_prediction',
        flowShift: 3,
      });
      const den = mix.denoiser({ kind: 'flow', numTrainTimesteps: 1000 }, 'flow_prediction');
      return compareWithOde(mix, s, den, 'flow', { steps: n }, z).rmse;
    };
    const [e16, e32] = [flowErr(16), flowErr(32)];
    expect(e32).toBeLessThan(2e-2);
    expect(e32).toBeLessThan(0.6 * e16);
  });

  it('rejects an unknown option naming the allowed ones', () => {
    expect(
      () =>
        new DPMSolverMultistepScheduler({ use_karras_sigmas: true } as DPMSolverMultistepSchedulerOptions),
    ).toThrow(/use_karras_sigmas.*allowed: .*sigmaSpacing/);
  });
});
