/**
 * PagedKVCache through the KVCache contract (the same behaviours as ContiguousKVCache's tests, with
 * expected contents written out here), copy-on-write isolation of forks, memory accounting worked
 * out by hand, and the errors.
 */
import { cast, scope, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import {
  cat,
  expectClose,
  expectEveryLayer,
  expectStridedLastAxis,
  pick,
  randomKV,
  step,
  uniforms,
} from '../testing';
import { PagedKVPool } from './pool';

const B = 2;
const KV = 3;
const D = 4;
const BS = 4;
const poolOpts = { numLayers: 2, numKvHeads: KV, headDim: D, numBlocks: 24, blockSize: BS, maxLength: 16 };

const randKV = (rand: () => number, S: number, batch = B) => randomKV(rand, [batch, KV, S, D]);

describe('PagedKVCache (KVCache contract)', () => {
  it('appends chunks across block boundaries and reads them back (gathered copies)', async () => {
    const rand = uniforms(1);
    const cache = new PagedKVPool(poolOpts).createCache({ batch: B });
    const a = randKV(rand, 3);
    const b = randKV(rand, 1);
    const c = randKV(rand, 5);
    step(cache, a.t, a.t);
    step(cache, b.t, b.t);
    cache.append(0, c.t, c.t);
    expect(cache.layerLength(0)).toBe(9);
    expect(cache.length).toBe(4);
    const k0 = cache.keys(0);
    expect(k0.shape).toEqual([B, KV, 9, D]);
    await expectClose(k0, cat([a.vals, b.vals, c.vals]));
    cache.append(1, c.t, b.t.expand([B, KV, 5, D]));
    cache.commit();
    const bRep = b.vals.map((x) => x.map((y) => [y[0], y[0], y[0], y[0], y[0]]));
    await expectClose(cache.values(1), cat([a.vals, b.vals, bRep]));
    // 9 positions in blocks of 4: three blocks per row
    expect([cache.blockTable(0).length, cache.blockTable(1).length]).toEqual([3, 3]);
    expect(cache.attentionView?.(1).length).toBe(9);
    expect(cache.attentionView?.(1).blockTable.shape).toEqual([B, 3]);
  });

  it('accepts permuted, strided and f16 inputs', async () => {
    const rand = uniforms(2);
    const cache = new PagedKVPool({ ...poolOpts, numLayers: 1 }).createCache({ batch: B });
    const raw = Array.from({ length: B * 6 * KV * D }, rand);
    const k = tensor(raw, [B, 6, KV, D]).permute([0, 2, 1, 3]);
    cache.append(0, k, cast(k, 'f16'));
    cache.commit();
    const want: number[] = [];
    for (let b = 0; b < B; b++)
      for (let h = 0; h < KV; h++)
        for (let s = 0; s < 6; s++)
          for (let d = 0; d < D; d++) want.push(raw[((b * 6 + s) * KV + h) * D + d]);
    await expectClose(cache.keys(0), want);
    await expectClose(cache.values(0), want, 1e-3);
    const c2 = new PagedKVPool({ ...poolOpts, numLayers: 1, headDim: 2 }).createCache({ batch: B });
    await expectStridedLastAxis(c2, k, want);
  });

  it('truncates, overwrites, rolls back; a fork never sees the writes of its parent, nor the parent its', async () => {
    const rand = uniforms(3);
    const pool = new PagedKVPool(poolOpts);
    const cache = pool.createCache({ batch: B });
    const a = randKV(rand, 6);
    const b = randKV(rand, 2);
    const c = randKV(rand, 3);
    step(cache, a.t, a.t);
    step(cache, b.t, b.t);
    cache.truncate(6);
    step(cache, c.t, c.t);
    await expectClose(cache.keys(1), cat([a.vals, c.vals]));

    const fork = cache.fork();
    expect(fork.length).toBe(9);
    // Every block is shared until someone writes.
    expect(fork.blockTable(0)).toEqual(cache.blockTable(0));
    const before = pool.stats().usedBlocks;
    // The parent rewinds into a shared full block and writes there: it copies that block first.
    cache.truncate(5);
    step(cache, b.t, b.t);
    expect(cache.blockTable(0)[1]).not.toBe(fork.blockTable(0)[1]);
    expect(cache.blockTable(0)[0]).toBe(fork.blockTable(0)[0]);
    await expectClose(fork.values(0), cat([a.vals, c.vals]));
    const a5 = a.vals.map((x) => x.map((y) => y.slice(0, 5)));
    await expectClose(cache.values(0), cat([a5, b.vals]));
    // The fork writes into its partial last block, which the parent released at truncate(5): no copy.
    const d = randKV(rand, 1);
    step(fork, d.t, d.t);
    await expectClose(fork.keys(1), cat([a.vals, c.vals, d.vals]));
    await expectClose(cache.keys(1), cat([a5, b.vals]));
    // Only the parent's copies of block 1 (one per row) are new.
    expect(pool.stats().usedBlocks).toBe(before + B);

    cache.append(0, c.t, c.t);
    cache.rollback();
    expect(cache.layerLength(0)).toBe(7);
    expect(() => cache.truncate(10)).toThrow(/\[0, 7\]/);
    cache.append(0, c.t, c.t);
    expect(() => cache.truncate(0)).toThrow(/commit\(\) or rollback\(\)/);
    expect(() => cache.commit()).toThrow(/layer 1 holds 7 positions but layer 0 holds 10/);
    cache.rollback();
    // Rolled-back positions give their fresh blocks back.
    expect(cache.blockTable(0).length).toBe(2);
  });

  it('forks of forks (best-of-N over a shared prompt) stay isolated', async () => {
    const rand = uniforms(4);
    const pool = new PagedKVPool({ ...poolOpts, numBlocks: 40 });
    const root = pool.createCache({ batch: 1 });
    const prompt = randKV(rand, 10, 1);
    step(root, prompt.t, prompt.t);
    const samples = Array.from({ length: 5 }, () => root.fork());
    const grand = samples[2].fork();
    const own = [...samples, grand].map((s) => {
      const x = randKV(rand, 3, 1);
      step(s, x.t, x.t);
      return x;
    });
    for (const [i, s] of [...samples, grand].entries())
      await expectClose(s.keys(0), cat([prompt.vals, own[i].vals]));
    await expectClose(root.keys(1), cat([prompt.vals]));
    // The two full prompt blocks are shared by all 7 caches; each sample copied the partial third
    // (positions 8, 9) to write positions 10, 11, and took a fresh fourth for position 12.
    expect(pool.refCount(root.blockTable(0)[0])).toBe(7);
    expect(pool.refCount(root.blockTable(0)[1])).toBe(7);
    expect(pool.stats().usedBlocks).toBe(2 + 1 + 6 * 2);
  });

  it('keepPositions keeps the prefix and the listed positions, copying shared blocks first', async () => {
    const rand = uniforms(11);
    const pool = new PagedKVPool(poolOpts);
    const cache = pool.createCache({ batch: B });
    const ctx = randKV(rand, 5);
    const tree = randKV(rand, 6);
    step(cache, ctx.t, ctx.t);
    step(cache, tree.t, tree.t);
    const fork = cache.fork();
    cache.keepPositions(5, [6, 8, 9]);
    expect(cache.length).toBe(8);
    const want = cat([ctx.vals, pick(tree.vals, [1, 3, 4])]);
    await expectEveryLayer(cache, want);
    await expectClose(fork.keys(0), cat([ctx.vals, tree.vals]));
    const next = randKV(rand, 1);
    step(cache, next.t, next.t);
    await expectClose(cache.keys(1), cat([ctx.vals, pick(tree.vals, [1, 3, 4]), next.vals]));
    cache.keepPositions(2, []);
    await expectClose(cache.values(0), cat([pick(ctx.vals, [0, 1])]));
    expect(() => cache.keepPositions(1, [1, 1])).toThrow(/strictly increasing integers in \[1, 2\)/);
  });

  it('records left padding per row; fork copies it and truncate(0) clears it', () => {
    const rand = uniforms(13);
    const cache = new PagedKVPool(poolOpts).createCache({ batch: B });
    const x = randKV(rand, 4);
    step(cache, x.t, x.t);
    cache.setPadding([3, 0]);
    expect(cache.fork().padding).toEqual([3, 0]);
    expect(() => cache.setPadding([1])).toThrow(/padding must hold 2 integers/);
    cache.truncate(0);
    expect(cache.padding).toEqual([0, 0]);
  });

  it('accounts memory per cache and for the pool (worked out by hand)', () => {
    const pool = new PagedKVPool({ ...poolOpts, numBlocks: 10 });
    // one block: 3 heads · 4 positions · 4 floats · 4 bytes, keys and values, 2 layers
    const perBlock = 3 * 4 * 4 * 4 * 2 * 2;
    expect(pool.bytesPerBlock).toBe(perBlock);
    const cache = pool.createCache({ batch: 1 });
    const x = tensor(new Array(KV * 5 * D).fill(1), [1, KV, 5, D]);
    step(cache, x, x);
    expect(cache.memory()).toEqual({
      allocatedBytes: 2 * perBlock,
      usedBytes: 5 * KV * D * 4 * 2 * 2,
      length: 5,
      maxLength: 16,
      blocks: 2,
      sharedBlocks: 0,
      exclusiveBytes: 2 * perBlock,
      quantizedBlocks: 0,
      f32Bytes: 2 * perBlock,
    });
    const fork = cache.fork();
    expect(fork.memory()).toMatchObject({ blocks: 2, sharedBlocks: 2, exclusiveBytes: 0 });
    expect(pool.stats()).toMatchObject({
      numBlocks: 10,
      totalBytes: 10 * perBlock,
      freeBlocks: 8,
      cachedBlocks: 0,
      usedBlocks: 2,
      sharedBlocks: 2,
      usedBytes: 2 * perBlock,
      caches: 2,
      sequences: 2,
      bytesPerSequence: perBlock,
      unsharedBytes: 4 * perBlock,
      fragmentation: 3 / 8, // block 1 holds 1 of 4 positions
      copyOnWriteCopies: 0,
    });
    const y = tensor(new Array(KV * 1 * D).fill(2), [1, KV, 1, D]);
    step(fork, y, y);
    // The fork copied block 1; block 0 is still shared.
    expect(pool.stats()).toMatchObject({
      usedBlocks: 3,
      sharedBlocks: 1,
      copyOnWriteCopies: 1,
      fragmentation: (3 + 2) / 12,
      bytesPerSequence: 1.5 * perBlock,
    });
    expect(fork.memory()).toMatchObject({ blocks: 2, sharedBlocks: 1, exclusiveBytes: perBlock });
    fork.dispose();
    cache.dispose();
    expect(pool.stats()).toMatchObject({ usedBlocks: 0, freeBlocks: 10, sequences: 0, fragmentation: 0 });
    expect(() => cache.keys(0)).toThrow(/disposed/);
  });

  it('survives the scope it was created in', async () => {
    const pool = new PagedKVPool(poolOpts);
    const cache = scope(() => {
      const c = pool.createCache({ batch: B });
      const x = tensor(new Array(B * KV * 2 * D).fill(3), [B, KV, 2, D]);
      step(c, x, x);
      c.attentionView?.(0);
      return c;
    });
    expect(await cache.keys(0).array()).toEqual(new Array(B * KV * 2 * D).fill(3));
    expect(cache.attentionView?.(0).blockTable.shape).toEqual([B, 1]);
  });

  it('rejects bad input with clear errors', () => {
    expect(() => new PagedKVPool({ ...poolOpts, numBlocks: 0 })).toThrow(/numBlocks/);
    expect(() => new PagedKVPool({ ...poolOpts, blocks: 8 } as never)).toThrow(
      /Unrecognized key: "blocks"; allowed: numLayers, numKvHeads, headDim, numBlocks, blockSize, maxLength, prefixCaching, dtype, device/,
    );
    const pool = new PagedKVPool({ ...poolOpts, numBlocks: 3 });
    expect(() => pool.createCache({ batch: 1, tenant: 'a' } as never)).toThrow(
      /Unrecognized key: "tenant"; allowed: batch, maxLength, salt/,
    );
    expect(() => pool.createCache({ salt: '' })).toThrow(/salt/);
    const cache = pool.createCache({ batch: B });
    const x = tensor(new Array(B * KV * 10 * D).fill(0), [B, KV, 10, D]);
    expect(() => cache.append(2, x, x)).toThrow(/layer 2 is out of range \[0, 2\)/);
    // 10 positions in two rows need 6 blocks; the pool has 3, all unreferenced
    expect(() => cache.append(0, x, x)).toThrow(
      /the block pool is exhausted: this step needs 6 new blocks but only 3 of 3 are unreferenced/,
    );
    cache.rollback();
    expect(pool.stats().freeBlocks).toBe(3);
    const big = tensor(new Array(B * KV * 17 * D).fill(0), [B, KV, 17, D]);
    expect(() => cache.append(0, big, big)).toThrow(/appending 17 exceeds maxLength 16/);
    const wrong = tensor(new Array(B * 2 * 1 * D).fill(0), [B, 2, 1, D]);
    expect(() => cache.append(1, wrong, wrong)).toThrow(
      /k has shape \[2, 2, 1, 4\], expected \[2, 3, S, 4\]/,
    );
    const one = tensor(new Array(B * KV * 1 * D).fill(0), [B, KV, 1, D]);
    step(cache, one, one);
    expect(() =>
      cache.recordTokens([
        [1, 2],
        [3, 4],
      ]),
    ).toThrow(/row 0 would have ids for 2 positions but the cache holds 1 committed ones/);
    expect(() => cache.recordTokens([1])).toThrow(/one array of token ids per row \(2 rows\)/);
    expect(() => cache.recordTokens([[1.5], [2]])).toThrow(/token ids must be integers >= 0, got 1.5/);
    expect(() => cache.matchPrefix([[1], [2]])).toThrow(/needs an empty cache; this one holds 1 positions/);
    cache.recordTokens([[7], [8]]);
    expect(() => cache.setPadding([1, 0])).toThrow(/row 0 already has recorded token ids/);
    pool.dispose();
    expect(() => cache.keys(0)).toThrow(/disposed/);
    expect(() => pool.createCache()).toThrow(/the pool was disposed/);
  });
});
