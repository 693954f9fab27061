/**
 * dLLM-Cache on the trained fixture code-mdlm: K_p = K_r = 1 is the uncached decoding exactly;
 * the refresh schedule and the size of the partial response updates follow the rule (recorded
 * forwards); V-verify's selection order on a hand example.
 */
import type { MaskedDiffusionLM } from '@hasten/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_PROMPT, decodeSteps, loadCodeMdlm, RecordingMDLM } from './cache-testing';
import { verifySelection } from './dllm-cache';
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

describe('dLLM-Cache', () => {
  it('K_p = K_r = 1 reproduces the uncached decoding step by step (sampled T=0.8, seed 9)', async () => {
    const opts = { ...base, temperature: 0.8, seed: 9 };
    const plain = await decodeSteps(model, opts);
    const cached = await decodeSteps(model, {
      ...opts,
      cache: 'dllm-cache',
      promptRefreshEvery: 1,
      responseRefreshEvery: 1,
    });
    expect(cached.events).toEqual(plain.events);
    expect(cached.forwards).toBe(plain.forwards);
  });

  it('refreshes prompt and response on their intervals and recomputes floor(rho * response) between', async () => {
    const rec = new RecordingMDLM(model);
    const Kp = 10;
    const Kr = 4;
    const rho = 0.25;
    const { events } = await decodeSteps(rec, {
      ...base,
      cache: 'dllm-cache',
      promptRefreshEvery: Kp,
      responseRefreshEvery: Kr,
      refreshRatio: rho,
    });
    expect(rec.forwarded.length).toBe(events.length); // n = 8 > 0: one forward per step
    const n = Math.floor(rho * base.genLength);
    const MASK = model.maskTokenId;
    // Plain simulation: the current tokens, and the token each position's cache entry saw.
    const x = [...CODE_PROMPT, ...new Array(base.genLength).fill(MASK)];
    const entry = new Array(L).fill(-1);
    events.forEach((e, s) => {
      const f = rec.forwarded[s];
      const prompt = s % Kp === 0;
      const response = s % Kr === 0;
      if (prompt && response) expect(f).toEqual(range(0, L));
      else if (response) expect(f).toEqual(range(P, L));
      else {
        const gen = f.filter((p) => p >= P);
        expect(gen.length).toBe(n);
        expect(f.filter((p) => p < P)).toEqual(prompt ? range(0, P) : []);
        // V-verify: the positions whose token changed since their entry (value similarity < 1 at
        // the first layer) come first; then the masked positions of the current block.
        const changed = range(P, L).filter((p) => entry[p] !== x[p]);
        if (changed.length <= n) {
          expect(changed.every((p) => gen.includes(p))).toBe(true);
          const lo = P + e.block * base.blockLength;
          const blockMasks = range(lo, lo + base.blockLength).filter((p) => x[p] === MASK);
          const room = n - changed.length;
          expect(blockMasks.slice(0, room).every((p) => gen.includes(p))).toBe(true);
        } else {
          expect(gen.every((p) => changed.includes(p))).toBe(true);
        }
      }
      for (const p of f) entry[p] = x[p];
      for (const c of e.commits) x[c.position + P] = c.token;
    });
  });

  it('rho = 0: only the refresh steps forward, the others reuse the cached logits', async () => {
    const { events, forwards } = await decodeSteps(model, {
      ...base,
      cache: 'dllm-cache',
      responseRefreshEvery: 7,
      refreshRatio: 0,
    });
    expect(events.length).toBe(32);
    expect(forwards).toBe(Math.ceil(32 / 7)); // steps 0, 7, 14, 21, 28
  });

  it('V-verify order: changed tokens, then the block masks, then nearest to the block', () => {
    const response = range(10, 20);
    const changed = new Set([18, 11]);
    const masked = new Set([12, 13, 15, 17, 19]);
    const pick = (n: number) =>
      verifySelection(
        response,
        n,
        12,
        16,
        (p) => changed.has(p),
        (p) => masked.has(p),
      );
    expect(pick(2)).toEqual([11, 18]);
    expect(pick(5)).toEqual([11, 12, 13, 15, 18]);
    // Then by distance to [12, 16): 14 (inside, committed) at 0, then 16 and... 10 at 2, 17 at 2.
    expect(pick(6)).toEqual([11, 12, 13, 14, 15, 18]);
    expect(pick(7)).toEqual([11, 12, 13, 14, 15, 16, 18]);
    expect(pick(0)).toEqual([]);
  });

  it('names the field of a bad option', async () => {
    await expect(
      generateDiffusion(model, { ...base, cache: 'dllm-cache', refreshRatio: 1.5 }),
    ).rejects.toThrow(/refreshRatio/);
    await expect(generateDiffusion(model, { ...base, cache: 'dllm-cache', refreshEvery: 2 })).rejects.toThrow(
      /option 'refreshEvery' must be unset with cache 'dllm-cache'/,
    );
    await expect(generateDiffusion(model, { ...base, promptRefreshEvery: 3 })).rejects.toThrow(
      /option 'cache' must be 'dllm-cache'/,
    );
  });
});
