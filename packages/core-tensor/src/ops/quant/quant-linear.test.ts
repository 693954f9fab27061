/**
 * The 'cpu' quantLinear (WebAssembly, wasm/qgemv.ts) against the reference kernel (float64 decode
 * and product) on fresh random inputs of awkward shapes: K not a multiple of the group (or of 32),
 * N odd, m = 1..8 and beyond 8 (chunks of 8 rows), with and without bias; for each SIMD variant.
 * Tolerance: the kernel accumulates in f32, so each output is within (K + 32) * 2^-23 * sum_k |x_k w_k|
 * of the float64 reference (w the decoded weight); for the integer formats the kernel also rounds x
 * to 16 bits per run of 32 (|error| <= max |x_run| / 65534 per element), which adds
 * sum_runs max |x_run| / 65534 * sum_(k in run) |w_k|. The check names the first element outside it.
 */
import { setFlagsFromString } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { getKernel, tensor } from '../../index';
import { mulberry32, randn } from '../../test-utils';
import { dequantize } from './dequantize-row';
import { toHalfWeight } from './float-weights';
import { quantizeQ4_0 } from './gguf-q4-0';
import { quantizeQ8_0 } from './gguf-q8-0';
import { quantizeInt4Group } from './int4-group';
import { quantizeInt8Group } from './int8-group';
import { quantizeInt8PerChannel } from './int8-per-channel';
import { createQgemvRuntime, getQgemvRuntime, qgemvRelaxedSupported, setQgemvRuntime } from './qgemv-runtime';
import { quantLinear } from './quant-linear';
import type { QuantizedWeight } from './quantized-weight';
import { quantLinearReference } from './reference';
import { quantLinearWasm } from './wasm-kernel';

type Maker = (w: Float64Array, shape: [number, number]) => QuantizedWeight;
/** Every format the WebAssembly kernel runs, and whether it needs K % 32 == 0. */
const FORMATS: [string, Maker, boolean][] = [
  ['f16', (w, s) => toHalfWeight(w, s, 'f16'), false],
  ['bf16', (w, s) => toHalfWeight(w, s, 'bf16'), false],
  ['int8 per channel, f16 scales', (w, s) => quantizeInt8PerChannel(w, s), false],
  ['int8 per channel, f32 scales', (w, s) => quantizeInt8PerChannel(w, s, { scaleDtype: 'f32' }), false],
  ['int8 group 32', (w, s) => quantizeInt8Group(w, s, { groupSize: 32 }), false],
  ['int8 group 64 asymmetric', (w, s) => quantizeInt8Group(w, s, { groupSize: 64, symmetric: false }), false],
  ['int4 group 32', (w, s) => quantizeInt4Group(w, s, { groupSize: 32 }), false],
  ['int4 group 128', (w, s) => quantizeInt4Group(w, s, { groupSize: 128 }), false],
  ['int4 group 64 asymmetric', (w, s) => quantizeInt4Group(w, s, { groupSize: 64, symmetric: false }), false],
  ['Q8_0', (w, s) => quantizeQ8_0(w, s), true],
  ['Q4_0', (w, s) => quantizeQ4_0(w, s), true],
];

/** First output of `got` outside the bound around `want` (see the file comment), or null. */
function outsideBound(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  x: Float64Array,
  w: Float64Array,
  k: number,
  roundsX: boolean,
) {
  const n = w.length / k;
  const m = x.length / k;
  for (let r = 0; r < m; r++)
    for (let j = 0; j < n; j++) {
      let mag = 0;
      let xRounding = 0;
      for (let q0 = 0; q0 < k; q0 += 32) {
        let amax = 0;
        let wsum = 0;
        for (let q = q0; q < Math.min(k, q0 + 32); q++) {
          mag += Math.abs(x[r * k + q] * w[j * k + q]);
          amax = Math.max(amax, Math.abs(x[r * k + q]));
          wsum += Math.abs(w[j * k + q]);
        }
        if (roundsX) xRounding += (amax / 65534) * (1 + 2 ** -20) * wsum;
      }
      const i = r * n + j;
      if (!(Math.abs(got[i] - want[i]) <= (k + 32) * 2 ** -23 * mag + xRounding + 1e-30))
        return `row ${r}, column ${j}: ${got[i]} on cpu, ${want[i]} on reference`;
    }
  return null;
}

async function checkFormats(seed: number) {
  const rng = mulberry32(seed);
  let cases = 0;
  for (const [name, make, blocks] of FORMATS) {
    for (const [n, k] of blocks
      ? [
          [33, 64],
          [7, 320],
        ]
      : [
          [31, 77],
          [9, 300],
          [1, 5],
        ]) {
      const w = randn(rng, n * k, 0.1);
      const qw = make(w, [n, k]);
      const wd = dequantize(qw);
      for (const m of [1, 2, 3, 4, 5, 6, 7, 8, 11]) {
        const xv = randn(rng, m * k);
        const shape = m === 4 ? [2, 2, k] : [m, k];
        const bias = randn(rng, n);
        const withBias = m % 3 === 0;
        const y = quantLinear(tensor(xv, shape), qw, withBias ? tensor(bias, [n]) : undefined);
        const yr = quantLinear(
          tensor(xv, shape, { device: 'reference' }),
          qw,
          withBias ? tensor(bias, [n], { device: 'reference' }) : undefined,
        );
        expect(y.shape, name).toEqual([...shape.slice(0, -1), n]);
        const [g, r] = [await y.data(), await yr.data()];
        if (withBias)
          for (let i = 0; i < g.length; i++) [g[i], r[i]] = [g[i] - bias[i % n], r[i] - bias[i % n]];
        const roundsX = qw.format !== 'f16' && qw.format !== 'bf16';
        expect(outsideBound(g, r, xv, wd, k, roundsX), `${name}, [${n}, ${k}], m = ${m}`).toBeNull();
        y.dispose();
        yr.dispose();
        cases++;
      }
    }
  }
  return cases;
}

describe('quantLinear on the cpu backend (WebAssembly) against the reference', () => {
  afterAll(() => setQgemvRuntime(null));

  it('is registered as the cpu kernel, the reference one on the reference backend', () => {
    expect(getKernel('quantLinear', 'cpu').fn).toBe(quantLinearWasm);
    expect(getKernel('quantLinear', 'reference').fn).toBe(quantLinearReference);
  });

  it('plain SIMD: every format, awkward shapes, m = 1..8 and 11', async () => {
    setQgemvRuntime(createQgemvRuntime({ relaxed: false }));
    expect(getQgemvRuntime().variant).toBe('simd');
    expect(await checkFormats(901)).toBe(FORMATS.length * 3 * 9 - 2 * 9);
  });

  it('relaxed SIMD (fused multiply-add): every format, awkward shapes, m = 1..8 and 11', async (ctx) => {
    // Node 22+ and Chrome run it by default; Node 20 needs this V8 flag, set before compiling.
    if (!qgemvRelaxedSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (!qgemvRelaxedSupported()) ctx.skip();
    setQgemvRuntime(createQgemvRuntime({ relaxed: true }));
    expect(getQgemvRuntime().variant).toBe('relaxed');
    expect(await checkFormats(902)).toBe(FORMATS.length * 3 * 9 - 2 * 9);
  });

  it('uploads a weight once and reuses it', () => {
    const rt = createQgemvRuntime({ relaxed: false });
    setQgemvRuntime(rt);
    const qw = quantizeQ8_0(randn(mulberry32(5), 3 * 64), [3, 64]);
    quantLinear(tensor(new Float64Array(64), [1, 64]), qw).dispose();
    const used = rt.heap.usedBytes;
    quantLinear(tensor(new Float64Array(128), [2, 64]), qw).dispose();
    expect(rt.heap.usedBytes).toBe(used);
    expect(rt.weights.has(qw)).toBe(true);
  });

  it('falls back to the reference kernel for f16 inputs and for Q4_K / Q6_K', async () => {
    const qw = toHalfWeight([1, 2, 3, 4, 5, 6], [2, 3], 'f16');
    const y = quantLinear(tensor([1, 1, 2], [1, 3], { dtype: 'f16' }), qw);
    expect(y.dtype).toBe('f16');
    expect(Array.from(await y.data())).toEqual([9, 21]);
    const q4k = quantLinear(tensor(new Float64Array(256).fill(1), [256]), {
      format: 'q4_k',
      shape: [1, 256],
      data: new Uint8Array(144),
    });
    expect(Array.from(await q4k.data())).toEqual([0]);
  });
});

describe('quantLinear on non-finite and empty inputs', () => {
  it('gives NaN, not a quiet number, where x holds NaN or Inf, on every format path', async () => {
    for (const qw of [
      quantizeQ8_0(randn(mulberry32(9), 2 * 64), [2, 64]),
      toHalfWeight([1, 2, 3, 4], [2, 2], 'f16'),
    ]) {
      const k = qw.shape[1];
      const xs = new Float64Array(2 * k).fill(0.5);
      xs[1] = Number.NaN;
      xs[k + 1] = Number.POSITIVE_INFINITY;
      const y = await quantLinear(tensor(xs, [2, k]), qw).data();
      expect(Number.isNaN(y[0]) && Number.isNaN(y[1]), qw.format).toBe(true);
      expect(Number.isFinite(y[2]), qw.format).toBe(false); // NaN or Inf, never a finite number
    }
  });

  it('returns an empty result for zero rows', () => {
    const y = quantLinear(tensor([], [0, 64]), quantizeQ4_0(new Float64Array(64), [1, 64]));
    expect(y.shape).toEqual([0, 1]);
  });
});

describe('quantLinear input checks', () => {
  const qw = quantizeInt8PerChannel([1, 2, 3, 4, 5, 6], [2, 3]);
  it('names the feature count, the bias shape and the dtype', () => {
    expect(() => quantLinear(tensor([1, 2], [1, 2]), qw)).toThrow(
      /input \[1, 2\] must end in K = 3 features/,
    );
    expect(() => quantLinear(tensor([1, 2, 3], [1, 3]), qw, tensor([1, 2, 3]))).toThrow(
      /bias must have shape \[2\], got \[3\]/,
    );
    expect(() => quantLinear(tensor([1, 2, 3], [1, 3], { dtype: 'i32' }), qw)).toThrow(/float dtype/);
  });
  it('validates the weight before running', () => {
    expect(() => quantLinear(tensor([1, 2, 3], [3]), { ...qw, data: new Uint8Array(5) })).toThrow(
      /'data' has 5 bytes, expected 6/,
    );
  });
});
