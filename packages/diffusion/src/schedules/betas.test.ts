import { describe, expect, it } from 'vitest';
import { AYS_SCHEDULES } from './align-your-steps';
import { alphasCumprod, betasForAlphaBar, makeBetas, rescaleZeroTerminalSnr, vpSigmas } from './betas';

describe('beta schedules', () => {
  it('Stable Diffusion scaled_linear reaches σ_max = 14.6146 (the AYS presets start at 14.615)', () => {
    const s = vpSigmas(alphasCumprod(makeBetas('scaled_linear', 1000, 0.00085, 0.012)));
    expect(s[999]).toBeCloseTo(14.6146, 3);
    expect(AYS_SCHEDULES.StableDiffusionSigmas[0]).toBeCloseTo(s[999], 2);
    expect(s[0]).toBeCloseTo(Math.sqrt(0.00085 / (1 - 0.00085)), 12);
  });

  it('cosine betas discretise ᾱ(t) = cos²((t+0.008)/1.008·π/2), capped at 0.999', () => {
    const b = betasForAlphaBar(1000);
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    const a = alphasCumprod(b);
    expect(a[499]).toBeCloseTo(f(0.5) / f(0), 10);
    expect(b[999]).toBe(0.999);
  });

  it('zero terminal SNR keeps ᾱ_0 and sets ᾱ_T to 0 (arXiv 2305.08891, Alg. 1)', () => {
    const b = makeBetas('scaled_linear', 1000, 0.00085, 0.012);
    const before = alphasCumprod(b);
    const after = alphasCumprod(rescaleZeroTerminalSnr(b));
    expect(after[0]).toBeCloseTo(before[0], 12);
    expect(after[999]).toBeCloseTo(0, 12);
    // √ᾱ is an affine map of the original √ᾱ
    const k = (Math.sqrt(after[500]) - Math.sqrt(after[0])) / (Math.sqrt(before[500]) - Math.sqrt(before[0]));
    const k2 =
      (Math.sqrt(after[900]) - Math.sqrt(after[0])) / (Math.sqrt(before[900]) - Math.sqrt(before[0]));
    expect(k).toBeCloseTo(k2, 10);
  });
});
