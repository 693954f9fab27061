import { cast, scope, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from './contiguous';
import {
  cat,
  expectClose,
  expectEveryLayer,
  expectStridedLastAxis,
  pick,
  randomKV,
  step,
  uniforms,
} from './testing';

const B = 2;
const KV = 3;
const D = 4;
const opts = { numLayers: 2, batch: B, numKvHeads: KV, headDim: D, maxLength: 16 };

const randKV = (rand: () => number, S: number) => randomKV(rand, [B, KV, S, D]);

describe('ContiguousKVCache', () => {
  it('appends chunks and exposes the written positions as views', async () => {
    const rand = uniforms(1);
    const cache = new ContiguousKVCache(opts);
    const a = randKV(rand, 3);
    const b = randKV(rand, 1);
    const c = randKV(rand, 5);
    step(cache, a.t, b.t.expand([B, KV, 3, D]).contiguous());
    step(cache, b.t, c.t.slice(2, 0, 1));
    expect(cache.length).toBe(4);
    cache.append(0, c.t, c.t);
    // pending positions are visible in their layer before commit
    expect(cache.layerLength(0)).toBe(9);
    expect(cache.length).toBe(4);
    const k0 = cache.keys(0);
    expect(k0.shape).toEqual([B, KV, 9, D]);
    await expectClose(k0, cat([a.vals, b.vals, c.vals]));
    cache.append(1, c.t, c.t);
    cache.commit();
    const v1 = cache.values(1);
    const bRep = b.vals.map((x) => x.map((y) => [y[0], y[0], y[0]]));
    await expectClose(v1, cat([bRep, c.vals.map((x) => x.map((y) => [y[0]])), c.vals]));
    // views share storage with the cache: no copy per step
    expect(k0.storage).toBe(cache.keys(0).storage);
  });

  it('accepts non-contiguous and f16 inputs', async () => {
    const rand = uniforms(2);
    const cache = new ContiguousKVCache({ ...opts, numLayers: 1 });
    // [B, S, KV, D] permuted to [B, KV, S, D]: the layout a model gets after splitting heads
    const raw = Array.from({ length: B * 2 * KV * D }, rand);
    const bskd = tensor(raw, [B, 2, KV, D]);
    const k = bskd.permute([0, 2, 1, 3]);
    const v16 = cast(k, 'f16');
    cache.append(0, k, v16);
    cache.commit();
    const want: number[] = [];
    for (let b = 0; b < B; b++)
      for (let h = 0; h < KV; h++)
        for (let s = 0; s < 2; s++)
          for (let d = 0; d < D; d++) want.push(raw[((b * 2 + s) * KV + h) * D + d]);
    await expectClose(cache.keys(0), want);
    await expectClose(cache.values(0), want, 1e-3);
    // strided last dimension
    const c2 = new ContiguousKVCache({ ...opts, numLayers: 1, headDim: 2 });
    await expectStridedLastAxis(c2, k, want);
  });

  it('truncates, overwrites after truncation, rolls back and forks independently', async () => {
    const rand = uniforms(3);
    const cache = new ContiguousKVCache(opts);
    const a = randKV(rand, 4);
    const b = randKV(rand, 2);
    const c = randKV(rand, 3);
    step(cache, a.t, a.t);
    step(cache, b.t, b.t);
    cache.truncate(4);
    expect(cache.length).toBe(4);
    expect(cache.keys(1).shape).toEqual([B, KV, 4, D]);
    step(cache, c.t, c.t);
    await expectClose(cache.keys(1), cat([a.vals, c.vals]));

    const f = cache.fork();
    expect(f.length).toBe(7);
    await expectClose(f.values(0), cat([a.vals, c.vals]));
    cache.truncate(1);
    step(cache, b.t, b.t);
    await expectClose(f.values(0), cat([a.vals, c.vals]));
    expect(f.keys(0).storage).not.toBe(cache.keys(0).storage);

    cache.append(0, c.t, c.t);
    cache.rollback();
    expect(cache.layerLength(0)).toBe(3);
    expect(() => cache.truncate(10)).toThrow(/\[0, 3\]/);
    cache.append(0, c.t, c.t);
    expect(() => cache.truncate(0)).toThrow(/commit\(\) or rollback\(\)/);
    expect(() => cache.commit()).toThrow(/layer 1 holds 3 positions but layer 0 holds 6/);
  });

  it('grows from a small capacity and keeps the contents; adopts whole-cache tensors without a copy', async () => {
    const rand = uniforms(4);
    const cache = new ContiguousKVCache({ ...opts, capacity: 0 });
    expect(cache.memory().allocatedBytes).toBe(0);
    expect(cache.keys(0).shape).toEqual([B, KV, 0, D]);
    const a = randKV(rand, 3);
    const b = randKV(rand, 2);
    step(cache, a.t, a.t);
    step(cache, b.t, b.t);
    await expectClose(cache.keys(0), cat([a.vals, b.vals]));
    expect(cache.memory().allocatedBytes).toBe(2 * 6 * B * KV * D * 4 * 2);

    // adopt: the runtime returns all positions (old + new) for each layer
    const full = randKV(rand, 7);
    // the cache takes ownership (and disposes what it adopts), so give each slot its own view
    const own = () => full.t.slice(2, 0, 7);
    for (let l = 0; l < 2; l++) cache.adopt(l, own(), own());
    cache.commit();
    expect(cache.length).toBe(7);
    expect(cache.keys(0).storage).toBe(full.t.storage);
    // appending after adopt reallocates (capacity 7 is full) and keeps the contents
    step(cache, b.t, b.t);
    await expectClose(cache.values(1), cat([full.vals, b.vals]));
    expect(() => cache.adopt(0, a.t.slice(2, 0), a.t.slice(2, 0))).toThrow(/between the committed length 9/);
  });

  it('reports memory: allocated vs used', () => {
    const cache = new ContiguousKVCache(opts);
    const bytesPerPos = B * KV * D * 4 * 2; // keys + values, f32
    expect(cache.memory()).toEqual({
      allocatedBytes: 2 * 16 * bytesPerPos,
      usedBytes: 0,
      length: 0,
      maxLength: 16,
    });
    const x = tensor(new Array(B * KV * 5 * D).fill(1), [B, KV, 5, D]);
    step(cache, x, x);
    expect(cache.memory().usedBytes).toBe(2 * 5 * bytesPerPos);
    cache.dispose();
    expect(cache.memory().allocatedBytes).toBe(0);
    expect(() => cache.keys(0)).toThrow(/disposed/);
  });

  it('survives the scope it was created in', async () => {
    const cache = scope(() => {
      const c = new ContiguousKVCache(opts);
      const x = tensor(new Array(B * KV * 2 * D).fill(3), [B, KV, 2, D]);
      step(c, x, x);
      return c;
    });
    expect(await cache.keys(0).array()).toEqual(new Array(B * KV * 2 * D).fill(3));
  });

  it('rejects bad input with clear errors', () => {
    expect(() => new ContiguousKVCache({ ...opts, numLayers: 0 })).toThrow(/numLayers/);
    expect(() => new ContiguousKVCache({ ...opts, capacity: 17 })).toThrow(
      /capacity 17 exceeds maxLength 16/,
    );
    expect(() => new ContiguousKVCache({ ...opts, dtype: 'f16' as 'f32' })).toThrow(/dtype/);
    const cache = new ContiguousKVCache(opts);
    const x = tensor(new Array(B * KV * 10 * D).fill(0), [B, KV, 10, D]);
    expect(() => cache.append(2, x, x)).toThrow(/layer 2 is out of range \[0, 2\)/);
    expect(() => cache.keys(-1)).toThrow(/out of range/);
    cache.append(0, x, x);
    expect(() => cache.append(0, x, x)).toThrow(/holds 10 positions; appending 10 exceeds maxLength 16/);
    const wrong = tensor(new Array(B * 2 * 10 * D).fill(0), [B, 2, 10, D]);
    expect(() => cache.append(1, wrong, wrong)).toThrow(
      /k has shape \[2, 2, 10, 4\], expected \[2, 3, S, 4\]/,
    );
    const ints = tensor(new Array(B * KV * 1 * D).fill(0), [B, KV, 1, D], { dtype: 'i32' });
    expect(() => cache.append(1, ints, ints)).toThrow(/dtype i32/);
    const short = tensor(new Array(B * KV * 3 * D).fill(0), [B, KV, 3, D]);
    expect(() => cache.append(1, x, short)).toThrow(/k has 10 positions but v has 3/);
  });

  it('keepPositions keeps the prefix and the listed positions in order, on every layer', async () => {
    const rand = uniforms(11);
    const cache = new ContiguousKVCache({ ...opts, capacity: 4 }); // grows while filling
    const ctx = randKV(rand, 5);
    const tree = randKV(rand, 6);
    step(cache, ctx.t, ctx.t);
    step(cache, tree.t, tree.t);
    // Accepted path: tree nodes 1, 3, 4 (positions 6, 8, 9).
    cache.keepPositions(5, [6, 8, 9]);
    expect(cache.length).toBe(8);
    const want = cat([ctx.vals, pick(tree.vals, [1, 3, 4])]);
    await expectEveryLayer(cache, want);
    // Appends continue after the kept path.
    const next = randKV(rand, 1);
    step(cache, next.t, next.t);
    await expectClose(cache.keys(1), cat([ctx.vals, pick(tree.vals, [1, 3, 4]), next.vals]));
    // Keeping nothing is a truncation; the prefix alone stays.
    cache.keepPositions(2, []);
    await expectClose(cache.values(0), cat([pick(ctx.vals, [0, 1])]));
  });

  it('keepPositions on adopted (ONNX-style) buffers and its errors', async () => {
    const rand = uniforms(12);
    const cache = new ContiguousKVCache({ ...opts, capacity: 0 });
    const all = randKV(rand, 6);
    for (let l = 0; l < cache.numLayers; l++) cache.adopt(l, all.t.slice(2, 0, 6), all.t.slice(2, 0, 6));
    cache.commit();
    cache.keepPositions(3, [5]);
    await expectClose(cache.keys(0), cat([pick(all.vals, [0, 1, 2, 5])]));
    expect(() => cache.keepPositions(2, [3, 3])).toThrow(/strictly increasing integers in \[2, 4\)/);
    expect(() => cache.keepPositions(5, [])).toThrow(/prefix 5 must be an integer in \[0, 4\]/);
    cache.append(0, all.t.slice(2, 0, 1), all.t.slice(2, 0, 1));
    expect(() => cache.keepPositions(1, [])).toThrow(/uncommitted positions pending/);
  });

  it('records left padding per row; fork copies it and truncate(0) clears it', () => {
    const rand = uniforms(13);
    const cache = new ContiguousKVCache(opts);
    expect(cache.padding).toEqual([0, 0]);
    const x = randKV(rand, 4);
    step(cache, x.t, x.t);
    cache.setPadding([3, 0]);
    expect(cache.padding).toEqual([3, 0]);
    const copy = cache.fork();
    expect(copy.padding).toEqual([3, 0]);
    expect(() => cache.setPadding([1])).toThrow(/padding must hold 2 integers/);
    expect(() => cache.setPadding([5, 0])).toThrow(/in \[0, 4\]/);
    cache.truncate(2);
    expect(cache.padding).toEqual([3, 0]);
    cache.truncate(0);
    expect(cache.padding).toEqual([0, 0]);
    expect(copy.padding).toEqual([3, 0]);
  });

  it('rejects an unknown option, naming it and the allowed ones', () => {
    expect(() => new ContiguousKVCache({ ...opts, maxLen: 8 } as never)).toThrow(
      /Unrecognized key: "maxLen"; allowed: numLayers, batch, numKvHeads, headDim, maxLength, capacity, dtype, device/,
    );
  });
});
