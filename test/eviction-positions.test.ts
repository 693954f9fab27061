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

  it('rejects a negative or fractional offset and carries the offset into forks', () => {
    const cache = new ContiguousKVCache({ numLayers: 1, batch: 1, numKvHeads: 1, headDim: 2, maxLength: 8 });
    expect(() => cache.addPositionOffset(-1)).toThrow(/non-negative integer/);
    expect(() => cache.addPositionOffset(1.5)).toThrow(/non-negative integer/);
    cache.addPositionOffset(3);
    expect(cache.fork().positionOffset).toBe(3);
  });
});
