/**
 * The fast f32 attention ('cpu') against the reference kernel ('reference') on fresh seeded inputs:
 * GQA ratios 1, 2 and 4, decode (S = 1) and chunked prefill with a causal offset (T > S), tree and
 * broadcast masks, head dims on and off the 4-wide unroll, and q/k/v in every layout the models
 * produce (heads views, KV-cache prefix slices whose unused positions hold NaN, permuted, strided).
 *
 * Tolerance: both accumulate in float64; the fast kernel adds the weighted values in another order
 * and divides by the sum once at the end, so the two agree to a few float64 roundings before each
 * rounds once to f32: at most one f32 ulp of the largest |v| term. We allow 2^-22 · (|ref| + max|v|).
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { sdpa } from '../../index';
import { sizeOf } from '../../shape';
import type { Tensor } from '../../tensor';
import { mulberry32, randint, randn, roundTo } from '../../test-utils';
import {
  type AttentionCase,
  bitMismatch,
  expectAttentionClose,
  expectCpuKernel,
  FAST_LAYOUTS,
  GQA_HEADS,
  onBoth,
  rawOnBoth,
} from '../fast-testing';
import { sdpaFast } from './fast';
import type { SdpaOptions } from './sdpa';

const rng = mulberry32(7_2024_11);
const U = 2 ** -22;

function randomMask(shape: number[], S: number, T: number): Float64Array {
  const m = randint(rng, sizeOf(shape), 0, 2);
  const rows = shape.length > 1 ? shape[shape.length - 2] : 1;
  for (let r = 0; r < m.length / T; r++) m[r * T + T - S + (rows === 1 ? 0 : r % rows)] = 1;
  return m;
}

async function compare(c: AttentionCase, layouts: number, dtype: DType = 'f32'): Promise<void> {
  const { B, Hq, Hkv, S, T, D, Dv } = c;
  const L = (n: number) => FAST_LAYOUTS[(layouts + n) % FAST_LAYOUTS.length];
  const v = roundTo(randn(rng, B * Hkv * T * Dv), dtype);
  const q = onBoth(roundTo(randn(rng, B * Hq * S * D), dtype), [B, Hq, S, D], dtype, L(0));
  const k = onBoth(roundTo(randn(rng, B * Hkv * T * D), dtype), [B, Hkv, T, D], dtype, L(1));
  const vv = onBoth(v, [B, Hkv, T, Dv], dtype, L(2));
  const mask = c.mask ? rawOnBoth(randomMask(c.mask, S, T), c.mask, 'bool') : null;
  const opts = (m: Tensor | undefined): SdpaOptions => ({ causal: c.causal, scale: c.scale, mask: m });
  const got = sdpa(q.cpu, k.cpu, vv.cpu, opts(mask?.cpu));
  const want = sdpa(q.ref, k.ref, vv.ref, opts(mask?.ref));
  const label = `${dtype} ${JSON.stringify(c)} layouts ${L(0)}/${L(1)}/${L(2)}`;
  if (dtype !== 'f32') {
    expect(await bitMismatch(got, want), `${label} (reference fallback)`).toBeNull();
    return;
  }
  const vmax = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  await expectAttentionClose(got, want, vmax, label);
}

describe('sdpa fast kernel vs reference', () => {
  it('is the cpu kernel', () => expectCpuKernel('sdpa', sdpaFast));

  it('decode and prefill, GQA ratios 1/2/4, causal offsets, every layout', async () => {
    let n = 0;
    for (const [Hq, Hkv] of GQA_HEADS) {
      for (const [S, T] of [
        [1, 1],
        [1, 13],
        [5, 5],
        [3, 11],
      ]) {
        for (const D of [32, 5]) {
          await compare({ B: 2, Hq, Hkv, S, T, D, Dv: D === 5 ? 7 : D, causal: true }, n++);
          await compare({ B: 1, Hq, Hkv, S, T, D, Dv: D }, n++);
        }
      }
    }
  });

  it('tree and broadcast masks, with and without causal', async () => {
    const masks: [number, number, number[]][] = [
      [4, 9, [4, 9]], // one tree mask for every batch and head
      [3, 10, [2, 1, 3, 10]], // per batch
      [5, 7, [1, 4, 5, 7]], // per head
      [2, 6, [2, 4, 2, 6]], // full
      [1, 9, [9]], // broadcast over rows
    ];
    let n = 3;
    for (const [S, T, mask] of masks) {
      for (const causal of [false, true]) {
        await compare({ B: 2, Hq: 4, Hkv: 2, S, T, D: 8, Dv: 8, causal, mask }, n++);
        await compare({ B: 2, Hq: 4, Hkv: 1, S, T, D: 6, Dv: 3, causal, mask }, n++);
      }
    }
  });

  it('large scores stay stable; custom scale', async () => {
    await compare({ B: 1, Hq: 4, Hkv: 2, S: 3, T: 17, D: 16, Dv: 16, causal: true, scale: 40 }, 0);
    await compare({ B: 1, Hq: 2, Hkv: 2, S: 2, T: 5, D: 4, Dv: 4, scale: 1e-3 }, 1);
  });

  it('f16 and bf16 go to the reference kernel', async () => {
    await compare({ B: 1, Hq: 4, Hkv: 2, S: 2, T: 6, D: 8, Dv: 8, causal: true }, 0, 'f16');
    await compare({ B: 1, Hq: 2, Hkv: 1, S: 1, T: 6, D: 8, Dv: 8, mask: [1, 6] }, 1, 'bf16');
  });

  it('fully masked rows are zero in both kernels; the other rows still match the reference', async () => {
    // Rows (b 0, h 1, i 2) and (b 1, h 0, i 0) see nothing (the padding rows of a batch).
    const [B, Hq, S, T, D] = [2, 2, 3, 4, 4];
    const m = new Float64Array(B * Hq * S * T).fill(1);
    const empty = [
      [1, 0, 0],
      [0, 1, 2],
    ];
    for (const [b, h, i] of empty) m.fill(0, ((b * Hq + h) * S + i) * T, ((b * Hq + h) * S + i + 1) * T);
    const mask = rawOnBoth(m, [B, Hq, S, T], 'bool');
    const x = onBoth(randn(rng, B * Hq * S * D), [B, Hq, S, D]);
    const kv = onBoth(randn(rng, B * Hq * T * D), [B, Hq, T, D], 'f32', 'cache');
    const fast = (await sdpa(x.cpu, kv.cpu, kv.cpu, { mask: mask.cpu }).data()) as Float32Array;
    const ref = (await sdpa(x.ref, kv.ref, kv.ref, { mask: mask.ref }).data()) as Float32Array;
    for (const [b, h, i] of empty) {
      const o = ((b * Hq + h) * S + i) * D;
      expect(Array.from(fast.subarray(o, o + D))).toEqual([0, 0, 0, 0]);
      expect(Array.from(ref.subarray(o, o + D))).toEqual([0, 0, 0, 0]);
    }
    // Every other row is a real softmax average: not zero, and within the kernel tolerance.
    let nonzero = 0;
    for (let j = 0; j < fast.length; j++) {
      expect(Math.abs(fast[j] - ref[j])).toBeLessThanOrEqual(U * (Math.abs(ref[j]) + 8));
      if (fast[j] !== 0) nonzero++;
    }
    expect(nonzero).toBe(fast.length - empty.length * D);
    // Causal plus a mask that hides the keys a causal row may see leaves it nothing: zero as well.
    const causalMask = rawOnBoth([0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1], [S, T], 'bool');
    for (const t of ['cpu', 'ref'] as const) {
      const y = (await sdpa(x[t], kv[t], kv[t], {
        mask: causalMask[t],
        causal: true,
      }).data()) as Float32Array;
      expect(Array.from(y.subarray(0, D))).toEqual([0, 0, 0, 0]);
      expect(Array.from(y.subarray(D, 2 * D))).toEqual([0, 0, 0, 0]); // position 2: keys 0..2 hidden
      expect(y.subarray(2 * D, 3 * D).some((v) => v !== 0)).toBe(true);
    }
  });

  it('NaN and Inf: a NaN query or +Inf key makes its row NaN; masked keys never leak in', async () => {
    const [S, T, D] = [3, 5, 4];
    const qv = randn(rng, 2 * S * D);
    qv[0] = Number.NaN; // head 0, row 0
    for (let r = 0; r < S; r++) qv[(S + r) * D] = 1; // head 1: q·k = +Inf at the key below
    const kv = randn(rng, 2 * T * D);
    kv[(T + 1) * D] = Number.POSITIVE_INFINITY; // head 1, key 1
    const vv = randn(rng, 2 * T * D);
    vv[3 * D] = Number.NaN; // head 0, key 3: masked for every row below
    vv[(T + 3) * D + 1] = Number.NEGATIVE_INFINITY; // head 1, key 3: masked too
    const mask = rawOnBoth([1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1], [S, T], 'bool');
    const q = onBoth(qv, [1, 2, S, D]);
    const k = onBoth(kv, [1, 2, T, D]);
    const v = onBoth(vv, [1, 2, T, D]);
    const got = sdpa(q.cpu, k.cpu, v.cpu, { mask: mask.cpu });
    const want = sdpa(q.ref, k.ref, v.ref, { mask: mask.ref });
    const g = await got.data();
    expect(Number.isNaN(g[0])).toBe(true); // the NaN query row
    expect(Number.isNaN(g[2 * D])).toBe(false); // head 0 row 2 (sees keys 2, 4) is finite
    expect(Number.isNaN(g[S * D])).toBe(true); // head 1 row 0 sees the +Inf key
    expect(Number.isNaN(g[(S + 2) * D])).toBe(false); // head 1 row 2 does not
    const w = await want.data();
    for (let i = 0; i < w.length; i++) {
      const same = Number.isNaN(w[i]) ? Number.isNaN(g[i]) : Math.abs(g[i] - w[i]) <= 1e-6;
      if (!same) expect.fail(`element ${i}: cpu ${g[i]}, reference ${w[i]}`);
    }
  });

  it('a value masked for one row of a pair does not leak into it through the other', async () => {
    // GQA pair (two query heads, one KV head): head 0 sees every key, head 1 all but key 2,
    // whose value holds NaN and +Inf. Head 0 turns NaN/Inf where it reads them; head 1 stays finite.
    const [T, D] = [8, 4];
    const vv = randn(rng, T * D);
    vv[2 * D] = Number.NaN;
    vv[2 * D + 1] = Number.POSITIVE_INFINITY;
    const mask = rawOnBoth([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1], [1, 2, 1, T], 'bool');
    const q = onBoth(randn(rng, 2 * D), [1, 2, 1, D]);
    const k = onBoth(randn(rng, T * D), [1, 1, T, D], 'f32', 'cache');
    const v = onBoth(vv, [1, 1, T, D], 'f32', 'cache');
    const got = sdpa(q.cpu, k.cpu, v.cpu, { mask: mask.cpu });
    const g = await got.data();
    const w = await sdpa(q.ref, k.ref, v.ref, { mask: mask.ref }).data();
    expect(Number.isNaN(g[0]) && g[1] === Number.POSITIVE_INFINITY).toBe(true);
    expect(Array.from(g.subarray(D)).every(Number.isFinite)).toBe(true);
    for (let i = 0; i < w.length; i++) {
      const same = Number.isFinite(w[i]) ? Math.abs(g[i] - w[i]) <= 1e-6 : Object.is(g[i], w[i]);
      if (!same) expect.fail(`element ${i}: cpu ${g[i]}, reference ${w[i]}`);
    }
  });

  it('an empty batch gives an empty output', async () => {
    const q = onBoth([], [0, 2, 1, 4]);
    const k = onBoth([], [0, 1, 3, 4]);
    expect(await bitMismatch(sdpa(q.cpu, k.cpu, k.cpu), sdpa(q.ref, k.ref, k.ref)), 'empty').toBeNull();
  });
});
