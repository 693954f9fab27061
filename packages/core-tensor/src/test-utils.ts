/**
 * @file Test helpers (not exported by the package): a tiny seeded PRNG (mulberry32, with Box-Muller
 * normals) for fresh but reproducible inputs, tensors with the same logical values in several memory
 * layouts (contiguous, permuted, strided with an offset), and an element-wise closeness check that
 * names the first mismatch. The project's real RNG (Philox) lives in rng/; tests stay independent.
 */
import { expect } from 'vitest';
import { encodeValues, fromStorageArray } from './creation';
import type { DType } from './dtype';
import { bf16BitsToF32, f16BitsToF32 } from './f16';
import { contiguousStrides, sizeOf } from './shape';
import type { Tensor } from './tensor';

export type Rng = () => number;

/** mulberry32: a 32-bit seeded generator of uniforms in [0, 1). */
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

/** n standard normals (Box-Muller). */
export function randn(rng: Rng, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u)) * scale;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** n uniform integers in [lo, hi). */
export function randint(rng: Rng, n: number, lo: number, hi: number): Float64Array {
  return Float64Array.from({ length: n }, () => lo + Math.floor(rng() * (hi - lo)));
}

/** The values `dtype` actually stores for `values` (f32/f16/bf16 rounding, integer truncation). */
export function roundTo(values: ArrayLike<number>, dtype: DType): Float64Array {
  const raw = encodeValues(values, dtype);
  const out = new Float64Array(values.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = dtype === 'f16' ? f16BitsToF32(raw[i]) : dtype === 'bf16' ? bf16BitsToF32(raw[i]) : raw[i];
  }
  return out;
}

/** Row-major multi-index of flat index i. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Row-major flat index of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  const strides = contiguousStrides(shape);
  return idx.reduce((s, v, d) => s + v * strides[d], 0);
}

/**
 * - contiguous: plain row-major.
 * - permuted: stored with all axes reversed, then permuted back (a transpose-like view).
 * - strided: every other element of a larger buffer along the last axis, at an offset of one.
 */
export type Layout = 'contiguous' | 'permuted' | 'strided';
export const LAYOUTS: readonly Layout[] = ['contiguous', 'permuted', 'strided'];

/** A tensor whose logical row-major values are `values`, held in the given memory layout. */
export function makeTensor(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType = 'f32',
  layout: Layout = 'contiguous',
  device?: string,
): Tensor {
  const n = sizeOf(shape);
  if (values.length !== n) throw new Error(`makeTensor: ${values.length} values for shape [${shape}]`);
  if (layout === 'contiguous' || shape.length === 0)
    return fromStorageArray(encodeValues(values, dtype), shape, dtype, device);
  if (layout === 'permuted') {
    const rev = shape.slice().reverse();
    const stored = new Float64Array(n);
    for (let i = 0; i < n; i++) stored[ravel(unravel(i, shape).reverse(), rev)] = values[i];
    const base = fromStorageArray(encodeValues(stored, dtype), rev, dtype, device);
    const t = base.permute([...shape.keys()].reverse());
    base.dispose();
    return t;
  }
  const last = shape[shape.length - 1];
  const wide = [...shape.slice(0, -1), 2 * last + 1];
  const stored = new Float64Array(sizeOf(wide)).fill(12345); // sentinel: must never be read
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    idx[idx.length - 1] = 2 * idx[idx.length - 1] + 1;
    stored[ravel(idx, wide)] = values[i];
  }
  const base = fromStorageArray(encodeValues(stored, dtype), wide, dtype, device);
  const t = base.slice(-1, 1, 2 * last + 1, 2);
  base.dispose();
  return t;
}

/** Random normal values (rounded to dtype) and a tensor holding them in `layout`. */
export function randTensor(
  rng: Rng,
  shape: readonly number[],
  dtype: DType = 'f32',
  layout: Layout = 'contiguous',
  scale = 1,
) {
  const x = roundTo(randn(rng, sizeOf(shape), scale), dtype);
  return { t: makeTensor(x, shape, dtype, layout), x };
}

/** Relative tolerance that covers one rounding to `dtype` plus float64 noise. */
export function tolFor(dtype: DType): number {
  return dtype === 'f16' ? 2e-3 : dtype === 'bf16' ? 1.6e-2 : 2e-6;
}

/**
 * Every element satisfies |a - e| <= atol + rtol·|e| (NaN matches NaN, infinities must be equal).
 * Fails with the first bad index, both values and `label`.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 2e-6,
  atol = rtol,
  label = '',
): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : !Number.isFinite(e)
        ? a === e
        : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) expect.fail(`${label}: element ${i} is ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  }
}
