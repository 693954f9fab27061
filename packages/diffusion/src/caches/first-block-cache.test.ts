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
import { firstBlockCache } from './first-block-cache';

describe('firstBlockCache', () => {
  it('skips the tail while block 0’s residual changed by at most the threshold since the last full step (hand-worked)', () => {
    // r0 by step: 1, 1.05, 1.12, 1.3, 1.35, 1.4; relative changes against the last computed r0:
    // 0.05 (skip), 0.12 (compute), 0.18/1.12 = 0.16 (compute), 0.05/1.3 = 0.038 (skip), last step.
    const r0 = [1, 1.05, 1.12, 1.3, 1.35, 1.4];
    const model = new ScriptedDiT(3, (i, t) => (i === 0 ? r0[t] : 10 * (t + 1)));
    const cached = cachedDenoiser(model, firstBlockCache({ threshold: 0.1 }));
    expect(scriptedDecisions(cached, 6)).toEqual(['CCC', 'CRR', 'CCC', 'CCC', 'CRR', 'CCC']);
    cached.beginGeneration(2 + 1);
    cached(Float64Array.of(0), 0, [null]);
    // Step 1: block 0 at t = 1 (1.05), then the tail residual of step 0 (10 + 10).
    expect(cached(Float64Array.of(0), 1, [null])[0]).toBeCloseTo(1.05 + 20, 5);
  });

  it('cuts block evaluations on the toy DiT at threshold 0.1 and stays within 5% of the uncached sample', () => {
    const ref = toyRun(toyModel('dit'), fullForward(toyModel('dit')));
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, firstBlockCache({ threshold: 0.1 }));
    const out = toyRun(model, cached, 20, cached);
    expect(cached.stats().reused).toBeGreaterThan(0);
    expect(cached.stats().blockEvaluations).toBeLessThan(2 * 20 * 6);
    expect(relativeError(out, ref)).toBeLessThan(0.05);
  });

  it('rejects a UNet and a negative threshold', () => {
    expect(() => cachedDenoiser(toyModel('unet'), firstBlockCache())).toThrow(/firstBlockCache: needs a DiT/);
    expect(() => firstBlockCache({ threshold: -0.1 })).toThrow(/option 'threshold'/);
  });
});
