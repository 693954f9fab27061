import { describe, expect, it } from 'vitest';
import { alphasCumprod, makeBetas, vpSigmas } from './betas';
import { customSigmaSchedule, eulerFamilySchedule, multistepSchedule } from './discrete';

const abar = alphasCumprod(makeBetas('linear', 1000, 0.0001, 0.02));
const base = {
  alphasCumprod: abar,
  cosine: false,
  timestepSpacing: 'linspace' as const,
  stepsOffset: 0,
  sigmaSpacing: 'default' as const,
  lambdaMinClipped: Number.NEGATIVE_INFINITY,
  useFlowSigmas: false,
  flowShift: 1,
  finalSigmasType: 'zero' as const,
};

describe('discrete schedules', () => {
  it('multistep flow sigmas: shift(1 − linspace(1, 1/T, N+1)) reversed without the 0', () => {
    const s = multistepSchedule('t', { ...base, useFlowSigmas: true, flowShift: 3 }, { steps: 4 });
    const sh = (x: number) => (3 * x) / (1 + 2 * x);
    const raw = [0, 1, 2, 3, 4].map((i) => 1 - (1 + (i * (1 / 1000 - 1)) / 4));
    const want = raw.map(sh).reverse().slice(0, 4);
    for (let i = 0; i < 4; i++) expect(s.sigmas[i]).toBeCloseTo(want[i], 14);
    expect(s.sigmas[4]).toBe(0);
    expect([...s.timesteps]).toEqual(want.map((v) => Math.trunc(v * 1000)));
  });

  it('lambda_min_clipped drops the training steps whose λ = −log σ is below the clip', () => {
    const train = vpSigmas(abar);
    // diffusers: last = T − searchsorted(λ ascending, clip) (strictly smaller λ are clipped), and the
    // linspace grid then starts at last − 1.
    const clip = -Math.log(train[899]);
    expect(multistepSchedule('t', { ...base, lambdaMinClipped: clip }, { steps: 9 }).timesteps[0]).toBe(899);
    expect(
      multistepSchedule('t', { ...base, lambdaMinClipped: clip + 1e-9 }, { steps: 9 }).timesteps[0],
    ).toBe(898);
  });

  it('Euler-family Karras sigmas start at σ(t_0) and map back to fractional timesteps', () => {
    const s = eulerFamilySchedule('t', { ...base, sigmaSpacing: 'karras' }, { steps: 5 });
    const train = vpSigmas(abar);
    expect(s.sigmas[0]).toBeCloseTo(train[999], 10);
    expect(s.sigmas[4]).toBeCloseTo(train[0], 10);
    expect(s.timesteps[0]).toBeCloseTo(999, 8);
    expect(Number.isInteger(s.timesteps[2])).toBe(false);
  });

  it('custom sigmas keep fractional timesteps and are validated', () => {
    const s = customSigmaSchedule('t', [10, 1, 0.1, 0], abar);
    expect(s.timesteps.length).toBe(3);
    expect(() => customSigmaSchedule('t', [1, 2, 0], abar)).toThrow(/descending/);
    expect(() => customSigmaSchedule('t', [1], abar)).toThrow(/at least 2/);
  });
});
