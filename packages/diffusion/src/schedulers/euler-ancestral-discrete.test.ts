import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { MIXTURE_2D } from '../testing/convergence';
import { GaussianMixture } from '../testing/gaussian-mixture';
import { statsCheck } from '../testing/statistics';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete';

describe('EulerAncestralDiscreteScheduler', () => {
  it('steps by the ancestral formula (readable reference, fresh inputs)', () => {
    const s = new EulerAncestralDiscreteScheduler();
    s.setTimesteps(10);
    const g = rng(3);
    const x = g.normal(6).map((v) => v * s.initNoiseSigma);
    const eps = g.normal(6);
    const z = g.normal(6);
    const t = s.timesteps[0];
    const out = s.step(eps, t, x, { noise: z }).prevSample;
    const [s0, s1] = [s.sigmas[0], s.sigmas[1]];
    const up = Math.sqrt((s1 ** 2 * (s0 ** 2 - s1 ** 2)) / s0 ** 2);
    const down = Math.sqrt(s1 ** 2 - up ** 2);
    for (let k = 0; k < 6; k++) expect(out[k]).toBeCloseTo(x[k] + eps[k] * (down - s0) + up * z[k], 10);
  });

  it('samples the target (mean, covariance, occupancy) at 100 steps', () => {
    const mix = new GaussianMixture(MIXTURE_2D);
    const s = new EulerAncestralDiscreteScheduler();
    const den = mix.denoiser({ kind: 'vp', alphasCumprod: s.alphasCumprod }, 'epsilon');
    const r = statsCheck(mix, s, den, { steps: 100 }, 4000, 7);
    expect(r.meanZ).toBeLessThan(4);
    expect(r.covRelErr).toBeLessThan(0.08);
    expect(r.chi2).toBeLessThan(r.chi2Critical);
  });

  it('needs noise or a generator', () => {
    const s = new EulerAncestralDiscreteScheduler();
    s.setTimesteps(5);
    const x = new Float64Array(2);
    expect(() => s.step(x, s.timesteps[0], x)).toThrow(/noise or options.generator/);
  });
});
