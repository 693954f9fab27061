import { describe, expect, it } from 'vitest';
import { elasticAnchors, elasticMerge } from './elastic-cache';
import { exampleCache } from './testing';

/** The same importance for both kv heads of the example cache (6 positions). */
const fixed = (importance: number[]) => ({
  name: 'fixed',
  score: () => Float64Array.from([...importance, ...importance]),
});

describe('elasticAnchors', () => {
  it('keeps sinks, the last position and the most important; others go to the nearest anchor', () => {
    const { anchors, groups } = elasticAnchors([5, 1, 9, 0, 3, 2, 7, 0.5], 4, 1);
    expect(anchors).toEqual([0, 2, 6, 7]);
    // 1 is as near to 0 as to 2: the earlier anchor; 4 is as near to 2 as to 6: the earlier too
    expect([...groups.entries()]).toEqual([
      [0, [1]],
      [2, [3, 4]],
      [6, [5]],
      [7, []],
    ]);
  });
});

describe('elasticMerge', () => {
  // Example keys: head 0 [1,0] [0,1] [3,4] [0,0] [1,1] [2,0]; head 1 [0,2] [1,0] [0,0] [6,8] [1,0] [0,1].
  // importance [0, 5, 1, 9, 2, 0], keep 3, sinks 1: anchors 0, 3 (most important) and 5 (last);
  // 1 -> 0, 2 -> 3, 4 -> 3 (tie with 5: the earlier).
  const policy = fixed([0, 5, 1, 9, 2, 0]);

  it('folds evicted entries into their anchor as the mean, anchor included', async () => {
    const cache = exampleCache();
    expect(elasticMerge(cache, { policy, keep: 3, sinks: 1 })).toEqual([0, 3, 5]);
    expect(cache.length).toBe(3);
    expect(cache.positionOffset).toBe(3);
    const k = Array.from((await cache.keys(0).data()) as Float32Array);
    const want = [0.5, 0.5, 4 / 3, 5 / 3, 2, 0, 0.5, 1, 7 / 3, 8 / 3, 0, 1];
    for (let i = 0; i < want.length; i++) expect(k[i]).toBeCloseTo(want[i], 6);
    expect(cache.visibility(0)).toBeNull(); // one layer: every kept slot is its own anchor
  });

  it("weighting 'score' weighs by importance; merge false only evicts (the same anchors)", async () => {
    const weighted = exampleCache();
    elasticMerge(weighted, { policy, keep: 3, sinks: 1, weighting: 'score' });
    const k = (await weighted.keys(0).data()) as Float32Array;
    // anchor 3 of head 0: (9·[0,0] + 1·[3,4] + 2·[1,1]) / 12
    expect(k[2]).toBeCloseTo(5 / 12, 6);
    expect(k[3]).toBeCloseTo(6 / 12, 6);
    const dropped = exampleCache();
    expect(elasticMerge(dropped, { policy, keep: 3, sinks: 1, merge: false })).toEqual([0, 3, 5]);
    expect(Array.from((await dropped.keys(0).data()) as Float32Array)).toEqual([
      1, 0, 0, 0, 2, 0, 0, 2, 6, 8, 0, 1,
    ]);
  });

  it('layers with different anchors share the union and hide the rest per layer', () => {
    const cache = exampleCache(2);
    const byLayer = [
      [0, 5, 1, 9, 2, 0],
      [0, 1, 8, 0, 2, 0],
    ];
    const perLayer = {
      name: 'per-layer',
      score: ({ layer }: { layer: number }) => Float64Array.from([...byLayer[layer], ...byLayer[layer]]),
    };
    expect(elasticMerge(cache, { policy: perLayer, keep: 3, sinks: 1 })).toEqual([0, 2, 3, 5]);
    expect(Array.from(cache.visibility(0)!)).toEqual([1, 0, 1, 1, 1, 0, 1, 1]);
    expect(Array.from(cache.visibility(1)!)).toEqual([1, 1, 0, 1, 1, 1, 0, 1]);
  });

  it('rejects bad options', () => {
    expect(() => elasticMerge(exampleCache(), { policy, keep: 1, sinks: 1 })).toThrow(
      /keep 1 must exceed sinks 1/,
    );
    expect(() => elasticMerge(exampleCache(), { policy, keep: 3, weighting: 'max' as never })).toThrow(
      /weighting/,
    );
  });
});
