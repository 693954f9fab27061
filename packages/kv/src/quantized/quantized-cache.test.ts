import { type Tensor, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from '../contiguous';
import type { KVCache } from '../kv-cache';
import { randomKV, step, uniforms } from '../testing';
import { QuantizedKVCache } from './quantized-cache';

const B = 2;
const KV = 2;
const D = 12; // not a multiple of G: the last value group per token is short
const G = 8;
const R = 10;
const shape = { numLayers: 2, batch: B, numKvHeads: KV, headDim: D, maxLength: 200 };

/** Quantized positions after committing `len` positions in one growing run. */
const quantizedUpTo = (len: number) => Math.max(0, Math.floor((len - R) / G)) * G;

/**
 * Every layer of `q` equals the contiguous twin: positions >= qlen exactly, quantized ones within
 * scale/2 of their KIVI group (keys: G tokens of one channel; values: G channels of one token), or
 * within `tol` everywhere below qlen when given (after lossy moves).
 */
async function expectTwin(
  q: KVCache,
  twin: KVCache,
  bits: number,
  qlen: number,
  tol?: number,
): Promise<void> {
  const levels = 2 ** bits - 1;
  expect(q.length).toBe(twin.length);
  for (let l = 0; l < q.numLayers; l++) {
    for (const which of ['keys', 'values'] as const) {
      const gotT: Tensor = q[which](l);
      const wantT: Tensor = twin[which](l);
      expect(gotT.shape).toEqual(wantT.shape);
      const got = await gotT.data();
      const want = await wantT.data();
      gotT.dispose();
      const T = wantT.shape[2];
      const at = (bh: number, p: number, c: number) => (bh * T + p) * D + c;
      for (let bh = 0; bh < B * KV; bh++)
        for (let p = 0; p < T; p++)
          for (let c = 0; c < D; c++) {
            const i = at(bh, p, c);
            if (p >= qlen) {
              expect(got[i]).toBe(want[i]);
              continue;
            }
            let bound = tol;
            if (bound === undefined) {
              const group: number[] = [];
              if (which === 'keys')
                for (let t = p - (p % G); t < p - (p % G) + G; t++) group.push(want[at(bh, t, c)]);
              else
                for (let e = c - (c % G); e < Math.min(D, c - (c % G) + G); e++)
                  group.push(want[at(bh, p, e)]);
              const scale = (Math.max(...group) - Math.min(...group)) / levels;
              bound = scale / 2 + 1e-6;
            }
            expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(bound);
          }
    }
  }
}

const randKV = (rand: () => number, S: number) => randomKV(rand, [B, KV, S, D]);

describe('QuantizedKVCache', () => {
  for (const bits of [8, 4, 2] as const) {
    it(`${bits} bits: append/commit/rollback/truncate/keepPositions/fork match a contiguous twin`, async () => {
      const rand = uniforms(200 + bits);
      const q = new QuantizedKVCache({ ...shape, bits, groupSize: G, residual: R, capacity: 4 });
      const twin = new ContiguousKVCache(shape);
      const both = (S: number) => {
        const { t } = randKV(rand, S);
        const { t: v } = randKV(rand, S);
        step(q, t, v);
        step(twin, t, v);
      };
      // chunks of awkward lengths: the window crosses group boundaries mid-chunk
      for (const S of [13, 1, 1, 5, 9, 3, 1, 7, 2]) {
        both(S);
        await expectTwin(q, twin, bits, quantizedUpTo(q.length));
      }
      expect(q.length).toBe(42);
      // pending positions are visible in their layer, and rollback forgets them
      const { t: p } = randKV(rand, 3);
      q.append(0, p, p);
      expect(q.layerLength(0)).toBe(45);
      expect(q.keys(0).shape).toEqual([B, KV, 45, D]);
      q.rollback();
      await expectTwin(q, twin, bits, quantizedUpTo(42));

      // truncating inside the quantized part: the cut group's positions return dequantized
      q.truncate(21);
      twin.truncate(21);
      // Positions returned to the window dequantized are quantized again when they leave it (here
      // up to three times): each pass adds at most half a step of the full [-1, 1) range.
      const loose = 3 / (2 ** bits - 1) + 1e-5;
      await expectTwin(q, twin, bits, 21, loose);
      both(20);
      await expectTwin(q, twin, bits, quantizedUpTo(41), loose);

      // fork: equal now, independent afterwards
      const f = q.fork();
      await expectTwin(f, twin, bits, quantizedUpTo(41), loose);
      const { t: x } = randKV(rand, 4);
      step(f, x, x);
      expect([f.length, q.length]).toEqual([45, 41]);
      await expectTwin(q, twin, bits, quantizedUpTo(41), loose);

      // keepPositions: a prefix plus scattered later positions, quantized and windowed
      const kept = [6, 19, 30, 38, 40];
      q.keepPositions(3, kept);
      twin.keepPositions(3, kept);
      expect(q.length).toBe(8);
      await expectTwin(q, twin, bits, 8, loose);
      both(25);
      await expectTwin(q, twin, bits, 33 - R - ((33 - R) % G), loose);
      expect(q.memory().length).toBe(33);

      q.truncate(0);
      twin.truncate(0);
      both(3);
      await expectTwin(q, twin, bits, 0);
      f.dispose();
      q.dispose();
      twin.dispose();
    });
  }

  it('accepts strided input, adopts whole-cache tensors, and keeps padding', async () => {
    const rand = uniforms(5);
    const q = new QuantizedKVCache({ ...shape, numLayers: 1, bits: 8, groupSize: 4, residual: 2 });
    const raw = Array.from({ length: B * 6 * KV * D }, rand);
    const k = tensor(raw, [B, 6, KV, D]).permute([0, 2, 1, 3]);
    q.append(0, k, k);
    q.commit();
    q.setPadding([2, 0]);
    expect(q.padding).toEqual([2, 0]);
    const dense = q.keys(0);
    expect(dense.shape).toEqual([B, KV, 6, D]);
    // adopt: the runtime hands back all 8 positions; the first 4 are quantized already
    const { t: all } = randomKV(rand, [B, KV, 8, D]);
    q.adopt(0, all.contiguous(), all.contiguous());
    q.commit();
    expect(q.length).toBe(8);
    expect(q.memory().usedBytes).toBeLessThan(8 * B * KV * D * 4 * 2); // positions 0-3 quantized
    const got = await q.values(0).data();
    const want = await all.data();
    for (let bh = 0; bh < B * KV; bh++)
      for (let p = 4; p < 8; p++)
        for (let c = 0; c < D; c++) expect(got[(bh * 8 + p) * D + c]).toBe(want[(bh * 8 + p) * D + c]);
    q.truncate(0);
    expect(q.padding).toEqual([0, 0]);
  });

  it('validates options and calls', () => {
    expect(() => new QuantizedKVCache({ ...shape, bits: 3 as 4 })).toThrow(/QuantizedKVCache/);
    expect(() => new QuantizedKVCache({ ...shape, group: 4 } as never)).toThrow(/Unrecognized key: "group"/);
    const q = new QuantizedKVCache(shape);
    const { t } = randKV(uniforms(1), 2);
    expect(() => q.append(2, t, t)).toThrow(/layer 2 is out of range/);
    q.append(0, t, t);
    expect(() => q.commit()).toThrow(/layer 1 holds 0 positions/);
    q.rollback();
    expect(() => q.truncate(1)).toThrow(/length 1 must be an integer/);
    q.dispose();
    expect(() => q.keys(0)).toThrow(/disposed/);
  });

  it('4 bits hold 1024 positions in at most 0.3x the f32 bytes', () => {
    const cfg = { numLayers: 4, batch: 1, numKvHeads: 4, headDim: 32, maxLength: 1024 };
    const q = new QuantizedKVCache({ ...cfg, bits: 4 }); // G = 32, R = 128
    const twin = new ContiguousKVCache(cfg);
    const zero = tensor(new Float32Array(4 * 64 * 32), [1, 4, 64, 32]);
    for (let i = 0; i < 16; i++) {
      step(q, zero, zero);
      step(twin, zero, zero);
    }
    // 896 positions quantized (28 groups of 32), 128 in the f32 window, per layer and kv head:
    const keyBytes = (896 * 32 * 4) / 8 + 28 * 32 * 2 * 4; // codes + (scale, min) per channel per group
    const valueBytes = (896 * 32 * 4) / 8 + 896 * 1 * 2 * 4; // codes + (scale, min) per token (one group of 32)
    const windowBytes = 128 * 32 * 4 * 2;
    const expected = 4 * 4 * (keyBytes + valueBytes + windowBytes);
    const m = q.memory();
    expect(m.usedBytes).toBe(expected);
    expect(m.length).toBe(1024);
    expect(m.usedBytes / twin.memory().usedBytes).toBeLessThanOrEqual(0.3);
  });
});
