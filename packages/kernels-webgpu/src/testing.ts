/**
 * @file Test helpers (not exported by the package): seeded random inputs, the same values on the
 * 'reference' and 'webgpu' backends, and element-wise comparison with a per-element tolerance.
 */
import { type DType, type Tensor, tensor } from '@hasten/core-tensor';
import { expect } from 'vitest';

/** Uniform values in [-scale, scale) from a seeded mulberry32 stream (test data only). */
export function randomValues(seed: number, n: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** The same values as a tensor on 'reference' and a copy on 'webgpu'. */
export async function onBoth(
  values: ArrayLike<number>,
  shape: number[],
  dtype: DType = 'f32',
): Promise<{ ref: Tensor; gpu: Tensor }> {
  const ref = tensor(values, shape, { dtype, device: 'reference' });
  return { ref, gpu: await ref.to('webgpu') };
}

/** Every |got[i] - want[i]| <= tol(i); reports the worst element on failure. */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: (i: number) => number,
  what: string,
): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const excess = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err - tol(i);
    if (excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${got[worst]}, reference ${want[worst]} (tolerance ${tol(worst)})`,
    );
  }
}

/** Largest |got - want| (for reporting the observed error next to the tolerance). */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}
