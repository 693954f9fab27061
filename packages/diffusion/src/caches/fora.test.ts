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
import { fora } from './fora';

describe('fora', () => {
  it('computes every N-th step and adds the cached block residuals in between (hand-worked)', () => {
    // Block i adds (i + 1)·(t + 1); reused steps add the residuals of the last full step.
    const model = new ScriptedDiT(3, (i, t) => (i + 1) * (t + 1));
    const cached = cachedDenoiser(model, fora({ cacheInterval: 2 }));
    expect(scriptedDecisions(cached, 6)).toEqual(['CCC', 'RRR', 'CCC', 'RRR', 'CCC', 'CCC']);
    cached.beginGeneration(3);
    expect(cached(Float64Array.of(0.5), 0, [null])[0]).toBe(0.5 + 6);
    expect(cached(Float64Array.of(0.5), 1, [null])[0]).toBe(0.5 + 6); // step 0's residuals, not 12
    expect(cached(Float64Array.of(0.5), 2, [null])[0]).toBe(0.5 + 18);
  });

  it('cuts block evaluations on the toy DiT and stays within 5% of the uncached sample', () => {
    const ref = toyRun(toyModel('dit'), fullForward(toyModel('dit')));
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, fora());
    const out = toyRun(model, cached, 20, cached);
    // 20 steps, N = 3: steps 0, 3, …, 18 and the last are computed: 8 of 20.
    expect(cached.stats().blockEvaluations).toBe(2 * 8 * 6);
    expect(relativeError(out, ref)).toBeLessThan(0.05);
  });

  it('names the bad option', () => {
    expect(() => fora({ cacheInterval: 0 })).toThrow(/fora: option 'cacheInterval' is invalid/);
    expect(() => fora({ interval: 2 } as never)).toThrow(/"interval"; allowed: cacheInterval/);
  });
});
