import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import {
  relativeError,
  scriptedDecisions,
  TOY_BATCH,
  toyModel,
  toyRun,
} from '../testing/toy-block-denoiser-runs';
import { cachedDenoiser, topTokens } from './cached-denoiser';
import { fora } from './fora';
import { toCa } from './to-ca';

describe('toCa', () => {
  it('picks the top-scoring tokens, ascending, ties to the lower index', () => {
    expect(Array.from(topTokens(Float64Array.of(0.1, 0.5, 0.3, 0.5), 2))).toEqual([1, 3]);
    expect(Array.from(topTokens(Float64Array.of(0.1, 0.5, 0.3, 0.5), 3))).toEqual([1, 2, 3]);
    expect(Array.from(topTokens(Float64Array.of(1, 2), 0))).toEqual([]);
  });

  it('computes everything on fresh steps and ⌈R·T⌉ tokens per block on the others', () => {
    const model = toyModel('dit'); // 8 tokens, 6 blocks
    const cached = cachedDenoiser(model, toCa({ freshThreshold: 2, freshRatio: 0.25 }));
    model.blockEvaluations = 0;
    expect(scriptedDecisions(cached, 5, model.sampleSize)).toEqual([
      'CCCCCC',
      'PPPPPP',
      'CCCCCC',
      'PPPPPP',
      'CCCCCC',
    ]);
    // 3 full passes of 6 blocks, 2 passes of 6 blocks on 2 of 8 tokens (1 item each).
    expect(model.blockEvaluations).toBe(3 * 6 + 2 * 6 * (2 / 8));
  });

  it('recomputes the tokens whose block input changed most since they were cached (readable reference)', () => {
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, toCa({ freshThreshold: 4, freshRatio: 0.25 }));
    const x = (k: number) =>
      new Float64Array(2 * model.sampleSize).map((_, j) => Math.cos(0.7 * j + 0.3 * k));
    cached.beginGeneration(4);
    cached(x(0), 800, [1, 3]);
    // Block 0's inputs at both steps are the stem outputs; staleness is 0 after the fresh step.
    const h0 = model.begin(x(0), 800, [1, 3]).hidden;
    const h1 = model.begin(x(1), 750, [1, 3]).hidden;
    const score = Array.from({ length: 8 }, (_, tok) => {
      let s = 0;
      for (let b = 0; b < 2; b++) {
        let num = 0;
        let den = 0;
        for (let w = 0; w < 16; w++) {
          const k = (b * 8 + tok) * 16 + w;
          num += (h1[k] - h0[k]) ** 2;
          den += h0[k] ** 2;
        }
        s += Math.sqrt(num / den);
      }
      return s;
    });
    const expected = score
      .map((v, tok) => [v, tok])
      .sort((p, q) => q[0] - p[0])
      .slice(0, 2)
      .map((p) => p[1])
      .sort();
    const seen: number[][] = [];
    const begin = model.begin.bind(model);
    model.begin = (xx, t, c) => {
      const pass = begin(xx, t, c);
      const run = pass.runBlock.bind(pass);
      pass.runBlock = (i, o) => {
        if (i === 0 && o?.tokens) seen.push(Array.from(o.tokens));
        run(i, o);
      };
      return pass;
    };
    cached(x(1), 750, [1, 3]);
    expect(seen).toEqual([expected]);
  });

  it('with no token recomputed equals FORA at the same interval (every row reuses its cached residual)', () => {
    const a = toyModel('dit');
    const b = toyModel('dit');
    const c1 = cachedDenoiser(a, toCa({ freshThreshold: 3, freshRatio: 0 }));
    const c2 = cachedDenoiser(b, fora({ cacheInterval: 3 }));
    expect(Array.from(toyRun(a, c1, 12, c1))).toEqual(Array.from(toyRun(b, c2, 12, c2)));
  });

  it('recomputing a quarter of the tokens stays within 5% of the uncached sample with fewer block evaluations', () => {
    const ref = toyRun(toyModel('dit'), fullForward(toyModel('dit')));
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, toCa({ freshRatio: 0.25 }));
    const out = toyRun(model, cached, 20, cached);
    expect(model.blockEvaluations / TOY_BATCH).toBeLessThan(0.6 * 2 * 20 * 6);
    expect(relativeError(out, ref)).toBeLessThan(0.05);
  });

  it('names bad options', () => {
    expect(() => toCa({ freshRatio: 1.5 })).toThrow(/toCa: option 'freshRatio'/);
  });
});
