import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { alphasCumprod, makeBetas, vpSigmas } from './betas';
import { betaCdf, betaPpf, betaSigmas, exponentialSigmas, karrasSigmas, sigmaToT, tToSigma } from './sigmas';

describe('sigma transforms', () => {
  it('Karras, exponential and beta sigmas hit both ends and follow their formulas', () => {
    const k = karrasSigmas(0.03, 14.6, 6);
    expect(k[0]).toBeCloseTo(14.6, 12);
    expect(k[5]).toBeCloseTo(0.03, 12);
    const ramp = 2 / 5;
    expect(k[2]).toBeCloseTo((14.6 ** (1 / 7) + ramp * (0.03 ** (1 / 7) - 14.6 ** (1 / 7))) ** 7, 12);
    const e = exponentialSigmas(0.03, 14.6, 6);
    for (let i = 1; i < 6; i++) expect(Math.log(e[i - 1] / e[i])).toBeCloseTo(Math.log(14.6 / 0.03) / 5, 12);
    const b = betaSigmas(0.03, 14.6, 5);
    expect(b[0]).toBeCloseTo(14.6, 12);
    expect(b[2]).toBeCloseTo((0.03 + 14.6) / 2, 9); // symmetric Beta(0.6, 0.6): median 0.5
    expect(b[4]).toBeCloseTo(0.03, 12);
  });

  it('the Beta CDF matches a numerical integral of its density on fresh points', () => {
    const g = rng(4);
    const [a, bb] = [0.6, 0.6];
    // B(0.6, 0.6) = Γ(0.6)²/Γ(1.2) with Γ(0.6) = 1.4891922488128171 and Γ(1.2) = 0.9181687423997607
    const B = Math.exp(2 * Math.log(1.4891922488128171) - Math.log(0.9181687423997607));
    for (const x of g.uniform(5)) {
      // substitute x = u^(1/a) to remove the endpoint singularity: ∫0^x t^(a−1)(1−t)^(b−1) dt = (1/a)∫0^{x^a} (1 − u^(1/a))^(b−1) du
      const U = x ** a;
      const n = 20000;
      let s = 0;
      for (let i = 0; i < n; i++) {
        const u = ((i + 0.5) / n) * U;
        s += (1 - u ** (1 / a)) ** (bb - 1);
      }
      const ref = (s * (U / n)) / a / B;
      expect(betaCdf(x, a, bb)).toBeCloseTo(ref, 4);
      expect(betaPpf(betaCdf(x, a, bb), a, bb)).toBeCloseTo(x, 10);
    }
  });

  it('sigmaToT inverts tToSigma (log-linear between training steps)', () => {
    const logS = vpSigmas(alphasCumprod(makeBetas('linear', 1000, 0.0001, 0.02))).map(Math.log);
    for (const t of rng(6)
      .uniform(20)
      .map((u) => u * 999))
      expect(sigmaToT(tToSigma(t, logS), logS)).toBeCloseTo(t, 8);
  });
});
