import { tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from '../contiguous';
import { PagedKVPool } from '../paged/pool';
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

  it('rejects bad options, pending writes and padded caches', () => {
    const cache = exampleCache();
    expect(() => compress(cache, { policy: keyNorm(), keep: 2, kep: 3 } as never)).toThrow(
      /"kep".*allowed: policy, queries, numHeads, keep, allocation, safeguard/,
    );
    expect(() => compress(cache, { policy: keyNorm(), keep: 2, allocation: 'heads' as never })).toThrow(
      /allocation/,
    );
    expect(() => compress(cache, { policy: {} as never, keep: 2 })).toThrow(/ScorePolicy/);
    expect(() => compress(cache, { policy: keyNorm(), keep: 0 })).toThrow(/keep/);
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

describe('compress with per-head and per-layer budgets', () => {
  // keyNorm on the example: head 0 scores -|k| = [-1, -1, -5, 0, -√2, -2], head 1 [-2, -1, 0, -10, -1, -1].
  it("'per-head': each kv head keeps its own best; the cache holds the union and hides the rest per head", async () => {
    const cache = exampleCache();
    const kept = compress(cache, { policy: keyNorm(), keep: 2, allocation: 'per-head' });
    // head 0 keeps positions 3 and 1 (tie with 0 goes to the later), head 1 keeps 2 and 5
    expect(kept).toEqual([1, 2, 3, 5]);
    expect(cache.length).toBe(4);
    expect(cache.positionOffset).toBe(2);
    expect(Array.from(cache.visibility(0)!)).toEqual([1, 0, 1, 0, 0, 1, 0, 1]);
    const k = (await cache.keys(0).data()) as Float32Array;
    // head 1's slot 3 holds position 5's key [0, 1]
    expect(Array.from(k.subarray(14, 16))).toEqual([0, 1]);
    // A slot appended later is visible to every head.
    step(cache, tensor([[[[7, 7]], [[8, 8]]]]), tensor([[[[0, 0]], [[0, 0]]]]));
    expect(Array.from(cache.visibility(0)!)).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 1]);
    // A fork carries the visibility; truncate(0) clears it.
    expect(Array.from(cache.fork().visibility(0)!)).toEqual(Array.from(cache.visibility(0)!));
    cache.truncate(0);
    expect(cache.visibility(0)).toBeNull();
  });

  it("'ada-kv': the heads share 2 × keep slots after a safeguard of one each", () => {
    const cache = exampleCache();
    const kept = compress(cache, { policy: keyNorm(), keep: 2, allocation: 'ada-kv', safeguard: 0.5 });
    // reserved: head 0 position 3, head 1 position 2; then the best two left across heads are -1s,
    // ties to the later position: head 1's 5 and 4. Head 0 keeps 1 slot, head 1 three.
    expect(kept).toEqual([2, 3, 4, 5]);
    expect(Array.from(cache.visibility(0)!)).toEqual([0, 1, 0, 0, 1, 0, 1, 1]);
  });

  it("'prefix-kv': a layer with concentrated importance gives slots to a diffuse one", () => {
    const cache = new ContiguousKVCache({ numLayers: 2, batch: 1, numKvHeads: 1, headDim: 2, maxLength: 8 });
    step(
      cache,
      tensor([
        [
          [
            [1, 0],
            [0, 1],
            [1, 1],
            [2, 2],
          ],
        ],
      ]),
      tensor([
        [
          [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, 0],
          ],
        ],
      ]),
    );
    const byLayer = [
      [0, 10, 0, 0],
      [1, 1, 1, 1],
    ];
    const policy = {
      name: 'fixed',
      score: ({ layer }: { layer: number }) => Float64Array.from(byLayer[layer]),
    };
    const kept = compress(cache, { policy, keep: 2, allocation: 'prefix-kv' });
    // layer 0 needs one position for all of its priority, so layer 1 keeps 3 (ties: the latest)
    expect(kept).toEqual([1, 2, 3]);
    expect(Array.from(cache.visibility(0)!)).toEqual([1, 0, 0]);
    expect(cache.visibility(1)).toBeNull();
    const negative = exampleCache();
    expect(() => compress(negative, { policy: keyNorm(), keep: 2, allocation: 'prefix-kv' })).toThrow(
      /prefix-kv needs importance scores >= 0/,
    );
  });

  it('needs a cache that can hide slots per head', () => {
    const pool = new PagedKVPool({ numLayers: 1, numKvHeads: 2, headDim: 2, numBlocks: 4, blockSize: 4 });
    const paged = pool.createCache({ batch: 1, maxLength: 16 });
    step(paged, keysT(), valuesT());
    expect(() => compress(paged, { policy: keyNorm(), keep: 2, allocation: 'per-head' })).toThrow(
      /needs a cache with setVisibility/,
    );
    expect(compress(paged, { policy: keyNorm(), keep: 2 })).toHaveLength(2);
  });
});
