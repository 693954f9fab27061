import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import { relativeError, scriptedDecisions, toyModel, toyRun } from '../testing/toy-block-denoiser-runs';
import { cachedDenoiser } from './cached-denoiser';
import { deepCache } from './deep-cache';

describe('deepCache', () => {
  it('recomputes the shallow branch and reuses the deep span between full steps (hand-worked)', () => {
    const model = toyModel('unet'); // 5 blocks: down, down, mid, up, up
    expect(scriptedDecisions(cachedDenoiser(model, deepCache()), 8, model.sampleSize)).toEqual([
      'CCCCC',
      'CRRRC',
      'CRRRC',
      'CCCCC',
      'CRRRC',
      'CRRRC',
      'CCCCC',
      'CCCCC',
    ]);
    expect(
      scriptedDecisions(
        cachedDenoiser(model, deepCache({ cacheBranchId: 1, cacheInterval: 2 })),
        4,
        model.sampleSize,
      ),
    ).toEqual(['CCCCC', 'CCRCC', 'CCCCC', 'CCCCC']);
  });

  it('substitutes exactly the feature the full step produced', () => {
    const model = toyModel('unet');
    const cached = cachedDenoiser(model, deepCache({ cacheInterval: 2 }));
    const x0 = new Float64Array(model.sampleSize).fill(0.2);
    const x1 = new Float64Array(model.sampleSize).fill(-0.1);
    cached.beginGeneration(3);
    cached(x0, 700, [1]);
    const out = cached(x1, 650, [1]);
    const full = model.begin(x0, 700, [1]);
    for (let i = 0; i < 4; i++) full.runBlock(i);
    const pass = model.begin(x1, 650, [1]);
    pass.runBlock(0);
    pass.hidden = full.hidden;
    pass.shape = full.shape;
    pass.runBlock(4);
    expect(Array.from(out)).toEqual(Array.from(pass.finish()));
  });

  it('cuts block evaluations on the toy UNet and stays within 5% of the uncached sample', () => {
    const ref = toyRun(toyModel('unet'), fullForward(toyModel('unet')));
    const model = toyModel('unet');
    const cached = cachedDenoiser(model, deepCache());
    const out = toyRun(model, cached, 20, cached);
    // Full steps 0, 3, …, 18 and 19 (8); the other 12 run 2 of 5 blocks.
    expect(cached.stats().blockEvaluations).toBe(2 * (8 * 5 + 12 * 2));
    expect(relativeError(out, ref)).toBeLessThan(0.05);
  });

  it('rejects a DiT, a branch id without deep blocks, and bad options', () => {
    expect(() => cachedDenoiser(toyModel('dit'), deepCache())).toThrow(
      /deepCache: needs a UNet \(skip branches\), got a dit/,
    );
    expect(() => cachedDenoiser(toyModel('unet'), deepCache({ cacheBranchId: 2 }))).toThrow(
      /cacheBranchId' 2 leaves no deep blocks/,
    );
    expect(() => deepCache({ cacheInterval: 1.5 })).toThrow(/option 'cacheInterval'/);
  });
});
