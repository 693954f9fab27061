/**
 * Elastic-Cache on the trained fixture code-mdlm: refreshed every step it is the uncached decoding
 * exactly; the cached steps forward the sliding window plus the last step's commits; the drift
 * test never fires at gamma 0 and does at gamma 1; the attention pieces against hand values.
 */
import type { MaskedDiffusionLM } from '@hasten/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_PROMPT, decodeSteps, loadCodeMdlm, RecordingMDLM } from './cache-testing';
import { attentionProfile, attentionWeights, cosine, mostAttended } from './elastic-cache';
import { generateDiffusion } from './generate-diffusion';

let model: MaskedDiffusionLM;
beforeAll(async () => {
  model = await loadCodeMdlm();
});
afterAll(() => model?.dispose());

const base = { prompt: CODE_PROMPT, genLength: 32, blockLength: 16, eosFill: false } as const;
const P = CODE_PROMPT.length;
const L = P + base.genLength;
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('Elastic-Cache', () => {
  it('refreshEvery 1 reproduces the uncached decoding step by step (sampled T=0.8, seed 2)', async () => {
    const opts = { ...base, temperature: 0.8, seed: 2 };
    const plain = await decodeSteps(model, opts);
    const cached = await decodeSteps(model, { ...opts, cache: 'elastic', refreshEvery: 1 });
    expect(cached.events).toEqual(plain.events);
    expect(cached.forwards).toBe(plain.forwards);
  });

  it('block-causal attention: refreshEvery 1 equals the uncached decoding; the drift test runs masked', async () => {
    const opts = { ...base, attention: 'block-causal' as const, commit: 'threshold' as const, seed: 4 };
    const plain = await decodeSteps(model, opts);
    const cached = await decodeSteps(model, { ...opts, cache: 'elastic', refreshEvery: 1 });
    expect(cached.events).toEqual(plain.events);
    const drift = await decodeSteps(model, { ...opts, cache: 'elastic', driftThreshold: 1 });
    expect(drift.events.length).toBeGreaterThan(0);
    expect(drift.canvas).not.toContain(model.maskTokenId);
  });

  it('gamma 0: one forward per step, the window of beta masks plus the last commits', async () => {
    const rec = new RecordingMDLM(model);
    const beta = 4;
    const { events } = await decodeSteps(rec, { ...base, cache: 'elastic', driftThreshold: 0, window: beta });
    expect(rec.forwarded.length).toBe(events.length);
    const MASK = model.maskTokenId;
    const x = [...CODE_PROMPT, ...new Array(base.genLength).fill(MASK)];
    events.forEach((e, s) => {
      const lo = P + e.block * base.blockLength;
      if (s === 0 || events[s - 1].block !== e.block) expect(rec.forwarded[s]).toEqual(range(0, L));
      else {
        const window = range(lo, lo + base.blockLength)
          .filter((p) => x[p] === MASK)
          .slice(0, beta);
        const last = events[s - 1].commits.map((c) => c.position + P);
        expect(rec.forwarded[s]).toEqual([...new Set([...window, ...last])].sort((a, b) => a - b));
      }
      for (const c of e.commits) x[c.position + P] = c.token;
    });
  });

  it('gamma 1 triggers refreshes (extra forwards), gamma 0 none', async () => {
    const never = await generateDiffusion(model, { ...base, cache: 'elastic', driftThreshold: 0 });
    const always = await generateDiffusion(model, { ...base, cache: 'elastic', driftThreshold: 1 });
    expect(never.stats.forwards).toBe(32); // one token per step, no trigger
    expect(always.stats.forwards).toBeGreaterThan(32);
  });

  it('attention weights, most-attended keys and profile against hand values (GQA 2 heads : 1 kv head)', () => {
    // d = 2, scale 1/sqrt(2); head 0 query [2, 0], head 1 query [0, 2]; keys [1, 0], [0, 1], [1, 1].
    const q = Float32Array.from([2, 0, 0, 2]);
    const k = Float32Array.from([1, 0, 0, 1, 1, 1]);
    const { perHead, n, T } = attentionWeights(q, k, 2, 1, 2);
    expect([n, T]).toEqual([1, 3]);
    const s = Math.SQRT2; // 2 / sqrt(2)
    const z0 = Math.exp(s) + Math.exp(0) + Math.exp(s);
    expect(perHead[0]).toBeCloseTo(Math.exp(s) / z0, 12);
    expect(perHead[1]).toBeCloseTo(1 / z0, 12);
    expect(perHead[4]).toBeCloseTo(Math.exp(s) / z0, 12); // head 1, key [0, 1]
    // Head means: key 2 ([1, 1]) gets exp(s)/z0 from both heads: the most attended.
    expect(mostAttended(perHead, 2, n, T)).toEqual([2]);
    expect(attentionProfile(perHead, 2, n, T, [0, 2])).toEqual([
      perHead[0],
      perHead[2],
      perHead[3],
      perHead[5],
    ]);
    // Hiding key 0 from the query: head 0 renormalises over keys 1 and 2.
    const hidden = attentionWeights(q, k, 2, 1, 2, (_i, j) => j !== 0).perHead;
    expect(hidden[0]).toBe(0);
    expect(hidden[1]).toBeCloseTo(1 / (1 + Math.exp(s)), 12);
    expect(hidden[2]).toBeCloseTo(Math.exp(s) / (1 + Math.exp(s)), 12);
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([1, 2], [2, 4])).toBeCloseTo(1, 12);
  });

  it('names the field of a bad option', async () => {
    await expect(generateDiffusion(model, { ...base, cache: 'elastic', driftLayer: 4 })).rejects.toThrow(
      /option 'driftLayer' must be a layer index in \[0, 4\)/,
    );
    await expect(generateDiffusion(model, { ...base, cache: 'elastic', driftThreshold: 2 })).rejects.toThrow(
      /driftThreshold/,
    );
    await expect(generateDiffusion(model, { ...base, cache: 'dual', window: 4 })).rejects.toThrow(
      /option 'cache' must be 'elastic' when option 'window' is set/,
    );
  });
});
