/**
 * cast between every pair of dtypes against the conversion rules written out here, on both CPU
 * backends and in several layouts; clone; and the errors for values an integer dtype cannot hold.
 */
import { describe, expect, it } from 'vitest';
import { DTYPES, type DType, isFloat } from '../../dtype';
import { tensor } from '../../index';
import { sizeOf } from '../../shape';
import { LAYOUTS, makeTensor, mulberry32, randint, randn, roundTo } from '../../test-utils';
import { cast, clone } from './copy';

const INT_RANGE: Record<string, [number, number]> = {
  i32: [-(2 ** 31), 2 ** 31 - 1],
  i8: [-128, 127],
  u8: [0, 255],
};

/** Source values for a cast from `from` to `to`: floats stay inside an integer target's range. */
function source(rng: () => number, from: DType, to: DType, n: number): Float64Array {
  if (from === 'bool') return randint(rng, n, 0, 2);
  if (from === 'u8') return randint(rng, n, 0, 256);
  if (from === 'i8') return randint(rng, n, -128, 128);
  if (from === 'i32') return randint(rng, n, -70_000, 70_000); // wraps in i8 / u8, exceeds f16
  const v = randn(rng, n, 40).map((x, i) => (i % 5 === 0 ? 0 : x)); // exact zeros too
  const r = INT_RANGE[to];
  return roundTo(r ? v.map((x) => Math.max(r[0], Math.min(r[1], x))) : v, from);
}

/** The documented rule, applied to one value. */
function converted(x: number, from: DType, to: DType): number {
  if (to === 'bool') return x !== 0 ? 1 : 0;
  if (isFloat(to)) return roundTo([x], to)[0];
  const t = isFloat(from) ? Math.trunc(x) : x;
  // Two's-complement wrap into the target's width.
  if (to === 'i32') return (t | 0) + 0;
  if (to === 'i8') return ((t << 24) >> 24) + 0;
  return t & 0xff;
}

describe('cast', () => {
  it('converts every dtype to every dtype by the documented rules, on both CPU backends', async () => {
    const rng = mulberry32(6060);
    let c = 0;
    for (const device of ['cpu', 'reference']) {
      for (const from of DTYPES) {
        for (const to of DTYPES) {
          const shape = [[7], [3, 4], [2, 3, 5]][c % 3];
          const x = source(rng, from, to, sizeOf(shape));
          const t = makeTensor(x, shape, from, LAYOUTS[c++ % 3], device);
          const y = cast(t, to);
          const label = `${from} -> ${to} on ${device} [${shape}]`;
          expect(y.dtype, label).toBe(to);
          expect(y.shape, label).toEqual(shape);
          expect(y.device, label).toBe(device);
          expect(y.isContiguous(), label).toBe(true);
          expect(await y.array(), label).toEqual(Array.from(x, (v) => converted(v, from, to)));
        }
      }
    }
  });

  it('float special values: NaN and ±Inf survive float casts, NaN is true as bool, -0.5 truncates to 0', async () => {
    const x = tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e30]);
    expect(await cast(x, 'f16').array()).toEqual([Number.NaN, Infinity, -Infinity, -0, Infinity]);
    expect(await cast(x, 'bf16').array()).toEqual([
      Number.NaN,
      Infinity,
      -Infinity,
      -0,
      roundTo([1e30], 'bf16')[0],
    ]);
    expect(await cast(x, 'bool').array()).toEqual([1, 1, 1, 0, 1]);
    expect(await cast(tensor([-0.5, 0.99, 255.9]), 'u8').array()).toEqual([0, 0, 255]);
  });

  it('throws for float values an integer dtype cannot hold, and for unknown dtypes', () => {
    expect(() => cast(tensor([1, Number.NaN, 2]), 'i32')).toThrow(
      /cast: value NaN at flat index 1 of input \[3\] \(f32\) has no i32 value \(i32 holds integers -2147483648..2147483647\)/,
    );
    expect(() => cast(tensor([Number.POSITIVE_INFINITY]), 'i8')).toThrow(
      /cast: value Infinity at flat index 0/,
    );
    expect(() => cast(tensor([[0, 256.5]], [1, 2], { dtype: 'f16' }), 'u8')).toThrow(
      /cast: value 256.5 at flat index 1 of input \[1, 2\] \(f16\) has no u8 value/,
    );
    expect(() => cast(tensor([-1.5]), 'u8')).toThrow(/cast: value -1.5 at flat index 0 .* has no u8 value/);
    expect(() => cast(tensor([3e9]), 'i32')).toThrow(/cast: value 3000000000 at flat index 0/);
    expect(() => cast(tensor([1, 2, 3]), 'f64' as DType)).toThrow(
      /cast: unknown dtype "f64" for input \[3\] \(f32\); expected one of f32, f16, bf16, i32, i8, u8, bool/,
    );
    const t = tensor([1]);
    t.dispose();
    expect(() => cast(t, 'f16')).toThrow(/cast: input tensor of shape \[1\] \(f32\) was used after dispose/);
  });

  it('to the same dtype returns the values contiguously (a view when already contiguous)', async () => {
    const t = tensor([1, 2, 3, 4], [2, 2]);
    expect(cast(t, 'f32').storage).toBe(t.storage);
    const tt = cast(t.transpose(), 'f32');
    expect(tt.storage).not.toBe(t.storage);
    expect(await tt.array()).toEqual([1, 3, 2, 4]);
  });
});

describe('clone', () => {
  it('always copies into a new contiguous storage, empty tensors included', async () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const c = clone(t.transpose());
    expect(c.storage).not.toBe(t.storage);
    expect(c.isContiguous()).toBe(true);
    expect(await c.array()).toEqual([1, 4, 2, 5, 3, 6]);
    expect(clone(t).storage).not.toBe(t.storage);
    const e = clone(tensor(new Float32Array(0), [2, 0]));
    expect(e.shape).toEqual([2, 0]);
    expect(await e.array()).toEqual([]);
  });
});
