import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { calculateShift } from '../schedules/flow';
import { compareWithOde, empiricalOrder } from '../testing/convergence';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D } from '../testing/statistics';
import { FlowMatchEulerDiscreteScheduler } from './flow-match-euler-discrete';

describe('FlowMatchEulerDiscreteScheduler', () => {
  it("builds diffusers' schedule: σ = shift(linspace(σmax, σmin, N)), σmin = shift(1/T)", () => {
    const s = new FlowMatchEulerDiscreteScheduler({ shift: 3 });
    s.setTimesteps(4);
    const sh = (x: number) => (3 * x) / (1 + 2 * x);
    const lo = sh(1 / 1000); // diffusers shifts the training grid, then the inference sigmas again
    const raw = [1, 1 + (lo - 1) / 3, 1 + (2 * (lo - 1)) / 3, lo];
    for (let i = 0; i < 4; i++) {
      expect(s.sigmas[i]).toBeCloseTo(sh(raw[i]), 12);
      expect(s.timesteps[i]).toBeCloseTo(s.sigmas[i] * 1000, 9);
    }
    expect(s.sigmas[4]).toBe(0);
  });

  it('dynamic shifting uses the exponential time shift with mu', () => {
    const s = new FlowMatchEulerDiscreteScheduler({ useDynamicShifting: true });
    expect(() => s.setTimesteps(4)).toThrow(/needs mu/);
    const mu = calculateShift(1024);
    s.setTimesteps({ steps: 4, mu });
    const raw = [1, 1 + (0.001 - 1) / 3, 1 + (2 * (0.001 - 1)) / 3, 0.001];
    for (let i = 0; i < 4; i++)
      expect(s.sigmas[i]).toBeCloseTo(Math.exp(mu) / (Math.exp(mu) + 1 / raw[i] - 1), 12);
  });

  it('converges to the exact flow ODE at first order', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const z = rng(1).normal(32 * 2);
    const steps = [16, 32, 64, 128];
    const errors = steps.map((n) => {
      const s = new FlowMatchEulerDiscreteScheduler({ shift: 3 });
      const den = mix.denoiser({ kind: 'flow', numTrainTimesteps: 1000 }, 'flow_prediction');
      return compareWithOde(mix, s, den, 'flow', { steps: n }, z).rmse;
    });
    const p = empiricalOrder(steps, errors);
    expect(p).toBeGreaterThan(0.85);
    expect(p).toBeLessThan(1.3);
  });

  it('steps x + (σ_next − σ)·v and adds noise as σ·ε + (1 − σ)·x0', () => {
    const s = new FlowMatchEulerDiscreteScheduler();
    s.setTimesteps(3);
    const g = rng(9);
    const [x, v, e] = [g.normal(4), g.normal(4), g.normal(4)];
    const t = s.timesteps[1];
    const noisy = s.addNoise(x, e, t);
    for (let k = 0; k < 4; k++)
      expect(noisy[k]).toBeCloseTo(s.sigmas[1] * e[k] + (1 - s.sigmas[1]) * x[k], 12);
    const fresh = new FlowMatchEulerDiscreteScheduler();
    fresh.setTimesteps(3);
    const out = fresh.step(v, fresh.timesteps[0], x).prevSample;
    for (let k = 0; k < 4; k++)
      expect(out[k]).toBeCloseTo(x[k] + (fresh.sigmas[1] - fresh.sigmas[0]) * v[k], 12);
  });
});
