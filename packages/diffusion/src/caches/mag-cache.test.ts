import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import { FlowMatchEulerDiscreteScheduler } from '../schedulers/flow-match-euler-discrete';
import {
  relativeError,
  ScriptedDiT,
  scriptedDecisions,
  TOY_BATCH,
  toyModel,
  toyRun,
} from '../testing/toy-block-denoiser-runs';
import { cachedDenoiser } from './cached-denoiser';
import { calibrateMagCache, magCache, magCacheCalibration, magnitudeRatio, nearestInterp } from './mag-cache';

describe('magCache', () => {
  it('skips while the accumulated error and skip count allow (hand-worked)', () => {
    // Retention: floor(0.2 · 10) = 2 steps. Then: ratio 1.1, err 0.1 (skip); 1.155, err 0.255 (compute,
    // reset); 1.0, err 0 (skip); 0.9, err 0.1 (skip); 3rd skip > K = 2 (compute, reset); skip; skip; last.
    const magRatios = [1, 1, 1.1, 1.05, 1.0, 0.9, 1.0, 1.0, 1.0, 1.0];
    const model = new ScriptedDiT(2, (i, t) => i + t);
    const policy = magCache({ magRatios, maxSkipSteps: 2, retentionRatio: 0.2 });
    expect(scriptedDecisions(cachedDenoiser(model, policy), 10)).toEqual(
      ['C', 'C', 'R', 'C', 'R', 'R', 'C', 'R', 'R', 'C'].map((c) => c + c),
    );
  });

  it('interpolates ratios to another step count by nearest index, rounding half to even', () => {
    const src = [10, 11, 12, 13, 14];
    expect(nearestInterp(src, 3)).toEqual([10, 12, 14]);
    // k · 0.5 = 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4 → 0, 0, 1, 2, 2, 2, 3, 4, 4.
    expect(nearestInterp(src, 9)).toEqual([10, 10, 11, 12, 12, 12, 13, 14, 14]);
    expect(nearestInterp(src, 1)).toEqual([14]);
  });

  it('calibration records the mean per-row norm ratio of successive stack residuals, per branch', () => {
    // Each of 2 blocks adds c(t) to both values of the row: stack residual 2·c(t), ratio c(k)/c(k−1).
    const c = [1, 2, 3, 3];
    const model = new ScriptedDiT(
      2,
      (_i, t) => c[t],
      () => 1,
      2,
    );
    const policy = magCacheCalibration();
    scriptedDecisions(cachedDenoiser(model, policy), 4, 2);
    expect(policy.ratios().uncond).toEqual([1, 2, 1.5, 1]);
    expect(magnitudeRatio(Float32Array.of(3, 4, 0, 1), Float32Array.of(0, 1, 0, 2), [1, 2, 2])).toBe(
      (5 + 0.5) / 2,
    );
  });

  it('with calibrated ratios cuts block evaluations on the toy DiT and UNet and stays within 10%', () => {
    for (const arch of ['dit', 'unet'] as const) {
      const model = toyModel(arch);
      const ref = toyRun(toyModel(arch), fullForward(toyModel(arch)));
      const magRatios = calibrateMagCache(model, new FlowMatchEulerDiscreteScheduler(), {
        steps: 20,
        batch: TOY_BATCH,
        dim: model.sampleSize,
        noise: rng(5).normal(TOY_BATCH * model.sampleSize),
        cond: [0, 3],
        guidanceScale: 3,
      });
      expect(magRatios.cond).toHaveLength(20);
      expect(magRatios.cond).not.toEqual(magRatios.uncond);
      const cached = cachedDenoiser(model, magCache({ magRatios }));
      const out = toyRun(model, cached, 20, cached);
      expect(cached.stats().blockEvaluations).toBeLessThan(2 * 20 * model.numBlocks * 0.6);
      expect(relativeError(out, ref)).toBeLessThan(0.1);
    }
  });

  it('needs ratios and names bad options', () => {
    expect(() => magCache({} as never)).toThrow(/magCache: option 'magRatios'/);
    expect(() => magCache({ magRatios: [1, -1] })).toThrow(/option 'magRatios/);
    expect(() => magCache({ magRatios: [1], retentionRatio: 2 })).toThrow(/option 'retentionRatio'/);
  });
});
