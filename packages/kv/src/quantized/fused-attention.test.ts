import { readF64, type Tensor, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { randomKV, uniforms } from '../testing';
import { dequantizedAttention } from './fused-attention';
import { QuantizedKVCache } from './quantized-cache';

/** Largest |a − b| over two tensors of one shape. */
function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = readF64(a);
  const y = readF64(b);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** Fill a cache with `chunks` of random positions (committed one chunk at a time); return it. */
function filled(
  rand: () => number,
  o: { B: number; KV: number; D: number; bits: 8 | 4 | 2; G: number; R: number },
  chunks: number[],
): QuantizedKVCache {
  const cache = new QuantizedKVCache({
    numLayers: 2,
    batch: o.B,
    numKvHeads: o.KV,
    headDim: o.D,
    maxLength: 1000,
    bits: o.bits,
    groupSize: o.G,
    residual: o.R,
  });
  for (const S of chunks) {
    for (let l = 0; l < 2; l++) {
      // Keys with an outlier channel (KIVI's reason for per-channel keys), values plain.
      const k = randomKV(() => rand() * 3, [o.B, o.KV, S, o.D]).t;
      const v = randomKV(rand, [o.B, o.KV, S, o.D]).t;
      cache.append(l, k, v);
      k.dispose();
      v.dispose();
    }
    cache.commit();
  }
  return cache;
}

describe('fused dequantize-in-attention (QuantizedKVCache.attend)', () => {
  // Awkward shapes: D not a multiple of G (short last value group), lengths that cut groups,
  // windows of 0 and more, GQA groups of 1, 2 and 3, several queries (chunked prefill) and one.
  const cases = [
    { B: 1, KV: 2, Hq: 4, D: 12, G: 8, R: 10, chunks: [37, 1, 1], S: 1 },
    { B: 2, KV: 1, Hq: 3, D: 16, G: 4, R: 0, chunks: [23], S: 5 },
    { B: 1, KV: 3, Hq: 3, D: 7, G: 5, R: 3, chunks: [9, 14, 2], S: 2 },
    { B: 2, KV: 2, Hq: 4, D: 32, G: 32, R: 128, chunks: [200, 1], S: 1 },
  ];
  for (const bits of [8, 4, 2] as const) {
    for (const [ci, c] of cases.entries()) {
      it(`${bits} bits, case ${ci}: equals dequantize-then-sdpa on fresh random inputs`, () => {
        const rand = uniforms(1000 * bits + ci);
        const cache = filled(rand, { ...c, bits }, c.chunks);
        const T = cache.length;
        expect(cache.layerView(0).qlen).toBeGreaterThan(0); // something is quantized
        // A pending chunk of S new positions, attended causally (a model's forward does this).
        for (let l = 0; l < 2; l++) {
          const k = randomKV(rand, [c.B, c.KV, c.S, c.D]).t;
          cache.append(l, k, k);
          k.dispose();
        }
        for (let l = 0; l < 2; l++) {
          const q = randomKV(() => rand() * 2, [c.B, c.Hq, c.S, c.D]).t;
          for (const opts of [{ causal: true }, {}, { causal: true, scale: 0.3 }]) {
            const fused = cache.attend(l, q, opts);
            const ref = dequantizedAttention(cache, l, q, opts);
            // Both read the same codes; they differ by the f32 rounding of the dense copy and sdpa's f32 sums.
            expect(maxDiff(fused, ref)).toBeLessThan(2e-5);
            fused.dispose();
            ref.dispose();
          }
          // A bool mask (a tree mask), broadcast over heads, with one row that sees nothing.
          const T2 = T + c.S;
          const m = Array.from({ length: c.S * T2 }, (_, i) => (i < T2 ? false : rand() > -0.5));
          const mask = tensor(
            Uint8Array.from(m, (x) => (x ? 1 : 0)),
            [1, 1, c.S, T2],
            { dtype: 'bool' },
          );
          const fused = cache.attend(l, q, { mask });
          const ref = dequantizedAttention(cache, l, q, { mask });
          expect(maxDiff(fused, ref)).toBeLessThan(2e-5);
          const row0 = readF64(fused.slice(2, 0, 1));
          expect(row0.every((x) => x === 0)).toBe(true);
          fused.dispose();
          ref.dispose();
          mask.dispose();
          q.dispose();
        }
        cache.rollback();
        cache.dispose();
      });
    }
  }

  it('the quantized part matters: a 2-bit cache attends differently from its f32 window alone', () => {
    const rand = uniforms(7);
    const c = { B: 1, KV: 1, D: 8, G: 4, R: 4, bits: 2 as const };
    const cache = filled(rand, c, [40]);
    const q = randomKV(rand, [1, 2, 1, 8]).t;
    const full = cache.attend(0, q, { causal: true });
    // Hide the quantized positions: the output must change (the kernel really reads the codes).
    const T = cache.length;
    const mask = tensor(
      Uint8Array.from({ length: T }, (_, p) => (p >= cache.layerView(0).qlen ? 1 : 0)),
      [1, 1, 1, T],
      { dtype: 'bool' },
    );
    const windowOnly = cache.attend(0, q, { mask });
    expect(maxDiff(full, windowOnly)).toBeGreaterThan(1e-3);
    cache.dispose();
  });

  it('rejects bad shapes and options with clear errors', () => {
    const cache = filled(uniforms(3), { B: 1, KV: 2, D: 8, G: 4, R: 4, bits: 4 }, [20]);
    const q = randomKV(uniforms(4), [1, 3, 1, 8]).t;
    expect(() => cache.attend(0, q)).toThrow(/multiple of the 2 kv heads/);
    const q2 = randomKV(uniforms(4), [1, 2, 1, 6]).t;
    expect(() => cache.attend(0, q2)).toThrow(/q must be \[1, Hq, S, 8\]/);
    const q3 = randomKV(uniforms(4), [1, 2, 1, 8]).t;
    expect(() => cache.attend(0, q3, { causal: true, window: 3 } as never)).toThrow(/window/);
    expect(() => cache.attend(5, q3)).toThrow(/layer/);
    cache.dispose();
  });
});
