import type { QuantizedWeight } from '@hasten/core-tensor';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from './addon';
import { cpuKernelsInfo } from './info';
import { hasInt8Dot, int8DotReference, quantizeActivations } from './int8-dot-reference';
import { configureCpuKernels } from './options';
import { qgemvNative } from './qgemv';
import {
  denseOf,
  errorBound,
  firstMismatch,
  mulberry32,
  referenceProduct,
  uniform,
  WEIGHT_CASES,
} from './test-utils';

const load = loadAddon();
const isas = load.addon ? load.addon.info().isas : [];
if (!load.addon) console.warn(`kernels-cpu int8-dot tests skipped: ${load.reason}`);

const INT_CASES = WEIGHT_CASES.filter(([label]) => hasInt8Dot(label.split(' ')[0]));

/** Tight: the f32 combination of exact integer sums, (blocks + 16) 2^-23 · magnitude. */
const tight = (magnitude: Float64Array, kb: number) => magnitude.map((v) => (kb + 16) * 2 ** -23 * v);

/**
 * Loose, against the float product: rounding x to d·q moves each x by at most d/2 (d the block's
 * scale), so |y_int8 − y_float| <= Σ_b (d_b / 2) Σ_{j in b} |w_j|, plus the f32 rounding of both.
 */
function looseBound(
  dense: Float64Array,
  x: Float32Array,
  m: number,
  n: number,
  k: number,
  magnitude: Float64Array,
): Float64Array {
  const { kb, d } = quantizeActivations(x, m, k);
  const f32 = errorBound(dense, x, m, n, k);
  const out = new Float64Array(m * n);
  for (let r = 0; r < m; r++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += (d[r * kb + (q >> 5)] / 2) * Math.abs(dense[j * k + q]);
      out[r * n + j] = s + f32[r * n + j] + (kb + 16) * 2 ** -23 * magnitude[r * n + j];
    }
  return out;
}

afterEach(() => configureCpuKernels({ dot: 'float' }));

describe('int8 activation quantization (the reference)', () => {
  it('rounds per block of 32 to |q| <= 127 within d / 2, the block max to ±127, halves away from zero', () => {
    const rng = mulberry32(3);
    const k = 100; // 4 blocks, the last of 4 values (zero-padded)
    const x = uniform(rng, 2 * k, 3);
    const { kb, q, d, sums } = quantizeActivations(x, 2, k);
    expect(kb).toBe(4);
    for (let r = 0; r < 2; r++)
      for (let b = 0; b < kb; b++) {
        const i = r * kb + b;
        let amax = 0;
        let s = 0;
        for (let j = 0; j < 32; j++) {
          const at = 32 * b + j;
          const v = q[i * 32 + j];
          s += v;
          expect(Math.abs(v)).toBeLessThanOrEqual(127);
          if (at >= k) expect(v).toBe(0);
          else {
            amax = Math.max(amax, Math.abs(x[r * k + at]));
            expect(Math.abs(x[r * k + at] - d[i] * v)).toBeLessThanOrEqual(d[i] * 0.5 * (1 + 1e-6));
          }
        }
        expect(d[i]).toBe(Math.fround(amax / 127));
        expect(sums[i]).toBe(s);
        expect(q.subarray(i * 32, i * 32 + 32).some((v) => Math.abs(v) === 127)).toBe(true);
      }
    // d = 1 exactly: x * (1 / d) is x, and halves round away from zero (not to even).
    const halves = new Float32Array(32);
    halves.set([127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -3.49]);
    const h = quantizeActivations(halves, 1, 32);
    expect(h.d[0]).toBe(1);
    expect(Array.from(h.q.subarray(0, 9))).toEqual([127, 1, 2, 3, -1, -2, -3, 127, -3]);
    // NaN: d is NaN; a tiny block is zeros with d = 0.
    const odd = new Float32Array(64);
    odd[3] = Number.NaN;
    odd[40] = 1e-35;
    const o = quantizeActivations(odd, 1, 64);
    expect(Number.isNaN(o.d[0])).toBe(true);
    expect(o.d[1]).toBe(0);
    expect(o.q.every((v) => v === 0)).toBe(true);
  });
});

describe.skipIf(!load.addon)("qgemvNative with dot 'int8'", () => {
  it(`the ISAs (${isas.join(', ')}) run integer-dot kernels: ${JSON.stringify(load.addon?.info().int8Dot)}`, () => {
    const dot = load.addon?.info().int8Dot ?? {};
    expect(dot.scalar).toBe('scalar');
    for (const isa of isas) expect(['scalar', 'avx2', 'avx512vnni']).toContain(dot[isa]);
    const info = cpuKernelsInfo();
    expect(info.dot).toBe('float');
    expect(info.int8DotKernel).toBe(info.isa ? dot[info.isa] : undefined);
    configureCpuKernels({ dot: 'int8' });
    expect(cpuKernelsInfo().dot).toBe('int8');
  });

  INT_CASES.forEach(([label, multiple, make], ci) => {
    // 11 blocks; and K % 32 != 0 where allowed; 3 super-blocks for the K-quants
    const ks = multiple === 256 ? [768] : multiple === 32 ? [352] : [352, 299];
    it(`${label}: every ISA, 1 and 2 threads, m = 1..8, K ${ks.join(' and ')}, N 37: against the int8-dot reference (tight) and the float product (loose)`, async () => {
      for (const k of ks) {
        const n = 37;
        const rng = mulberry32(5000 + 17 * ci + k);
        const w = make(rng, n, k) as QuantizedWeight;
        const dense = denseOf(w);
        for (let m = 1; m <= 8; m++) {
          const x = uniform(rng, m * k, m === 3 ? 40 : 1);
          const { y: ref, magnitude } = int8DotReference(w, x, m);
          const bound = tight(magnitude, Math.ceil(k / 32));
          const yFloat = await referenceProduct(w, x, m);
          const loose = looseBound(dense, x, m, n, k, magnitude);
          const floatPath = qgemvNative(w, x, m, { isa: 'scalar', threads: 1 });
          for (const isa of isas)
            for (const threads of [1, 2] as const) {
              const y = qgemvNative(w, x, m, { isa, threads, dot: 'int8' });
              const where = `${isa}, ${threads} thread(s), K = ${k}, m = ${m}`;
              const bad = firstMismatch(y, ref, bound);
              expect(bad, bad < 0 ? '' : `${where}: y[${bad}] = ${y[bad]}, int8 reference ${ref[bad]}`).toBe(
                -1,
              );
              const far = firstMismatch(y, yFloat, loose);
              expect(far, far < 0 ? '' : `${where}: y[${far}] = ${y[far]}, float ${yFloat[far]}`).toBe(-1);
              // It is the integer path: the rounding of x shows against the float kernels.
              expect(
                y.some((v, i) => v !== floatPath[i]),
                where,
              ).toBe(true);
            }
        }
      }
    });
  });

  it('group formats whose K ends inside a group (K = 160, 224; groups of 64 and 128), asymmetric codes up to 255', () => {
    for (const k of [160, 224]) {
      const n = 33;
      const kb = k / 32;
      for (const [label, , make] of INT_CASES.filter(([l]) => l.includes('group'))) {
        const rng = mulberry32(label.length * 13 + k);
        const w = make(rng, n, k) as QuantizedWeight;
        for (const m of [1, 5]) {
          const x = uniform(rng, m * k);
          const { y: ref, magnitude } = int8DotReference(w, x, m);
          const bound = tight(magnitude, kb);
          for (const isa of isas) {
            const y = qgemvNative(w, x, m, { isa, threads: 1, dot: 'int8' });
            expect(firstMismatch(y, ref, bound), `${label}, K = ${k}, ${isa}, m = ${m}`).toBe(-1);
          }
        }
      }
    }
  });

  it('rounds halves away from zero as the reference does (x with exact ties)', () => {
    const rng = mulberry32(14);
    const [n, k] = [19, 64];
    const make = INT_CASES.find(([l]) => l === 'q8_0')?.[2];
    if (!make) throw new Error('no q8_0 case');
    const w = make(rng, n, k) as QuantizedWeight;
    // Per block one value of 127 (d = 1 exactly), the others j + 0.5 with both signs: all ties.
    const x = new Float32Array(k).map((_, j) => (j % 32 === 0 ? 127 : (j % 2 ? -1 : 1) * ((j % 60) + 0.5)));
    const { y: ref, magnitude } = int8DotReference(w, x, 1);
    for (const isa of isas) {
      const y = qgemvNative(w, x, 1, { isa, threads: 1, dot: 'int8' });
      expect(firstMismatch(y, ref, tight(magnitude, 2)), isa).toBe(-1);
    }
  });

  it('m > 8 runs in chunks; a NaN in x gives NaN in its row only', () => {
    const rng = mulberry32(11);
    const [n, k] = [41, 96];
    const make = INT_CASES.find(([l]) => l === 'q4_0')?.[2];
    if (!make) throw new Error('no q4_0 case');
    const w = make(rng, n, k) as QuantizedWeight;
    const x = uniform(rng, 11 * k);
    const { y: ref, magnitude } = int8DotReference(w, x, 11);
    for (const isa of isas) {
      const y = qgemvNative(w, x, 11, { isa, threads: 2, dot: 'int8' });
      expect(firstMismatch(y, ref, tight(magnitude, 3)), isa).toBe(-1);
    }
    x[k + 5] = Number.NaN;
    for (const isa of isas) {
      const y = qgemvNative(w, x.subarray(0, 2 * k), 2, { isa, threads: 1, dot: 'int8' });
      expect(y.subarray(0, n).every(Number.isFinite)).toBe(true);
      expect(y.subarray(n).every(Number.isNaN)).toBe(true);
    }
  });

  it("dot 'float' (the default) is unchanged; formats without an integer path ignore dot 'int8'", () => {
    const rng = mulberry32(12);
    const [n, k] = [37, 256];
    for (const [label, , make] of WEIGHT_CASES) {
      const w = make(rng, n, k);
      const x = uniform(rng, 3 * k);
      for (const isa of isas) {
        const base = qgemvNative(w, x, 3, { isa, threads: 1 });
        expect(qgemvNative(w, x, 3, { isa, threads: 1, dot: 'float' }), `${label} ${isa}`).toEqual(base);
        const int8 = qgemvNative(w, x, 3, { isa, threads: 1, dot: 'int8' });
        if (!hasInt8Dot(w.format)) expect(int8, `${label} ${isa}`).toEqual(base);
        // The setting applies to calls without a per-call dot.
        configureCpuKernels({ dot: 'int8' });
        expect(qgemvNative(w, x, 3, { isa, threads: 1 }), `${label} ${isa}`).toEqual(int8);
        configureCpuKernels({ dot: 'float' });
        expect(qgemvNative(w, x, 3, { isa, threads: 1 }), `${label} ${isa}`).toEqual(base);
      }
    }
  });

  it('rejects a bad dot value per call, naming the field', () => {
    const rng = mulberry32(13);
    const w = { format: 'f32' as const, shape: [4, 8] as const, data: uniform(rng, 32) };
    expect(() => qgemvNative(w, new Float32Array(8), 1, { dot: 'int4' as 'int8' })).toThrow(/dot/);
    // int4 zero points must be 4-bit codes for the integer path (codes minus zero point in int8).
    const make = INT_CASES.find(([l]) => l === 'int4-group g32 asym')?.[2];
    if (!make) throw new Error('no int4 asym case');
    const q = make(rng, 4, 64) as QuantizedWeight;
    const zeros = q.zeros?.slice() ?? new Uint8Array(0);
    zeros[3] = 200;
    const odd = { ...q, zeros };
    expect(() => qgemvNative(odd, new Float32Array(64), 1, { dot: 'int8' })).toThrow(
      /zero point 200 \(group 3\)/,
    );
    expect(qgemvNative(odd, new Float32Array(64), 1, { dot: 'float' }).length).toBe(4);
  });
});
