import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { effectiveSampleSizeOfLogWeights } from './effective-sample-size';
import { adaptiveTemperingStep } from './tempering-adaptive-ess';

describe('adaptiveTemperingStep', () => {
  it('finds the β where the ESS meets the target, as a fine grid search does, on fresh random inputs', () => {
    const r = rng(21);
    for (let trial = 0; trial < 4; trial++) {
      const lw = Array.from(r.normal(50), (v) => 0.3 * v);
      const ll = Array.from(r.normal(50), (v) => 4 * v);
      const beta = 0.1 * (trial % 3);
      const next = adaptiveTemperingStep(lw, ll, { beta, targetEss: 0.5 });
      // Reference: scan β' on a grid of 1e-5 for the last point with ESS >= 25.
      const ess = (b: number) => effectiveSampleSizeOfLogWeights(lw.map((v, i) => v + (b - beta) * ll[i]));
      let ref = beta;
      for (let b = beta; b <= 1; b += 1e-5)
        if (ess(b) >= 25) ref = b;
        else break;
      expect(next).toBeGreaterThan(beta);
      expect(Math.abs(next - ref)).toBeLessThan(2e-5);
      expect(ess(next)).toBeCloseTo(25, 3);
    }
  });

  it('jumps to β = 1 when the whole increment keeps the ESS above target', () => {
    expect(adaptiveTemperingStep([0, 0, 0, 0], [0, 0.01, 0, 0.01], { beta: 0.2 })).toBe(1);
  });
});
