// Cross-package: after @hasten/kv's compress() evicts positions, @hasten/models continues at the
// true positions (cache.positionOffset). The reference is the full cache with the evicted positions
// masked out of attention: the same keys, the same query positions, so the logits must agree.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import { ContiguousKVCache, compress, keyNorm, streamingLLM } from '@hasten/kv';
import { loadCausalLM } from '@hasten/models/node';
import { describe, expect, it } from 'vitest';
import { FIXTURES, fixtureDir } from '../packages/models/src/testing';

describe('decoding after eviction (code-target)', () => {
  it('equals the full cache with the evicted positions masked, for several steps', async () => {
    const model = await loadCausalLM(fixtureDir('code-target'));
    const bytes = readFileSync(join(FIXTURES, 'corpus/heldout/enum.py'));
    const prompt = [256, ...bytes.subarray(1000, 1159)]; // 160 tokens
    const next = [...bytes.subarray(1159, 1163)]; // 4 decode steps
    const { numLayers, numKvHeads, headDim } = model.config;
    const shape = { numLayers, batch: 1, numKvHeads, headDim, maxLength: 256 };
    const ids = (xs: number[]) => tensor(Int32Array.from(xs), [1, xs.length], { dtype: 'i32' });

    for (const policy of [streamingLLM({ sinks: 4 }), keyNorm()]) {
      const evicting = new ContiguousKVCache(shape);
      const full = new ContiguousKVCache(shape);
      (await model.forward({ tokens: ids(prompt), cache: evicting })).logits.dispose();
      (await model.forward({ tokens: ids(prompt), cache: full })).logits.dispose();
      const kept = compress(evicting, { policy, keep: 64 });
      expect(kept).toHaveLength(64);
      expect(evicting.length).toBe(64);
      expect(evicting.positionOffset).toBe(prompt.length - 64);

      const visible = new Set(kept);
      for (let s = 0; s < next.length; s++) {
        const a = await model.forward({ tokens: ids([next[s]]), cache: evicting });
        // Full cache: hide the evicted prompt positions; every decoded position stays visible.
        const total = full.length + 1;
        const mask = new Uint8Array(total).map((_, p) => (p >= prompt.length || visible.has(p) ? 1 : 0));
        const attention = tensor(mask, [1, 1, 1, total], { dtype: 'bool' });
        const b = await model.forward({ tokens: ids([next[s]]), cache: full, attention });
        const la = (await a.logits.data()) as Float32Array;
        const lb = (await b.logits.data()) as Float32Array;
        let err = 0;
        for (let i = 0; i < la.length; i++) err = Math.max(err, Math.abs(la[i] - lb[i]));
        expect(err, `${policy.name} step ${s}`).toBeLessThan(1e-4);
        a.logits.dispose();
        b.logits.dispose();
      }
      expect(evicting.positionOffset).toBe(prompt.length - 64);
      evicting.truncate(0);
      expect(evicting.positionOffset).toBe(0);
      evicting.dispose();
      full.dispose();
    }
    model.dispose();
  }, 120_000);

  it('per-head eviction (ada-kv) equals the full cache with the same slots hidden per head', async () => {
    const model = await loadCausalLM(fixtureDir('code-target'));
    const bytes = readFileSync(join(FIXTURES, 'corpus/heldout/enum.py'));
    const prompt = [256, ...bytes.subarray(3000, 3139)]; // 140 tokens
    const next = [...bytes.subarray(3139, 3142)];
    const { numLayers, numKvHeads, headDim } = model.config;
    const shape = { numLayers, batch: 1, numKvHeads, headDim, maxLength: 256 };
    const ids = (xs: number[]) => tensor(Int32Array.from(xs), [1, xs.length], { dtype: 'i32' });
    const evicting = new ContiguousKVCache(shape);
    const full = new ContiguousKVCache(shape);
    (await model.forward({ tokens: ids(prompt), cache: evicting })).logits.dispose();
    (await model.forward({ tokens: ids(prompt), cache: full })).logits.dispose();
    const union = compress(evicting, { policy: keyNorm(), keep: 32, allocation: 'ada-kv' });
    const U = union.length;
    const T = prompt.length;
    expect(U).toBeGreaterThan(32);
    expect(evicting.positionOffset).toBe(T - U);
    // The same per-head sets on the full cache, without moving anything.
    let differs = false;
    for (let l = 0; l < numLayers; l++) {
      const vis = evicting.visibility(l)!;
      const wide = new Uint8Array(numKvHeads * T);
      for (let r = 0; r < numKvHeads; r++)
        for (let i = 0; i < U; i++) wide[r * T + union[i]] = vis[r * U + i];
      full.setVisibility(l, wide);
      for (let i = 0; i < U; i++) if (vis[i] !== vis[U + i]) differs = true;
    }
    expect(differs).toBe(true); // the heads really keep different positions
    for (const t of next) {
      const a = await model.forward({ tokens: ids([t]), cache: evicting });
      const b = await model.forward({ tokens: ids([t]), cache: full });
      const la = (await a.logits.data()) as Float32Array;
      const lb = (await b.logits.data()) as Float32Array;
      let err = 0;
      for (let i = 0; i < la.length; i++) err = Math.max(err, Math.abs(la[i] - lb[i]));
      expect(err).toBeLessThan(1e-4);
    }
    model.dispose();
  }, 120_000);

  it('hiding a slot in every head equals masking it in the attention input', async () => {
    const model = await loadCausalLM(fixtureDir('code-target'));
    const { numLayers, numKvHeads, headDim } = model.config;
    const shape = { numLayers, batch: 1, numKvHeads, headDim, maxLength: 64 };
    const ids = (xs: number[]) => tensor(Int32Array.from(xs), [1, xs.length], { dtype: 'i32' });
    const prompt = [256, ...Array.from('import os\nprint(os.getcwd())', (c) => c.charCodeAt(0))];
    const hidden = new Set([3, 4, 9, 17]);
    const a = new ContiguousKVCache(shape);
    const b = new ContiguousKVCache(shape);
    (await model.forward({ tokens: ids(prompt), cache: a })).logits.dispose();
    (await model.forward({ tokens: ids(prompt), cache: b })).logits.dispose();
    const T = prompt.length;
    const vis = new Uint8Array(numKvHeads * T).map((_, i) => (hidden.has(i % T) ? 0 : 1));
    for (let l = 0; l < numLayers; l++) a.setVisibility(l, vis);
    const mask = new Uint8Array(T + 1).map((_, p) => (hidden.has(p) ? 0 : 1));
    const la = (await (await model.forward({ tokens: ids([10]), cache: a })).logits.data()) as Float32Array;
    const lb = (await (
      await model.forward({
        tokens: ids([10]),
        cache: b,
        attention: tensor(mask, [1, 1, 1, T + 1], { dtype: 'bool' }),
      })
    ).logits.data()) as Float32Array;
    let err = 0;
    for (let i = 0; i < la.length; i++) err = Math.max(err, Math.abs(la[i] - lb[i]));
    expect(err).toBeLessThan(1e-5);
    expect(() => a.setVisibility(0, new Uint8Array(3))).toThrow(/expected \[1, 4, 30\]/);
    model.dispose();
  }, 120_000);

  it('rejects a negative or fractional offset and carries the offset into forks', () => {
    const cache = new ContiguousKVCache({ numLayers: 1, batch: 1, numKvHeads: 1, headDim: 2, maxLength: 8 });
    expect(() => cache.addPositionOffset(-1)).toThrow(/non-negative integer/);
    expect(() => cache.addPositionOffset(1.5)).toThrow(/non-negative integer/);
    cache.addPositionOffset(3);
    expect(cache.fork().positionOffset).toBe(3);
  });
});
