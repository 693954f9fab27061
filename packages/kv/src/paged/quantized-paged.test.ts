/**
 * The paged pool with KIVI block storage (`quantization` option; KIVI, arXiv:2402.02750): a window
 * covering everything is the f32 paged cache; a toy LM decodes on it as on a QuantizedKVCache of the
 * same bits, group and residual; forks stay isolated while one reads a shared block quantized and
 * the other in f32; memory is counted in quantized bytes; options and exhaustion fail clearly.
 * (The random equivalence runs with forks, prefix hits, truncations and accepted tree paths against
 * QuantizedKVCache are in paged-attention.test.ts; the allocator stress run in stress.test.ts.)
 */
import { pagedSdpa, readF64, rng, type Tensor, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { toyLM } from '../eviction/toy-lm';
import type { KVCache } from '../kv-cache';
import { QuantizedKVCache } from '../quantized/quantized-cache';
import { uniforms } from '../testing';
import type { PagedKVCache } from './paged-cache';
import { PagedKVPool } from './pool';
import { expectPoolInvariants } from './testing';

const base = { numLayers: 2, numKvHeads: 3, headDim: 8, numBlocks: 24, blockSize: 4 };

/** Appends S random positions [B, KV, S, D] to every layer of each cache (the same data) and commits. */
function stepAll(rand: () => number, caches: KVCache[], S: number): void {
  const { batch: B, numKvHeads: KV, headDim: D, numLayers } = caches[0];
  for (let l = 0; l < numLayers; l++) {
    const k = tensor(
      Float32Array.from({ length: B * KV * S * D }, () => rand() * 3),
      [B, KV, S, D],
    );
    const v = tensor(Float32Array.from({ length: B * KV * S * D }, rand), [B, KV, S, D]);
    for (const c of caches) c.append(l, k, v);
    k.dispose();
    v.dispose();
  }
  for (const c of caches) c.commit();
}

function read(t: Tensor): Float64Array {
  const x = readF64(t);
  t.dispose();
  return x;
}

/** Causal attention over a paged cache: pagedSdpa over an f32 pool's view, `attend` on a quantized pool. */
function attention(c: PagedKVCache, l: number, q: Tensor): Tensor {
  if (c.attentionView) return pagedSdpa(q, c.attentionView(l), { causal: true });
  if (!c.attend) throw new Error('a paged cache has attentionView or attend');
  return c.attend(l, q, { causal: true });
}

function maxDiff(a: Tensor, b: Tensor): number {
  const x = read(a);
  const y = read(b);
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

describe('quantized paged pool', () => {
  it('with a window covering every position, holds and attends as the f32 paged cache', () => {
    const rand = uniforms(11);
    const f32 = new PagedKVPool(base);
    const kivi = new PagedKVPool({ ...base, quantization: { bits: 2, residualBlocks: base.numBlocks } });
    const a = [f32.createCache({ batch: 2 }), kivi.createCache({ batch: 2 })];
    stepAll(rand, a, 13);
    const b = a.map((c) => c.fork());
    stepAll(rand, b, 3);
    stepAll(rand, a, 5);
    for (const c of a) c.truncate(9);
    stepAll(rand, a, 2);
    for (const [x, y] of [a, b]) {
      expect(y.quantizedBlocks).toBe(0);
      for (let l = 0; l < base.numLayers; l++) {
        // Keys and values are the same bits; attention differs only by the kernels' rounding (the
        // KIVI kernel sums in f64, pagedSdpa in f32).
        expect(maxDiff(x.keys(l), y.keys(l))).toBe(0);
        expect(maxDiff(x.values(l), y.values(l))).toBe(0);
        const q = tensor(Float32Array.from({ length: 2 * 6 * 2 * 8 }, rand), [2, 6, 2, 8]);
        expect(maxDiff(attention(x, l, q), attention(y, l, q))).toBeLessThan(1e-6);
        q.dispose();
      }
    }
    expect(kivi.stats().quantization?.quantizedBlocks).toBe(0);
    expect(kivi.stats().usedBytes).toBe(f32.stats().usedBytes);
  });

  for (const bits of [8, 4, 2] as const) {
    it(`${bits} bits: a toy LM decodes best-of-3 on it as on QuantizedKVCache forks (logits within 1e-5)`, async () => {
      const model = toyLM({ seed: 5, vocab: 13, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8 });
      const pool = new PagedKVPool({
        numLayers: 2,
        numKvHeads: 2,
        headDim: 8,
        numBlocks: 64,
        blockSize: 4,
        quantization: { bits, residualBlocks: 2 },
      });
      const twin = new QuantizedKVCache({
        numLayers: 2,
        batch: 1,
        numKvHeads: 2,
        headDim: 8,
        maxLength: 256,
        bits,
        groupSize: 4,
        residual: 8,
      });
      const r = rng(bits);
      const prompt = Array.from({ length: 30 }, () => Math.floor(r.uniform(1)[0] * 13));
      const ids = (xs: number[]) => tensor(Int32Array.from(xs), [1, xs.length], { dtype: 'i32' });
      const paged = pool.createCache();
      const p0 = await model.forward({ tokens: ids(prompt), cache: paged, logitsToKeep: 1 });
      const q0 = await model.forward({ tokens: ids(prompt), cache: twin, logitsToKeep: 1 });
      expect(maxDiff(p0.logits, q0.logits)).toBeLessThan(1e-5);
      const samples: [PagedKVCache, QuantizedKVCache][] = [0, 1, 2].map(() => [paged.fork(), twin.fork()]);
      for (const [s, [pc, qc]] of samples.entries()) {
        let tok = s; // each sample starts from a different token, then decodes greedily
        for (let t = 0; t < 20; t++) {
          const pl = await model.forward({ tokens: ids([tok]), cache: pc });
          const ql = await model.forward({ tokens: ids([tok]), cache: qc });
          const x = read(pl.logits);
          const y = read(ql.logits);
          for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-5);
          tok = x.indexOf(Math.max(...x));
        }
        expect(pc.quantizedBlocks).toBe(Math.floor(pc.length / 4) - 2);
      }
      // The prompt's quantized blocks are shared: one copy for the three samples.
      expect(pool.stats().sharedBlocks).toBeGreaterThanOrEqual(5);
      expectPoolInvariants(pool, [paged, ...samples.map(([pc]) => pc)]);
    });
  }

  it('keeps forks apart while one reads a shared block quantized and the other in f32', () => {
    const rand = uniforms(3);
    const pool = new PagedKVPool({ ...base, quantization: { bits: 4, residualBlocks: 1 } });
    const a = pool.createCache();
    stepAll(rand, [a], 10); // blocks 0, 1 full, 2 partial; block 0 leaves the window
    expect(a.quantizedBlocks).toBe(1);
    const keysA = read(a.keys(0));
    const b = a.fork();
    stepAll(rand, [b], 6); // b: 16 positions, blocks 0..2 quantized; b copies partial block 2 first
    expect(b.quantizedBlocks).toBe(3);
    const [, shared, a2] = a.blockTable(0);
    expect(b.blockTable(0)[1]).toBe(shared);
    expect(b.blockTable(0)[2]).not.toBe(a2);
    let snap = pool.snapshot();
    // Block 1 holds both: quantized for b, f32 for a.
    expect([snap.quantized[shared], snap.f32Slots[shared] >= 0, snap.quantizedRefs[shared]]).toEqual([
      true,
      true,
      1,
    ]);
    // a still reads positions 4..9 exactly (f32), position 0..3 as before.
    expect(read(a.keys(0))).toEqual(keysA);
    stepAll(rand, [a], 1);
    const D = base.headDim;
    const keysA2 = read(a.keys(0)); // [1, KV, 11, D]
    for (let h = 0; h < base.numKvHeads; h++) {
      expect(keysA2.subarray(h * 11 * D, (h * 11 + 10) * D)).toEqual(
        keysA.subarray(h * 10 * D, (h + 1) * 10 * D),
      );
    }
    expectPoolInvariants(pool, [a, b]);
    a.dispose(); // block 1's last f32 reader: its f32 storage is freed
    snap = pool.snapshot();
    expect([snap.quantized[shared], snap.f32Slots[shared]]).toEqual([true, -1]);
    // b reads its 16 positions: block 1 dequantized, within half a step of a's f32 keys.
    const kb = read(b.keys(0)); // head 0: positions 0..15 first
    for (let i = 4 * D; i < 10 * D; i++) expect(Math.abs(kb[i] - keysA[i])).toBeLessThan(0.21);
    expectPoolInvariants(pool, [b]);
  });

  it('counts quantized blocks in quantized bytes, and the ratio to f32', () => {
    const rand = uniforms(4);
    const pool = new PagedKVPool({ ...base, quantization: { bits: 4, residualBlocks: 1, f32Blocks: 10 } });
    const { numLayers: L, numKvHeads: KV, headDim: D, blockSize: bs } = base;
    // Per layer and head: key and value codes (bs·D codes of 4 bits each), an f32 (scale, min) per
    // key channel, one per token and group of bs value channels.
    const qBlock = (2 * ((bs * D * 4) / 8) + 8 * (D + bs * Math.ceil(D / bs))) * KV * L;
    const fBlock = bs * D * 4 * 2 * KV * L;
    expect([pool.quantizedBytesPerBlock, pool.bytesPerBlock]).toEqual([qBlock, fBlock]);
    const c = pool.createCache();
    stepAll(rand, [c], 18); // 5 blocks: 3 quantized (18 / 4 − 1), 2 in f32
    const perPos = (KV * D * 4 * 2 * L) as number;
    expect(c.memory()).toEqual({
      allocatedBytes: 3 * qBlock + 2 * fBlock,
      usedBytes: 12 * (qBlock / bs) + 6 * perPos,
      length: 18,
      maxLength: base.numBlocks * bs,
      blocks: 5,
      sharedBlocks: 0,
      exclusiveBytes: 3 * qBlock + 2 * fBlock,
      quantizedBlocks: 3,
      f32Bytes: 5 * fBlock,
    });
    expect(pool.stats()).toMatchObject({
      totalBytes: 10 * fBlock + 3 * qBlock,
      usedBytes: 3 * qBlock + 2 * fBlock,
      quantization: {
        bits: 4,
        residualBlocks: 1,
        f32Blocks: 10,
        freeF32Blocks: 8,
        quantizedBlocks: 3,
        quantizedBytesPerBlock: qBlock,
        usedRatio: (3 * qBlock + 2 * fBlock) / (5 * fBlock),
      },
    });
  });

  it('validates its options, has no attentionView, and says when f32 storage runs out', () => {
    expect(() => new PagedKVPool({ ...base, quantization: { bits: 4, window: 2 } as never })).toThrow(
      /window/,
    );
    expect(() => new PagedKVPool({ ...base, quantization: { bits: 3 as never } })).toThrow(/bits/);
    expect(() => new PagedKVPool({ ...base, quantization: { f32Blocks: 25 } })).toThrow(
      /f32Blocks \(25\) exceeds numBlocks \(24\)/,
    );
    const pool = new PagedKVPool({ ...base, quantization: { f32Blocks: 3 } });
    expect(pool.quantization).toEqual({ bits: 4, residualBlocks: 32, f32Blocks: 3 });
    const c = pool.createCache();
    expect([c.attentionView, typeof c.attend]).toEqual([undefined, 'function']);
    const f32 = new PagedKVPool(base).createCache();
    expect([typeof f32.attentionView, f32.attend]).toEqual(['function', undefined]);
    const rand = uniforms(5);
    stepAll(rand, [c], 12);
    expect(() => stepAll(rand, [c], 1)).toThrow(
      /the block pool is exhausted: this step needs 1 new blocks in f32 but only 0 of the 3 f32 blocks are free/,
    );
    c.rollback();
    expect(c.length).toBe(12);
    expectPoolInvariants(pool, [c]);
  });
});
