import { tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from '../contiguous';
import { cat, expectEveryLayer, pick, randomKV, step, uniforms } from '../testing';
import { compress } from './scorer';
import { streamingLLM } from './streaming-llm';
import { keysT, scoreMismatch, valuesT } from './testing';

describe('streamingLLM', () => {
  it('scores sinks +Infinity and the other positions by recency', () => {
    const input = { layer: 0, keys: keysT(), values: valuesT() };
    const I = Infinity;
    expect(scoreMismatch(streamingLLM().score(input), [I, I, I, I, 4, 5, I, I, I, I, 4, 5])).toBeNull();
    expect(
      scoreMismatch(streamingLLM({ sinks: 2 }).score(input), [I, I, 2, 3, 4, 5, I, I, 2, 3, 4, 5]),
    ).toBeNull();
  });

  it('always keeps the sinks and the most recent window', async () => {
    const T = 12;
    for (let keep = 5; keep < T; keep++) {
      const rand = uniforms(keep);
      const cache = new ContiguousKVCache({
        numLayers: 2,
        batch: 2,
        numKvHeads: 2,
        headDim: 3,
        maxLength: 16,
      });
      const kv = randomKV(rand, [2, 2, T, 3]);
      step(cache, kv.t, kv.t);
      const kept = compress(cache, { policy: streamingLLM(), keep });
      const want = [0, 1, 2, 3, ...Array.from({ length: keep - 4 }, (_, i) => T - (keep - 4) + i)];
      expect(kept).toEqual(want);
      expect(cache.length).toBe(keep);
      await expectEveryLayer(cache, cat([pick(kv.vals, want)]));
    }
  });

  it('rejects unknown options, naming the allowed ones', () => {
    expect(() => streamingLLM({ sink: 2 } as never)).toThrow(/"sink".*allowed: sinks/);
    expect(() => streamingLLM({ sinks: -1 })).toThrow(/sinks/);
  });

  it('keeps everything when the cache is not longer than keep', () => {
    const cache = new ContiguousKVCache({ numLayers: 1, batch: 1, numKvHeads: 1, headDim: 1, maxLength: 8 });
    step(cache, tensor([[[[1], [2], [3]]]]), tensor([[[[1], [2], [3]]]]));
    expect(compress(cache, { policy: streamingLLM(), keep: 3 })).toEqual([0, 1, 2]);
    expect(cache.length).toBe(3);
  });
});
