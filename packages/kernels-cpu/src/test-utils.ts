/**
 * @file Test helpers (not exported by the package): a seeded PRNG (mulberry32), random weights of
 * every format in core-tensor's layouts (GGUF Q4_K / Q6_K as random bytes with sane f16 scales:
 * core-tensor has decoders for them, not quantizers), the float64 reference product through
 * core-tensor's 'reference' backend, and the error bound of an f32-accumulated product.
 */
import {
  dequantize,
  f32ToF16Bits,
  linear,
  type QuantizedWeight,
  quantizeInt4Group,
  quantizeInt8Group,
  quantizeInt8PerChannel,
  quantizeQ4_0,
  quantizeQ8_0,
  quantLinear,
  tensor,
  toHalfWeight,
} from '@hasten/core-tensor';
import type { F32Weight } from './qgemv';

export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniforms in [-scale, scale). */
export function uniform(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng() - 1) * scale;
  return out;
}

function randomBlocks(rng: Rng, n: number, k: number, bytes: number, halves: [number, number][]): Uint8Array {
  const blocks = (n * k) / 256;
  const data = new Uint8Array(blocks * bytes);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng() * 256);
  for (let b = 0; b < blocks; b++)
    for (const [at, scale] of halves) {
      const h = f32ToF16Bits(scale * (0.5 + rng()));
      data[b * bytes + at] = h & 0xff;
      data[b * bytes + at + 1] = h >>> 8;
    }
  return data;
}

/** The weight cases the tests run: [label, K multiple the format needs, maker]. */
export type Maker = (rng: Rng, n: number, k: number) => QuantizedWeight | F32Weight;
export const WEIGHT_CASES: [string, number, Maker][] = [
  ['f32', 1, (r, n, k) => ({ format: 'f32', shape: [n, k], data: uniform(r, n * k) })],
  ['f16', 1, (r, n, k) => toHalfWeight(uniform(r, n * k), [n, k], 'f16')],
  ['bf16', 1, (r, n, k) => toHalfWeight(uniform(r, n * k), [n, k], 'bf16')],
  ['int8 f16 scales', 1, (r, n, k) => quantizeInt8PerChannel(uniform(r, n * k), [n, k])],
  [
    'int8 f32 scales',
    1,
    (r, n, k) => quantizeInt8PerChannel(uniform(r, n * k), [n, k], { scaleDtype: 'f32' }),
  ],
  ...([32, 64, 128] as const).flatMap((g): [string, number, Maker][] => [
    [`int8-group g${g} sym`, 1, (r, n, k) => quantizeInt8Group(uniform(r, n * k), [n, k], { groupSize: g })],
    [
      `int8-group g${g} asym`,
      1,
      (r, n, k) => quantizeInt8Group(uniform(r, n * k), [n, k], { groupSize: g, symmetric: false }),
    ],
    [`int4-group g${g} sym`, 1, (r, n, k) => quantizeInt4Group(uniform(r, n * k), [n, k], { groupSize: g })],
    [
      `int4-group g${g} asym`,
      1,
      (r, n, k) => quantizeInt4Group(uniform(r, n * k), [n, k], { groupSize: g, symmetric: false }),
    ],
  ]),
  ['q8_0', 32, (r, n, k) => quantizeQ8_0(uniform(r, n * k), [n, k])],
  ['q4_0', 32, (r, n, k) => quantizeQ4_0(uniform(r, n * k), [n, k])],
  [
    'q4_k',
    256,
    (r, n, k) => ({
      format: 'q4_k',
      shape: [n, k],
      data: randomBlocks(r, n, k, 144, [
        [0, 0.002],
        [2, 0.01],
      ]),
    }),
  ],
  [
    'q6_k',
    256,
    (r, n, k) => ({ format: 'q6_k', shape: [n, k], data: randomBlocks(r, n, k, 210, [[208, 0.001]]) }),
  ],
];

/** Awkward shapes: K not a multiple of 8 / 32 / 256 where the format allows it. */
export function shapeFor(multiple: number): [number, number] {
  if (multiple === 256) return [19, 768];
  if (multiple === 32) return [37, 352];
  return [37, 299];
}

/** The weight as float64 [N, K]. */
export function denseOf(w: QuantizedWeight | F32Weight): Float64Array {
  return w.format === 'f32' ? Float64Array.from(w.data) : dequantize(w);
}

/** core-tensor's reference product on the 'reference' backend (float64 accumulation). */
export async function referenceProduct(
  w: QuantizedWeight | F32Weight,
  x: Float32Array,
  m: number,
): Promise<Float64Array> {
  const [n, k] = w.shape;
  const xt = tensor(x, [m, k], { device: 'reference' });
  const y =
    w.format === 'f32' ? linear(xt, tensor(w.data, [n, k], { device: 'reference' })) : quantLinear(xt, w);
  const out = Float64Array.from(await y.data());
  xt.dispose();
  y.dispose();
  return out;
}

/**
 * Per output, the bound of an f32 product against the float64 one: (K + 16) 2^-23 Σ_k |x_k| (|w_k| +
 * max|w_n|): f32 rounding of each product and partial sum, plus the decode's rounding of q·s + b
 * (b the zero point or min term, at most about the row's largest weight).
 */
export function errorBound(
  dense: Float64Array,
  x: Float32Array,
  m: number,
  n: number,
  k: number,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    let rowMax = 0;
    for (let q = 0; q < k; q++) rowMax = Math.max(rowMax, Math.abs(dense[j * k + q]));
    for (let r = 0; r < m; r++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += Math.abs(x[r * k + q]) * (Math.abs(dense[j * k + q]) + rowMax);
      out[r * n + j] = (k + 16) * 2 ** -23 * s;
    }
  }
  return out;
}

/** Index of the first output outside its bound, or -1. */
export function firstMismatch(
  y: ArrayLike<number>,
  ref: ArrayLike<number>,
  bound: ArrayLike<number>,
): number {
  for (let i = 0; i < ref.length; i++) if (!(Math.abs(y[i] - ref[i]) <= bound[i])) return i;
  return -1;
}
