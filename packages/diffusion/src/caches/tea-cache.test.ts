import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import {
  relativeError,
  ScriptedDiT,
  scriptedDecisions,
  toyModel,
  toyRun,
} from '../testing/toy-block-denoiser-runs';
import { cachedDenoiser } from './cached-denoiser';
import { polyval, teaCache } from './tea-cache';

describe('teaCache', () => {
  // Modulated input by step; relative L1 changes 0.1, 0.0909, 0.25, 0.0667, 0.0625, 0.0588.
  const m = [1, 1.1, 1.2, 1.5, 1.6, 1.7, 1.8];
  const model = new ScriptedDiT(
    3,
    (i, t) => (i + 1) * (t + 1),
    (t) => m[t],
  );

  it('accumulates the rescaled relative L1 and recomputes once it reaches the threshold (hand-worked)', () => {
    // Identity polynomial: acc 0.1, 0.191 (skip, skip), 0.441 (compute, reset), 0.067, 0.129 (skip, skip), last step.
    expect(scriptedDecisions(cachedDenoiser(model, teaCache({ relL1Thresh: 0.2 })), 7)).toEqual([
      'CCC',
      'RRR',
      'RRR',
      'CCC',
      'RRR',
      'RRR',
      'CCC',
    ]);
    // poly(x) = 2x: 0.2 (compute), 0.18 (skip), 0.68 (compute), 0.133 (skip), 0.258 (compute), last.
    expect(
      scriptedDecisions(cachedDenoiser(model, teaCache({ relL1Thresh: 0.2, coefficients: [2, 0] })), 7),
    ).toEqual(['CCC', 'CCC', 'RRR', 'CCC', 'RRR', 'CCC', 'CCC']);
  });

  it('reuses the whole-stack residual of the last full step', () => {
    const cached = cachedDenoiser(model, teaCache({ relL1Thresh: 0.2 }));
    cached.beginGeneration(7);
    cached(Float64Array.of(0.25), 0, [null]);
    expect(cached(Float64Array.of(0.25), 1, [null])[0]).toBe(0.25 + 6);
  });

  it('evaluates numpy.poly1d coefficients highest power first', () => {
    expect(polyval([2, -3, 1], 4)).toBe(2 * 16 - 12 + 1);
    expect(polyval([0, 0, 0, 1, 0], 0.37)).toBe(0.37);
  });

  it('cuts block evaluations on the toy DiT and UNet and stays within 5% of the uncached sample', () => {
    for (const arch of ['dit', 'unet'] as const) {
      const ref = toyRun(toyModel(arch), fullForward(toyModel(arch)));
      const toy = toyModel(arch);
      const cached = cachedDenoiser(toy, teaCache());
      const out = toyRun(toy, cached, 20, cached);
      expect(cached.stats().blockEvaluations).toBeLessThan(2 * 20 * toy.numBlocks * 0.6);
      expect(relativeError(out, ref)).toBeLessThan(0.05);
    }
  });

  it('names bad options', () => {
    expect(() => teaCache({ relL1Thresh: -1 })).toThrow(/teaCache: option 'relL1Thresh'/);
    expect(() => teaCache({ coefficients: [] })).toThrow(/option 'coefficients'/);
  });
});
