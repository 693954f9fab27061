import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import {
  relativeError,
  scriptedDecisions,
  TOY_BATCH,
  toyModel,
  toyRun,
} from '../testing/toy-block-denoiser-runs';
import { cachedDenoiser } from './cached-denoiser';
import { ras } from './ras';
import { staticSchedule } from './static-schedule';

describe('ras', () => {
  it('runs RAS steps from the start step on, except error-reset steps and the guarded last step', () => {
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, ras({ schedulerStartStep: 4, errorResetSteps: [6] }));
    model.blockEvaluations = 0;
    expect(scriptedDecisions(cached, 9, model.sampleSize)).toEqual(
      ['C', 'C', 'C', 'C', 'P', 'P', 'C', 'P', 'C'].map((c) => c.repeat(6)),
    );
    // 6 full passes, 3 passes on ⌈0.5 · 8⌉ = 4 tokens.
    expect(model.blockEvaluations).toBe(6 * 6 + 3 * 6 * 0.5);
  });

  it('updates the token rows whose final features changed most over the previous step', () => {
    const model = toyModel('dit');
    const cached = cachedDenoiser(
      model,
      ras({ schedulerStartStep: 2, sampleRatio: 0.25, errorResetSteps: [] }),
    );
    const x = (k: number) => new Float64Array(model.sampleSize).map((_, j) => Math.sin(j + 0.1 * k));
    cached.beginGeneration(4);
    const finals: Float32Array[] = [];
    for (let k = 0; k < 2; k++) {
      // Readable reference of the two full passes' final hidden states.
      const p = model.begin(x(k), 900 - 100 * k, [null]);
      for (let i = 0; i < model.numBlocks; i++) p.runBlock(i);
      finals.push(p.hidden);
      cached(x(k), 900 - 100 * k, [null]);
    }
    const change = Array.from({ length: 8 }, (_, tok) => {
      let d = 0;
      for (let w = 0; w < 16; w++) d += (finals[1][tok * 16 + w] - finals[0][tok * 16 + w]) ** 2;
      return d;
    });
    const expected = change
      .map((d, tok) => [d, tok])
      .sort((p, q) => q[0] - p[0])
      .slice(0, 2)
      .map((p) => p[1])
      .sort();
    // Spy on the rows the model is asked to update at step 2.
    const seen: number[][] = [];
    const begin = model.begin.bind(model);
    model.begin = (xx, t, c) => {
      const pass = begin(xx, t, c);
      const run = pass.runBlock.bind(pass);
      pass.runBlock = (i, o) => {
        if (o?.tokens) seen.push(Array.from(o.tokens));
        run(i, o);
      };
      return pass;
    };
    cached(x(2), 700, [null]);
    expect(seen).toHaveLength(model.numBlocks);
    for (const rows of seen) expect(rows).toEqual(expected);
  });

  it('with no token updated equals the matching static schedule of whole-block reuse', () => {
    const steps = 8;
    const a = toyModel('dit');
    const b = toyModel('dit');
    const c1 = cachedDenoiser(a, ras({ sampleRatio: 0, schedulerStartStep: 0, errorResetSteps: [] }));
    const rows = Array.from({ length: steps }, (_, k) => new Array(6).fill(k < 2 || k === steps - 1 ? 1 : 0));
    const c2 = cachedDenoiser(b, staticSchedule({ schedule: rows }));
    expect(Array.from(toyRun(a, c1, steps, c1))).toEqual(Array.from(toyRun(b, c2, steps, c2)));
  });

  it('updating half the tokens stays within 5% of the uncached sample with fewer block evaluations', () => {
    const ref = toyRun(toyModel('dit'), fullForward(toyModel('dit')));
    const model = toyModel('dit');
    const cached = cachedDenoiser(model, ras());
    const out = toyRun(model, cached, 20, cached);
    expect(model.blockEvaluations / TOY_BATCH).toBeLessThan(0.75 * 2 * 20 * 6);
    expect(relativeError(out, ref)).toBeLessThan(0.05);
  });

  it('names bad options', () => {
    expect(() => ras({ sampleRatio: -0.5 })).toThrow(/ras: option 'sampleRatio'/);
    expect(() => ras({ errorResetSteps: [1.5] })).toThrow(/option 'errorResetSteps.0'/);
  });
});
