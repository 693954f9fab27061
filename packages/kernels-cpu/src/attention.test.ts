/**
 * The native attention ('cpu-native' sdpa) against core-tensor's float64 reference kernel
 * ('reference' backend) on fresh seeded inputs, for every ISA this CPU runs: GQA ratios 1, 2 and 7,
 * decode (S = 1) and chunked prefill (S < T, causal offset), head dims on and off the vector width,
 * Dv != D, q as a heads view of [B, S, H, D], keys and values as prefix views of a larger cache
 * whose unused positions hold NaN, broadcast and full masks, empty and NaN rows.
 *
 * Tolerance: the native kernel sums in f32 with fused multiply-adds (D products per score, T
 * weighted values per output), the reference in float64. Scores err by at most about
 * D · 2^-23 · Σ|q k| (≤ 2e-5 here, |q|, |k| ≤ 1, scale 1/√D), which moves each softmax weight
 * relatively by about twice that; the weighted sum adds T · 2^-23 relative. With |v| ≤ 1 we allow
 * 1e-4 · (1 + T / 256) absolute, about 10x the worst case of the shapes below, and far below the
 * 1e-2-scale error of any real bug (a wrong key, head, mask bit or scale).
 */

import { sdpa, setDefaultBackend, type Tensor, tensor } from '@hasten/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from './addon';
import { NATIVE_BACKEND } from './backend';
import { type CpuIsa, configureCpuKernels } from './index';
import { registerCpuNative } from './register';
import { mulberry32, uniform } from './test-utils';

const load = loadAddon();
if (!load.addon) console.warn(`kernels-cpu attention tests skipped: ${load.reason}`);

interface Case {
  B: number;
  Hq: number;
  Hkv: number;
  S: number;
  T: number;
  D: number;
  Dv: number;
  causal: boolean;
  /** Mask shape (broadcast to [B, Hq, S, T]) or none. */
  mask?: number[];
}

const CASES: Case[] = [
  { B: 1, Hq: 8, Hkv: 4, S: 1, T: 300, D: 32, Dv: 32, causal: true }, // code-target decode
  { B: 1, Hq: 14, Hkv: 2, S: 1, T: 37, D: 64, Dv: 64, causal: true }, // Qwen2-0.5B decode
  { B: 2, Hq: 4, Hkv: 4, S: 5, T: 23, D: 37, Dv: 19, causal: true }, // odd dims, chunked prefill
  { B: 2, Hq: 6, Hkv: 3, S: 3, T: 3, D: 8, Dv: 40, causal: false, mask: [2, 1, 3, 3] },
  { B: 1, Hq: 7, Hkv: 1, S: 4, T: 130, D: 80, Dv: 80, causal: true, mask: [1, 1, 4, 130] },
  { B: 3, Hq: 2, Hkv: 1, S: 2, T: 9, D: 16, Dv: 16, causal: false, mask: [3, 2, 2, 9] },
];

describe.skipIf(!load.addon)("'cpu-native' sdpa (native attention)", () => {
  registerCpuNative();
  const isas = (load.addon?.info().isas ?? []) as CpuIsa[];
  afterAll(() => {
    configureCpuKernels({ isa: 'auto' });
    setDefaultBackend('cpu');
  });

  /** The same values as a tensor on `device`, in the layout a model uses. */
  function inputs(c: Case, seed: number, device: string) {
    const rng = mulberry32(seed);
    const cap = c.T + 3; // cache capacity: positions T.. hold NaN and must never be read
    const qv = uniform(rng, c.B * c.S * c.Hq * c.D);
    const kv = uniform(rng, c.B * c.Hkv * cap * c.D);
    const vv = uniform(rng, c.B * c.Hkv * cap * c.Dv);
    for (let b = 0; b < c.B * c.Hkv; b++)
      for (let t = c.T; t < cap; t++) {
        kv.fill(Number.NaN, (b * cap + t) * c.D, (b * cap + t + 1) * c.D);
        vv.fill(Number.NaN, (b * cap + t) * c.Dv, (b * cap + t + 1) * c.Dv);
      }
    let mask: Tensor | undefined;
    if (c.mask) {
      const n = c.mask.reduce((a, b) => a * b, 1);
      mask = tensor(
        Uint8Array.from({ length: n }, () => (rng() < 0.7 ? 1 : 0)),
        c.mask,
        { dtype: 'bool', device },
      );
    }
    const q = tensor(qv, [c.B, c.S, c.Hq, c.D], { device }).permute([0, 2, 1, 3]);
    const k = tensor(kv, [c.B, c.Hkv, cap, c.D], { device }).slice(2, 0, c.T);
    const v = tensor(vv, [c.B, c.Hkv, cap, c.Dv], { device }).slice(2, 0, c.T);
    return { q, k, v, mask };
  }

  async function run(c: Case, seed: number, device: string): Promise<Float32Array> {
    const { q, k, v, mask } = inputs(c, seed, device);
    const o = sdpa(q, k, v, { causal: c.causal, mask, scale: 1 / Math.sqrt(c.D) });
    expect(o.device).toBe(device);
    expect(o.shape).toEqual([c.B, c.Hq, c.S, c.Dv]);
    return (await o.data()) as Float32Array;
  }

  function maxError(a: Float32Array, b: Float32Array): number {
    let e = 0;
    for (let i = 0; i < a.length; i++) {
      if (Number.isNaN(b[i])) {
        if (!Number.isNaN(a[i])) return Number.POSITIVE_INFINITY;
        continue;
      }
      e = Math.max(e, Math.abs(a[i] - b[i]));
    }
    return e;
  }

  for (const isa of ['scalar', 'avx2', 'avx512'] as CpuIsa[])
    it.skipIf(!isas.includes(isa))(`matches the float64 reference on ${isa}`, async () => {
      configureCpuKernels({ isa });
      for (const [i, c] of CASES.entries()) {
        const seed = 1000 + i;
        const ref = await run(c, seed, 'reference');
        const got = await run(c, seed, NATIVE_BACKEND);
        const tol = 1e-4 * (1 + c.T / 256);
        const err = maxError(got, ref);
        expect(err, `case ${i} ${JSON.stringify(c)}`).toBeLessThanOrEqual(tol);
        // Not vacuous: the outputs vary, so a wrong key, head or weight would show.
        expect(Math.max(...ref.map(Math.abs)), `case ${i}`).toBeGreaterThan(0.02);
      }
    });

  it('gives zero rows where no key is allowed and NaN rows where a score is NaN, as the reference', async () => {
    const c: Case = { B: 1, Hq: 2, Hkv: 1, S: 2, T: 6, D: 8, Dv: 8, causal: false, mask: [1, 2, 2, 6] };
    const build = (device: string) => {
      const rng = mulberry32(5);
      const q = uniform(rng, 2 * 2 * 8);
      q[1 * 8 + 3] = Number.NaN; // head 0, row 1: NaN query
      const k = uniform(rng, 6 * 8);
      const v = uniform(rng, 6 * 8);
      v[5 * 8 + 2] = Number.NaN; // value of key 5, masked for every row below
      const m = new Uint8Array(2 * 2 * 6).fill(1);
      for (let r = 0; r < 4; r++) m[r * 6 + 5] = 0;
      m.fill(0, 2 * 6, 3 * 6); // head 1, row 0: no key allowed
      return sdpa(
        tensor(q, [1, 2, 2, 8], { device }),
        tensor(k, [1, 1, 6, 8], { device }),
        tensor(v, [1, 1, 6, 8], { device }),
        { mask: tensor(m, c.mask as number[], { dtype: 'bool', device }), causal: false },
      );
    };
    const ref = (await build('reference').data()) as Float32Array;
    const got = (await build(NATIVE_BACKEND).data()) as Float32Array;
    const row = (a: Float32Array, r: number) => Array.from(a.subarray(r * 8, r * 8 + 8));
    expect(row(got, 1).every(Number.isNaN)).toBe(true); // NaN query row
    expect(row(got, 2)).toEqual(new Array(8).fill(0)); // empty row
    for (const r of [0, 3]) {
      expect(row(got, r).every(Number.isFinite)).toBe(true); // the masked NaN value stays out
      for (let d = 0; d < 8; d++) expect(Math.abs(got[r * 8 + d] - ref[r * 8 + d])).toBeLessThan(1e-5);
    }
    expect(row(ref, 1).every(Number.isNaN)).toBe(true);
    expect(row(ref, 2)).toEqual(new Array(8).fill(0));
  });

  it('falls back to the cpu kernel for keys that are not unit-stride along d, with the same result', async () => {
    const rng = mulberry32(11);
    const q = uniform(rng, 2 * 3 * 8);
    const kt = uniform(rng, 8 * 5); // stored [D, T]: k = transpose view
    const v = uniform(rng, 5 * 8);
    const run = (device: string) =>
      sdpa(
        tensor(q, [1, 2, 3, 8], { device }),
        tensor(kt, [1, 1, 8, 5], { device }).transpose(2, 3),
        tensor(v, [1, 1, 5, 8], { device }),
        { causal: true },
      ).data();
    const ref = (await run('reference')) as Float32Array;
    const got = (await run(NATIVE_BACKEND)) as Float32Array;
    for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-6);
  });

  it('the addon refuses shapes, offsets or strides that would read past an array', () => {
    const attend = load.addon!.attend;
    // B, Hq, Hkv, S, T, D, Dv; q offset + 4 strides; k offset + 3; v offset + 3; mask offset + 4; causal, scale
    const params = (T: number, kOffset = 0) =>
      Float64Array.from([
        1,
        2,
        1,
        1,
        T,
        4,
        4,
        0,
        8,
        4,
        4,
        1,
        kOffset,
        4 * T,
        4,
        4,
        0,
        4 * T,
        4,
        4,
        0,
        0,
        0,
        0,
        0,
        1,
        0.5,
      ]);
    const q = new Float32Array(8);
    const kv = new Float32Array(4 * 5);
    const out = new Float32Array(8);
    expect(() => attend(q, kv, kv, null, out, params(5), 0)).not.toThrow();
    expect(() => attend(q, kv, kv, null, out, params(6), 0)).toThrow(/attend: k is too short/);
    expect(() => attend(q, kv, kv, null, out, params(5, 1), 0)).toThrow(/attend: k is too short/);
    expect(() => attend(q, kv, kv, null, new Float32Array(7), params(5), 0)).toThrow(
      /attend: out is too short/,
    );
    const bad = params(5);
    bad[8] = -4;
    expect(() => attend(q, kv, kv, null, out, bad, 0)).toThrow(/not a non-negative integer/);
    const masked = params(5);
    masked[24] = 1; // mask stride along the keys: 5 bytes needed
    expect(() => attend(q, kv, kv, new Uint8Array(5).fill(1), out, masked, 0)).not.toThrow();
    expect(() => attend(q, kv, kv, new Uint8Array(3), out, masked, 0)).toThrow(/attend: mask is too short/);
  });
});
