/**
 * Automatic prefix caching: which blocks a request reuses (whole blocks, never its last token),
 * least-recently-used eviction, empty blocks reused before cached ones, tenant salts, left padding,
 * and the token bookkeeping it relies on. Keys and values are a function of the token prefix
 * (testing.ts), so a reused block must hold what the request would have computed itself.
 */
import { cpuStorage } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import type { PagedKVCache } from './paged-cache';
import { PagedKVPool } from './pool';
import { expectPoolInvariants, kvTensor, prefixHashes, valueAt } from './testing';

const L = 2;
const KV = 2;
const D = 3;
const BS = 4;

function newPool(numBlocks = 16, prefixCaching = true) {
  return new PagedKVPool({
    numLayers: L,
    numKvHeads: KV,
    headDim: D,
    numBlocks,
    blockSize: BS,
    prefixCaching,
  });
}

/** Prefill `tokens` after what the cache holds (as a model would), commit, record the ids. */
function prefill(cache: PagedKVCache, tokens: number[], salt?: string) {
  const start = cache.length;
  const hashes = [prefixHashes(tokens, salt)];
  for (let l = 0; l < L; l++) {
    cache.append(
      l,
      kvTensor(hashes, start, tokens.length - start, l, 0, KV, D),
      kvTensor(hashes, start, tokens.length - start, l, 1, KV, D),
    );
  }
  cache.commit();
  cache.recordTokens(tokens.slice(start));
}

/** The cache holds exactly what `tokens` define, in every layer. */
function expectHolds(cache: PagedKVCache, tokens: number[], salt?: string) {
  const h = prefixHashes(tokens, salt);
  expect(cache.length).toBe(tokens.length);
  for (let l = 0; l < L; l++) {
    const t = cache.keys(l);
    const got = cpuStorage(t) as Float32Array;
    for (let head = 0; head < KV; head++)
      for (let p = 0; p < tokens.length; p++)
        for (let d = 0; d < D; d++)
          expect(got[t.offset + (head * tokens.length + p) * D + d]).toBe(valueAt(h[p], l, 0, head, d));
  }
}

const prompt = [5, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7]; // 14 tokens: 3 full blocks + 2

describe('prefix caching', () => {
  it('a second request reuses the full blocks of the first and prefills only the rest', () => {
    const pool = newPool();
    const first = pool.createCache();
    expect(first.matchPrefix(prompt)).toBe(0);
    prefill(first, prompt);
    expect(pool.stats().prefixCache.entries).toBe(3);

    const second = pool.createCache();
    const other = [...prompt.slice(0, 10), 0, 0, 0];
    expect(second.matchPrefix(other)).toBe(8); // blocks 0, 1; block 2 differs at token 10
    expect(second.blockTable(0)).toEqual(first.blockTable(0).slice(0, 2));
    expect(second.tokenIds(0)).toEqual(other.slice(0, 8));
    prefill(second, other);
    expectHolds(second, other);
    expectHolds(first, prompt);
    expect(pool.stats().prefixCache).toMatchObject({ queriedTokens: 14 + 13, hitTokens: 8 });

    // 12 tokens are cached, but a request keeps its last token to compute: 8 of 12 reused, and
    // 12 of a 13-token request.
    const third = pool.createCache();
    expect(third.matchPrefix(prompt.slice(0, 12))).toBe(8);
    const fourth = pool.createCache();
    expect(fourth.matchPrefix(prompt.slice(0, 13))).toBe(12);
    expectPoolInvariants(pool, [first, second, third, fourth]);
  });

  it('serves a prefix after its request is gone, until the blocks are needed: least recently used first', () => {
    const pool = newPool(8);
    const a = pool.createCache();
    prefill(a, [1, 1, 1, 1, 2, 2, 2, 2, 3]); // 2 full blocks cached + 1 partial
    const b = pool.createCache();
    prefill(b, [4, 4, 4, 4, 5, 5, 5, 5, 6]);
    const [a0, a1, a2] = a.blockTable(0);
    const [b0, b1] = b.blockTable(0);
    a.dispose(); // released first: a's cached blocks are the least recently used
    b.dispose();
    expect(pool.stats()).toMatchObject({ cachedBlocks: 4, freeBlocks: 4, usedBlocks: 0 });
    // The partial blocks (not cached) and the never-used ones are reused first...
    const c = pool.createCache();
    prefill(c, [7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9]);
    expect(c.blockTable(0)).toContain(a2);
    expect(pool.stats().prefixCache.evictions).toBe(0);
    // ...then cached blocks, least recently released first; within a request its last block first.
    const d = pool.createCache();
    prefill(d, [0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(pool.stats().prefixCache.evictions).toBe(2);
    expect(d.blockTable(0).slice(1)).toEqual([a1, a0]);
    // a's prefix is gone, b's is still served
    expect(pool.createCache().matchPrefix([1, 1, 1, 1, 2, 2, 2, 2, 3])).toBe(0);
    const e = pool.createCache();
    expect(e.matchPrefix([4, 4, 4, 4, 5, 5, 5, 5, 6])).toBe(8);
    expect(e.blockTable(0)).toEqual([b0, b1]);
    expectHolds(e, [4, 4, 4, 4, 5, 5, 5, 5]);
  });

  it('a hit moves a block to the back of the eviction order', () => {
    const pool = newPool(4);
    const a = pool.createCache();
    prefill(a, [1, 1, 1, 1, 9]);
    const b = pool.createCache();
    prefill(b, [2, 2, 2, 2, 9]);
    const [a0] = a.blockTable(0);
    const [b0] = b.blockTable(0);
    a.dispose();
    b.dispose();
    // a's block is older, but a new request hits it and lets it go again: b's is now the oldest.
    const again = pool.createCache();
    expect(again.matchPrefix([1, 1, 1, 1, 9])).toBe(4);
    again.dispose();
    const big = pool.createCache();
    prefill(big, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]); // 3 blocks: 2 empty ones, then one cached evicted
    expect(pool.snapshot().keys[b0]).toBeNull();
    expect(pool.snapshot().keys[a0]).not.toBeNull();
  });

  it('an exhausted pool says so when every block is referenced', () => {
    const pool = newPool(3);
    const a = pool.createCache();
    prefill(a, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const b = pool.createCache();
    const x = kvTensor([prefixHashes([1], undefined)], 0, 1, 0, 0, KV, D);
    expect(() => b.append(0, x, x)).toThrow(
      /the block pool is exhausted: this step needs 1 new blocks but only 0 of 3 are unreferenced \(the rest are held by 2 caches, 2 sequences\)/,
    );
    b.rollback();
    expectPoolInvariants(pool, [a, b]);
  });

  it('a tenant salt keeps prefixes apart', () => {
    const pool = newPool(24);
    const alice = pool.createCache({ salt: 'alice' });
    prefill(alice, prompt, 'alice');
    const plain = pool.createCache();
    prefill(plain, prompt);
    // Same ids, other tenant (or none): nothing is shared.
    const bob = pool.createCache({ salt: 'bob' });
    expect(bob.matchPrefix(prompt)).toBe(0);
    prefill(bob, prompt, 'bob');
    expectHolds(bob, prompt, 'bob');
    const anon = pool.createCache();
    expect(anon.matchPrefix(prompt)).toBe(12);
    expect(anon.blockTable(0)).toEqual(plain.blockTable(0).slice(0, 3));
    const alice2 = pool.createCache({ salt: 'alice' });
    expect(alice2.matchPrefix(prompt)).toBe(12);
    expect(alice2.blockTable(0)).toEqual(alice.blockTable(0).slice(0, 3));
    expectHolds(alice2, prompt.slice(0, 12), 'alice');
    const tables = [alice, plain, bob].map((c) => new Set(c.blockTable(0)));
    expect([...tables[0]].some((id) => tables[1].has(id) || tables[2].has(id))).toBe(false);
    // Forks keep their salt.
    const fork = alice.fork();
    expect(fork.salt).toBe('alice');
  });

  it('batches match the prefix all rows have cached; padded slots never match real tokens', () => {
    const pool = newPool(32);
    const seed = pool.createCache();
    prefill(seed, prompt);
    const two = pool.createCache({ batch: 2 });
    expect(two.matchPrefix([prompt.slice(0, 13), [...prompt.slice(0, 5), 0, 0, 0, 0, 0, 0, 0, 0]])).toBe(4);
    expect(two.blockTable(0)).toEqual(two.blockTable(1));
    expect(pool.refCount(two.blockTable(0)[0])).toBe(3);

    // A left-padded row: its first block holds 2 pad slots, hashed as padding.
    const padded = pool.createCache({ batch: 2 });
    const ids = [
      [0, 0, 5, 1, 4, 1, 5, 9, 2],
      [5, 1, 4, 1, 5, 9, 2, 6, 5],
    ];
    for (let l = 0; l < L; l++) {
      const k = kvTensor(
        ids.map((t) => prefixHashes(t, undefined)),
        0,
        9,
        l,
        0,
        KV,
        D,
      );
      padded.append(l, k, k);
    }
    padded.commit();
    padded.setPadding([2, 0]);
    padded.recordTokens(ids);
    // The padded row's blocks carry other keys than the unpadded prompt's: a request with its
    // exact ids (pads included) matches nothing from it.
    const probe = pool.createCache();
    expect(probe.matchPrefix(ids[0])).toBe(0);
  });

  it('with prefixCaching off, nothing is cached or matched', () => {
    const pool = newPool(8, false);
    const a = pool.createCache();
    prefill(a, prompt.slice(0, 9));
    expect(pool.stats().prefixCache.entries).toBe(0);
    expect(pool.createCache().matchPrefix(prompt.slice(0, 9))).toBe(0);
  });

  it('a block computed twice is cached once; the chain still continues through the copy', () => {
    const pool = newPool(16);
    const a = pool.createCache();
    prefill(a, prompt.slice(0, 5));
    const b = pool.createCache(); // no matchPrefix: computes block 0 again
    prefill(b, prompt.slice(0, 9));
    expect(b.blockTable(0)[0]).not.toBe(a.blockTable(0)[0]);
    expect(pool.stats().prefixCache.entries).toBe(2); // block 0 (a's) and b's block 1
    const c = pool.createCache();
    expect(c.matchPrefix(prompt.slice(0, 9))).toBe(8);
    expect(c.blockTable(0)).toEqual([a.blockTable(0)[0], b.blockTable(0)[1]]);
    expectHolds(c, prompt.slice(0, 8));
  });

  it('truncation and accepted tree paths keep the recorded ids in step with the positions', () => {
    const pool = newPool(16);
    const a = pool.createCache();
    prefill(a, prompt.slice(0, 10));
    a.truncate(6);
    expect(a.tokenIds(0)).toEqual(prompt.slice(0, 6));
    expect(pool.stats().prefixCache.entries).toBe(2); // what was cached stays cached
    prefill(a, [...prompt.slice(0, 6), 7, 7, 7, 7]);
    // positions 6..9 hold a tree; keep 7 and 9 after position 6
    a.keepPositions(6, [7, 9]);
    expect(a.tokenIds(0)).toEqual([...prompt.slice(0, 6), 7, 7]);
    const b = pool.createCache();
    expect(b.matchPrefix([...prompt.slice(0, 6), 7, 7, 1])).toBe(8);
  });
});
