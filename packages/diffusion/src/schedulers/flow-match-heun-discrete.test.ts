import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { compareWithOde, empiricalOrder } from '../testing/convergence';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { SMOOTH_2D } from '../testing/statistics';
import { FlowMatchEulerDiscreteScheduler } from './flow-match-euler-discrete';
import { FlowMatchHeunDiscreteScheduler } from './flow-match-heun-discrete';

describe('FlowMatchHeunDiscreteScheduler', () => {
  it("uses FlowMatch Euler's sigmas, interior ones repeated", () => {
    const e = new FlowMatchEulerDiscreteScheduler({ shift: 3 });
    e.setTimesteps(5);
    const h = new FlowMatchHeunDiscreteScheduler({ shift: 3 });
    h.setTimesteps(5);
    expect(h.timesteps.length).toBe(9);
    expect(h.sigmas[0]).toBeCloseTo(e.sigmas[0], 14);
    for (let i = 1; i < 5; i++) {
      expect(h.sigmas[2 * i - 1]).toBeCloseTo(e.sigmas[i], 14);
      expect(h.sigmas[2 * i]).toBeCloseTo(e.sigmas[i], 14);
    }
  });

  it('converges to the exact flow ODE at second order (shift 3; final Euler step to σ = 0)', () => {
    const mix = new GaussianMixture(SMOOTH_2D);
    const z = rng(1).normal(32 * 2);
    const steps = [16, 32, 64, 128];
    const errors = steps.map((n) => {
      const s = new FlowMatchHeunDiscreteScheduler({ shift: 3 });
      const den = mix.denoiser({ kind: 'flow', numTrainTimesteps: 1000 }, 'flow_prediction');
      return compareWithOde(mix, s, den, 'flow', { steps: n }, z).rmse;
    });
    const p = empiricalOrder(steps, errors);
    expect(p).toBeGreaterThan(1.7);
    expect(p).toBeLessThan(2.4);
  });
});
