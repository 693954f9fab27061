/**
 * PositionCache on the trained fixture code-mdlm: after a full forward, dropping any set of
 * positions and forwarding exactly that set against the rest gives the full forward's logits (the
 * cached entries are the same K/V, in another slot order); the bookkeeping of slots and tokens.
 */
import { rng } from '@hasten/core-tensor';
import type { MaskedDiffusionLM } from '@hasten/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_PROMPT, loadCodeMdlm } from './cache-testing';
import { PositionCache, range } from './position-cache';

let model: MaskedDiffusionLM;
beforeAll(async () => {
  model = await loadCodeMdlm();
});
afterAll(() => model?.dispose());

describe('PositionCache', () => {
  it('a dropped set forwarded against the rest gives the full forward logits (random sets, seed 3)', async () => {
    const M = model.maskTokenId;
    const x = Int32Array.from([...CODE_PROMPT, 49, 50, M, M, 43, M, M, M, M, M, M, M]);
    const L = x.length;
    const V = model.config.vocabSize;
    const g = rng(3);
    const pc = new PositionCache(model, 'bidirectional', L);
    try {
      const all = range(0, L);
      const full = (await pc.forward(x, all)).logits;
      expect(pc.forwards).toBe(1);
      for (let t = 0; t < 3; t++) {
        const u = g.uniform(L);
        const set = all.filter((p) => u[p] < 0.3);
        // Shuffled forward order: attention does not depend on it.
        const order = [...set].reverse();
        pc.drop((p) => set.includes(p));
        expect(pc.size).toBe(L - set.length);
        for (const p of set) expect(pc.has(p)).toBe(false);
        const part = (await pc.forward(x, order)).logits;
        let worst = 0;
        order.forEach((p, i) => {
          for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(part[i * V + v] - full[p * V + v]));
        });
        expect(worst).toBeLessThan(1e-4);
        expect(pc.positions().slice(L - set.length)).toEqual(order);
        expect([...pc.positions()].sort((a, b) => a - b)).toEqual(all);
      }
      expect(pc.cachedToken(CODE_PROMPT.length)).toBe(49);
      await expect(pc.forward(x, [0])).rejects.toThrow(/already cached/);
      pc.clear();
      expect(pc.size).toBe(0);
      expect(pc.cachedToken(0)).toBe(-1);
    } finally {
      pc.dispose();
    }
  });
});
