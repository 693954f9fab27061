/**
 * @file Test helpers for the fast CPU kernels (not exported by the package): the same logical values
 * on the 'cpu' backend (fast kernels) and the 'reference' backend, in the layouts the models produce
 * (a heads view of a projection, a prefix slice of a KV-cache buffer) besides test-utils' layouts,
 * and comparisons of the two results.
 */
import { expect } from 'vitest';
import { fromStorageArray } from '../creation';
import type { DType } from '../dtype';
import { getKernel, type KernelFn } from '../index';
import { sizeOf } from '../shape';
import type { Tensor } from '../tensor';
import { type Layout, makeTensor, ravel, unravel } from '../test-utils';

/** test-utils' layouts, plus 'heads' and 'cache' for rank-4 [B, H, S, D] tensors. */
export type FastLayout = Layout | 'heads' | 'cache';
export const FAST_LAYOUTS: readonly FastLayout[] = ['contiguous', 'permuted', 'strided', 'heads', 'cache'];

/**
 * A tensor holding `values` (row-major for `shape`) on `device`:
 * - heads: stored as [B, S, H, D] and permuted to [B, H, S, D], as a projection split into heads;
 * - cache: the first S positions of a [B, H, S + 5, D] buffer whose other positions hold NaN, as
 *   ContiguousKVCache.keys() returns them.
 */
export function layoutTensor(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  layout: FastLayout,
  device: string,
): Tensor {
  if (layout !== 'heads' && layout !== 'cache') return makeTensor(values, shape, dtype, layout, device);
  if (shape.length !== 4) throw new Error(`layout ${layout} needs a rank-4 shape, got [${shape}]`);
  const [B, H, S, D] = shape;
  const stored = layout === 'heads' ? [B, S, H, D] : [B, H, S + 5, D];
  const buf = new Float64Array(sizeOf(stored)).fill(Number.NaN); // never read
  for (let i = 0; i < values.length; i++) {
    const [b, h, s, d] = unravel(i, shape);
    buf[ravel(layout === 'heads' ? [b, s, h, d] : [b, h, s, d], stored)] = values[i];
  }
  const base = makeTensor(buf, stored, dtype, 'contiguous', device);
  const t = layout === 'heads' ? base.permute([0, 2, 1, 3]) : base.slice(2, 0, S);
  base.dispose();
  return t;
}

/** The same values, layout and dtype on 'cpu' and on 'reference'. */
export function onBoth(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType = 'f32',
  layout: FastLayout = 'contiguous',
): { cpu: Tensor; ref: Tensor } {
  return {
    cpu: layoutTensor(values, shape, dtype, layout, 'cpu'),
    ref: layoutTensor(values, shape, dtype, layout, 'reference'),
  };
}

/** An i32 or bool tensor from raw values on both backends (contiguous). */
export function rawOnBoth(values: ArrayLike<number>, shape: readonly number[], dtype: DType) {
  const raw = dtype === 'bool' ? Uint8Array.from(values) : Int32Array.from(values);
  return {
    cpu: fromStorageArray(raw, shape, dtype, 'cpu'),
    ref: fromStorageArray(raw.slice(), shape, dtype, 'reference'),
  };
}

/** The 'cpu' kernel of `op` is `fn` (so the tests below exercise the fast kernel). */
export function expectCpuKernel(op: string, fn: KernelFn): void {
  expect(getKernel(op, 'cpu').fn, `cpu kernel of ${op}`).toBe(fn);
  expect(getKernel(op, 'reference').fn, `reference kernel of ${op}`).not.toBe(fn);
}

/**
 * How `cpu` differs from `ref` (device, shape, dtype, or the first element that is not the same bit
 * for bit: NaN matches NaN, +0 and -0 differ), or null when they are identical. Tests assert
 * `expect(await bitMismatch(cpu, ref), label).toBeNull()`, so a failure says what differed.
 */
export async function bitMismatch(cpu: Tensor, ref: Tensor): Promise<string | null> {
  if (cpu.device !== 'cpu' || ref.device !== 'reference') return `devices ${cpu.device} / ${ref.device}`;
  if (cpu.shape.join() !== ref.shape.join())
    return `shape [${cpu.shape}] on cpu, [${ref.shape}] on reference`;
  if (cpu.dtype !== ref.dtype) return `dtype ${cpu.dtype} on cpu, ${ref.dtype} on reference`;
  const [a, b] = await Promise.all([cpu.data(), ref.data()]);
  const bad = a.findIndex((x, i) => !Object.is(x, b[i]));
  return bad < 0 ? null : `element ${bad} is ${a[bad]} on cpu, ${b[bad]} on reference`;
}

/** An attention case: q [B, Hq, S, D] against T keys of Hkv heads, values Dv wide. */
export interface AttentionCase {
  B: number;
  Hq: number;
  Hkv: number;
  S: number;
  /** Key positions per row. */
  T: number;
  D: number;
  Dv: number;
  causal?: boolean;
  /** A random mask of this shape (broadcast to [B, Hq, S, T]); one key per row stays visible. */
  mask?: number[];
  scale?: number;
}

/** [Hq, Hkv] pairs with GQA ratios 1, 2 and 4. */
export const GQA_HEADS: readonly (readonly [number, number])[] = [
  [2, 2],
  [4, 2],
  [8, 2],
];

/**
 * The fast attention kernels' tolerance: `got` ('cpu') is within 2^-22 · (|want| + vmax) of `want`
 * ('reference') everywhere, vmax the largest |v|; otherwise the test fails naming the element.
 */
export async function expectAttentionClose(got: Tensor, want: Tensor, vmax: number, label: string) {
  expect(got.shape, label).toEqual(want.shape);
  const [g, w] = [await got.data(), await want.data()];
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i] - w[i]) <= 2 ** -22 * (Math.abs(w[i]) + vmax))) {
      expect.fail(`${label}: element ${i} is ${g[i]} on cpu, ${w[i]} on reference`);
    }
  }
}
