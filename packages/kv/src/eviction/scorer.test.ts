import { tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from '../contiguous';
import { cat, expectClose, pick, step } from '../testing';
import { h2o } from './h2o';
import { keyNorm } from './key-norm';
import { compress, scorePositions, topPositions } from './scorer';
import { A, exampleCache, K, keysT, Q, scoreMismatch, V, valuesT } from './testing';

describe('compress', () => {
  it('keeps the best positions averaged over layers and heads, in order, with their keys and values', async () => {
    // layer 1: position 0 has a key of norm 10, the others norm 1
    const K1 = [
      [0, 1].map(() => [
        [10, 0],
        [1, 0],
        [0, 1],
        [1, 0],
        [0, 1],
        [1, 0],
      ]),
    ];
    const cache = new ContiguousKVCache({ numLayers: 2, batch: 1, numKvHeads: 2, headDim: 2, maxLength: 16 });
    cache.append(0, keysT(), valuesT());
    cache.append(1, tensor(K1), tensor(K1));
    cache.commit();
    // mean over 2 layers x 2 heads of -||k||: layer 0 sums -3, -2, -5, -10, -(√2 + 1), -3; layer 1 -20, -2, ...
    const want = [-23 / 4, -1, -7 / 4, -3, -(Math.SQRT2 + 3) / 4, -5 / 4];
    expect(scoreMismatch(scorePositions(cache, { policy: keyNorm() }), want)).toBeNull();
    expect(compress(cache, { policy: keyNorm(), keep: 3 })).toEqual([1, 4, 5]);
    expect(cache.length).toBe(3);
    await expectClose(cache.keys(0), cat([pick(K, [1, 4, 5])]));
    await expectClose(cache.values(0), cat([pick(V, [1, 4, 5])]));
    await expectClose(cache.keys(1), cat([pick(K1, [1, 4, 5])]));
    await expectClose(cache.values(1), cat([pick(K1, [1, 4, 5])]));
  });

  it('passes the queries to attention policies (one array for every layer, or one per layer)', async () => {
    const cache = exampleCache();
    // H2O without a window, averaged over the 2 heads: accumulated weight of both queries
    const acc = [0, 1, 2, 3, 4, 5].map((t) => (A[0][0][t] + A[0][1][t] + A[1][0][t] + A[1][1][t]) / 2);
    expect(
      scoreMismatch(scorePositions(cache, { policy: h2o({ window: 0 }), queries: Q, numHeads: 2 }), acc),
    ).toBeNull();
    expect(
      scoreMismatch(scorePositions(cache, { policy: h2o({ window: 0 }), queries: [Q], numHeads: 2 }), acc),
    ).toBeNull();
    // head 1's queries put almost all their weight on position 3 (dots 8, 14), head 0's on 2 (dots 3, 4)
    const kept = [2, 3];
    expect(compress(cache, { policy: h2o({ window: 0 }), queries: Q, numHeads: 2, keep: 2 })).toEqual(kept);
    await expectClose(cache.keys(0), cat([pick(K, kept)]));
    await expectClose(cache.values(0), cat([pick(V, kept)]));
  });

  it('breaks ties towards the more recent position', () => {
    expect(topPositions([1, 2, 2, 0, 2], 2)).toEqual([2, 4]);
    expect(topPositions([Infinity, 0, Infinity], 2)).toEqual([0, 2]);
  });

  it('rejects bad options, perHead, pending writes and padded caches', () => {
    const cache = exampleCache();
    expect(() => compress(cache, { policy: keyNorm(), keep: 2, kep: 3 } as never)).toThrow(
      /"kep".*allowed: policy, queries, numHeads, keep, perHead/,
    );
    expect(() => compress(cache, { policy: {} as never, keep: 2 })).toThrow(/ScorePolicy/);
    expect(() => compress(cache, { policy: keyNorm(), keep: 0 })).toThrow(/keep/);
    expect(() => compress(cache, { policy: keyNorm(), keep: 2, perHead: true })).toThrow(
      /perHead is not supported/,
    );
    expect(() => compress(cache, { policy: h2o(), keep: 2, queries: [Q, Q], numHeads: 2 })).toThrow(
      /one per layer/,
    );
    cache.append(0, keysT(), valuesT());
    expect(() => compress(cache, { policy: keyNorm(), keep: 2 })).toThrow(/uncommitted/);
    cache.rollback();
    expect(cache.length).toBe(6);
    const padded = new ContiguousKVCache({
      numLayers: 1,
      batch: 1,
      numKvHeads: 2,
      headDim: 2,
      maxLength: 16,
    });
    step(padded, keysT(), valuesT());
    padded.setPadding([1]);
    expect(() => compress(padded, { policy: keyNorm(), keep: 2 })).toThrow(/left-padded/);
  });
});
