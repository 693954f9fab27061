/**
 * Learn2PD (learn2pd.ts, learn2pd-train.ts):
 * - training recovers a planted logistic rule from synthetic features (fixed seeds, stated
 *   tolerances), and the MLP fits a planted non-linear rule;
 * - features, the commit rule and the filter schema against hand-worked values;
 * - the trace recorder decodes exactly like LLaDA greedy 1 token/step (generateDiffusion);
 * - on the fixture code-mdlm with its trained filter (fixtures/code-mdlm/learn2pd.json): tau =
 *   Infinity is LLaDA low-confidence at one token per step, event for event; the filter's own tau
 *   commits more than one token per step;
 * - option errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '@hasten/core-tensor';
import type { MaskedDiffusionLM } from '@hasten/models';
import { loadMaskedDiffusionLM } from '@hasten/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodingError } from '../errors';
import { FIXTURES } from '../testing';
import { type DiffusionStepEvent, streamDiffusion } from './generate-diffusion';
import {
  LEARN2PD_FEATURES,
  type Learn2pdFilter,
  learn2pdCommits,
  learn2pdFeatures,
  learn2pdScore,
  parseLearn2pdFilter,
  sigmoid,
} from './learn2pd';
import { evaluateLearn2pdFilter, learn2pdTrace, trainLearn2pdFilter } from './learn2pd-train';
import type { DiffusionOptions } from './options';
import { SyntheticMDLM } from './testing';

const F = LEARN2PD_FEATURES.length;

/** The filter's logit as a linear function of the raw features: [w, b]. */
function rawLinear(f: Learn2pdFilter): [number[], number] {
  const w = f.w2.map((wi, i) => wi / f.std[i]);
  const b = f.b2 - f.w2.reduce((s, wi, i) => s + (wi * f.mean[i]) / f.std[i], 0);
  return [w, b];
}

describe('Learn2PD filter training', () => {
  it('recovers a planted logistic rule (N = 20000, weights within 0.15)', () => {
    const N = 20000;
    const gen = rng(7);
    const raw = gen.normal(N * F);
    const u = gen.uniform(N);
    // Features on different scales and offsets, as the real ones are.
    const X = Array.from({ length: N }, (_, n) =>
      Float64Array.from({ length: F }, (_, i) => 0.5 + i * 0.1 + raw[n * F + i] * (0.2 + 0.1 * i)),
    );
    const w = [2, -1.5, 0.8, 0, 1.2, -0.6, 0.4];
    const b = -1;
    const y = X.map((x, n) => (u[n] < sigmoid(b + x.reduce((s, xi, i) => s + w[i] * xi, 0)) ? 1 : 0));
    const f = trainLearn2pdFilter(X, y, { hidden: 0, epochs: 500, learningRate: 0.05, l2: 0, seed: 1 });
    const [wHat, bHat] = rawLinear(f);
    for (let i = 0; i < F; i++) expect(Math.abs(wHat[i] - w[i])).toBeLessThan(0.15);
    expect(Math.abs(bHat - b)).toBeLessThan(0.4);
    // The same data and seed give the same weights.
    const again = trainLearn2pdFilter(X, y, { hidden: 0, epochs: 500, learningRate: 0.05, l2: 0, seed: 1 });
    expect(again).toEqual(f);
  });

  it('the MLP learns a planted rule a linear filter cannot (|x0| < 0.5): accuracy >= 0.95', () => {
    const N = 4000;
    const raw = rng(3).uniform(N * F);
    const X = Array.from({ length: N }, (_, n) =>
      Float64Array.from({ length: F }, (_, i) => raw[n * F + i] * 2 - 1),
    );
    const y = X.map((x) => (Math.abs(x[0]) < 0.5 ? 1 : 0));
    const mlp = trainLearn2pdFilter(X, y, { hidden: 8, epochs: 600, learningRate: 0.05, seed: 0 });
    const lin = trainLearn2pdFilter(X, y, { hidden: 0, epochs: 600, learningRate: 0.05, seed: 0 });
    expect(evaluateLearn2pdFilter(mlp, X, y).accuracy).toBeGreaterThanOrEqual(0.95);
    expect(evaluateLearn2pdFilter(lin, X, y).accuracy).toBeLessThan(0.7);
    expect(parseLearn2pdFilter(JSON.parse(JSON.stringify(mlp)))).toEqual(mlp);
  });
});

describe('Learn2PD pieces', () => {
  it('features match hand-computed values', () => {
    // Vocab 4 (mask 3): logits ln [0.5, 0.3, 0.2] and -Inf for the mask.
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.2), Number.NEGATIVE_INFINITY];
    const x = Int32Array.from([0, 3, 3, 3, 3, 1]); // prompt [0], block [1, 5), then a committed 1
    const f = learn2pdFeatures(logits, 0, { x, position: 2, lo: 1, hi: 5, mask: 3, eos: 0 });
    const H = -(0.5 * Math.log(0.5) + 0.3 * Math.log(0.3) + 0.2 * Math.log(0.2)) / Math.log(4);
    const want = [0.5, 0.2, H, 1 / 3, 2 / 4, 0, 1]; // nearest token: the prompt, 2 away
    for (let i = 0; i < want.length; i++) expect(f[i]).toBeCloseTo(want[i], 12);
    const g = learn2pdFeatures(logits, 1, { x, position: 4, lo: 1, hi: 5, mask: 3, eos: undefined });
    expect(g[1]).toBeCloseTo(0.3 - 0.5, 12);
    expect(g[3]).toBe(1);
    expect(g[4]).toBeCloseTo(1 / 4, 12); // position 5 holds a token
    expect(g[6]).toBe(0);
  });

  it('commits every position scored >= tau, else the most confident one', () => {
    const c = [
      { position: 4, confidence: 0.6, score: 0.95 },
      { position: 5, confidence: 0.9, score: 0.2 },
      { position: 6, confidence: 0.9, score: 0.91 },
    ];
    expect(learn2pdCommits(c, 0.9)).toEqual([
      { index: 0, reason: 'learn2pd' },
      { index: 2, reason: 'learn2pd' },
    ]);
    expect(learn2pdCommits(c, Number.POSITIVE_INFINITY)).toEqual([{ index: 1, reason: 'low-confidence' }]);
    expect(learn2pdCommits([], 0.5)).toEqual([]);
    expect(() => learn2pdCommits(c, Number.NaN)).toThrow(DecodingError);
  });

  it('the filter schema rejects bad filters with the field named', () => {
    const ok = trainLearn2pdFilter([Float64Array.from({ length: F }, (_, i) => i)], [1], {
      hidden: 2,
      epochs: 1,
    });
    expect(learn2pdScore(parseLearn2pdFilter(ok), new Float64Array(F))).toBeGreaterThan(0);
    expect(() => parseLearn2pdFilter({ ...ok, w1: [1] })).toThrow(/'w1'.*must hold 14 numbers/);
    expect(() => parseLearn2pdFilter({ ...ok, features: ['confidence'] })).toThrow(/features/);
    expect(() => parseLearn2pdFilter({ ...ok, extra: 1 })).toThrow(/extra/);
    expect(() => parseLearn2pdFilter({ ...ok, std: ok.std.map(() => 0) })).toThrow(/std/);
    expect(() => parseLearn2pdFilter({ ...ok, b2: Number.NaN })).toThrow(/b2/);
    expect(() => parseLearn2pdFilter({ ...ok, format: 'x' })).toThrow(/format/);
  });

  it('the trace decodes like LLaDA greedy 1 token/step and labels against the final tokens', async () => {
    const V = 9;
    const mask = 8;
    const m = new SyntheticMDLM(mask, V, (p, x) => {
      const masks = x.filter((t) => t === mask).length;
      return Array.from({ length: V }, (_, v) =>
        v === mask ? 0 : Math.sin(p * 1.7 + v * 2.3 + masks * 0.9),
      );
    });
    const prompt = [1, 2];
    const t = await learn2pdTrace(m, prompt, { genLength: 6, blockLength: 3 });
    const it = streamDiffusion(m, { prompt, genLength: 6, blockLength: 3, steps: 6, eosFill: false });
    let r = await it.next();
    while (!r.done) r = await it.next();
    expect(t.tokens).toEqual(r.value.rows[0].canvas);
    expect(t.forwards).toBe(6);
    // rows: 3 + 2 + 1 masked positions per block
    expect(t.features).toHaveLength(12);
    expect(t.labels.filter((l) => l === 1).length).toBeGreaterThanOrEqual(6); // each commit's own row
  });
});

describe('Learn2PD decoding on code-mdlm', () => {
  let mdlm: MaskedDiffusionLM;
  let filter: Learn2pdFilter;
  beforeAll(async () => {
    mdlm = await loadMaskedDiffusionLM(join(FIXTURES, 'code-mdlm'));
    filter = parseLearn2pdFilter(
      JSON.parse(readFileSync(join(FIXTURES, 'code-mdlm', 'learn2pd.json'), 'utf8')),
    );
  });
  afterAll(() => mdlm?.dispose());

  const prompt = [256, ...new TextEncoder().encode('31-4*7=')];
  const base = { prompt, genLength: 32, blockLength: 16, eosFill: false } as const;

  async function events(o: DiffusionOptions) {
    const out: DiffusionStepEvent[] = [];
    const it = streamDiffusion(mdlm, o);
    while (true) {
      const r = await it.next();
      if (r.done) return { events: out, canvas: r.value.rows[0].canvas };
      if (r.value.type === 'step') out.push(r.value);
    }
  }

  it('tau = Infinity equals LLaDA low-confidence at one token per step, event for event', async () => {
    const l2 = await events({
      ...base,
      commit: 'learn2pd',
      learn2pdFilter: filter,
      learn2pdThreshold: Number.POSITIVE_INFINITY,
    });
    const llada = await events({ ...base, steps: 32 });
    expect(l2.canvas).toEqual(llada.canvas);
    expect(l2.events).toEqual(llada.events);
  });

  it("the filter's tau commits more than one token per step", async () => {
    const l2 = await events({ ...base, commit: 'learn2pd', learn2pdFilter: filter });
    expect(l2.events.length).toBeLessThan(32 / 2);
    expect(l2.events.some((e) => e.commits.filter((c) => c.reason === 'learn2pd').length > 1)).toBe(true);
    expect(l2.canvas).not.toContain(mdlm.maskTokenId);
  });

  it('rejects bad options', () => {
    const bad = (o: Partial<DiffusionOptions>) => () =>
      streamDiffusion(mdlm, { ...base, ...o } as DiffusionOptions);
    expect(bad({ commit: 'learn2pd' })).toThrow(/option 'learn2pdFilter' must be set with commit 'learn2pd'/);
    expect(bad({ learn2pdFilter: filter })).toThrow(/'learn2pd' when option 'learn2pdFilter'/);
    expect(bad({ commit: 'learn2pd', learn2pdFilter: filter, learn2pdThreshold: 0 })).toThrow(
      /learn2pdThreshold/,
    );
    expect(bad({ commit: 'learn2pd', learn2pdFilter: { ...filter, hidden: 3 } })).toThrow(
      /learn2pdFilter\.w1/,
    );
    expect(bad({ commit: 'learn2pd', learn2pdFilter: filter, remasking: 'random' })).toThrow(/remasking/);
  });
});
