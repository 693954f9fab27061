import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { MIXTURE_2D } from '../testing/convergence';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { statsCheck } from '../testing/statistics';
import { DDPMScheduler } from './ddpm';

describe('DDPMScheduler', () => {
  it('matches the posterior-mean formula on fresh inputs', () => {
    const s = new DDPMScheduler({ clipSample: false });
    s.setTimesteps(1000);
    const g = rng(5);
    const x = g.normal(5);
    const eps = g.normal(5);
    const z = g.normal(5);
    const t = 487;
    const a = s.alphasCumprod;
    const out = s.step(eps, t, x, { noise: z }).prevSample;
    const beta = 1 - a[t] / a[t - 1];
    const variance = ((1 - a[t - 1]) / (1 - a[t])) * beta;
    expect(variance).toBeCloseTo(0.00979, 5); // diffusers test_variance: _get_variance(487)
    for (let k = 0; k < 5; k++) {
      const x0 = (x[k] - Math.sqrt(1 - a[t]) * eps[k]) / Math.sqrt(a[t]);
      const mean =
        (Math.sqrt(a[t - 1]) * beta * x0 + Math.sqrt(1 - beta) * (1 - a[t - 1]) * x[k]) / (1 - a[t]);
      expect(out[k]).toBeCloseTo(mean + Math.sqrt(variance) * z[k], 10);
    }
  });

  it('samples the target (mean, covariance, occupancy) at 100 trailing steps', () => {
    const mix = new GaussianMixture(MIXTURE_2D);
    const s = new DDPMScheduler({ clipSample: false, timestepSpacing: 'trailing' });
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const r = statsCheck(mix, s, den, { steps: 100 }, 4000, 7);
    expect(r.meanZ).toBeLessThan(4);
    expect(r.covRelErr).toBeLessThan(0.08);
    expect(r.chi2).toBeLessThan(r.chi2Critical);
  });

  it('rejects non-descending custom timesteps', () => {
    const s = new DDPMScheduler();
    expect(() => s.setTimesteps({ timesteps: [100, 87, 87, 1] })).toThrow(/descending integers/);
    s.setTimesteps({ timesteps: [100, 87, 50, 1, 0] }); // diffusers test_custom_timesteps
    expect([...s.timesteps]).toEqual([100, 87, 50, 1, 0]);
  });
});
