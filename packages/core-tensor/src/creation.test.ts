import { describe, expect, it } from 'vitest';
import { arange, full, ones, tensor, zeros } from './index';

describe('creation', () => {
  it('tensor infers shape from nested arrays and dtype from typed arrays', async () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('f32');
    expect(await t.array()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensor(Int32Array.of(1, 2)).dtype).toBe('i32');
    expect(tensor(Uint8Array.of(1, 2)).dtype).toBe('u8');
    expect(tensor(Int8Array.of(-1)).dtype).toBe('i8');
    const s = tensor(3.5);
    expect(s.shape).toEqual([]);
    expect(await s.item()).toBe(3.5);
    const b = tensor([true, false, 2], [3], { dtype: 'bool' });
    expect(await b.array()).toEqual([1, 0, 1]);
    expect(await tensor([0.1], [1], { dtype: 'f16' }).item()).toBe(0.0999755859375); // nearest f16
    expect(await tensor([0.1], [1], { dtype: 'bf16' }).item()).toBe(0.10009765625); // nearest bf16
    expect(await tensor([2.9, -2.9], [2], { dtype: 'i32' }).array()).toEqual([2, -2]); // truncation
  });

  it('zeros / ones / full, on either CPU device', async () => {
    expect(await zeros([2, 2], { dtype: 'i32' }).array()).toEqual([0, 0, 0, 0]);
    expect(await ones([3], { dtype: 'bf16' }).array()).toEqual([1, 1, 1]);
    const f = full([2], -7, { device: 'reference' });
    expect(f.device).toBe('reference');
    expect(await f.array()).toEqual([-7, -7]);
    expect(zeros([0, 3]).size).toBe(0);
  });

  it('arange: integers give i32, fractions f32, negative steps count down', async () => {
    const a = arange(5);
    expect(a.dtype).toBe('i32');
    expect(await a.array()).toEqual([0, 1, 2, 3, 4]);
    expect(await arange(2, 8, 3).array()).toEqual([2, 5]);
    const f = arange(0, 1, 0.25);
    expect(f.dtype).toBe('f32');
    expect(await f.array()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(await arange(3, 0, -1).array()).toEqual([3, 2, 1]);
    expect(arange(3, 3).shape).toEqual([0]);
    expect(arange(4, undefined, 1, { dtype: 'f16' }).dtype).toBe('f16');
    expect(() => arange(0, 5, 0)).toThrow(/arange: start, end and step must be finite and step non-zero/);
    expect(() => arange(0, Infinity)).toThrow(/arange:/);
  });

  it('rejects ragged arrays, bad shapes, bad options and NaN in integer dtypes', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array/);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(
      /tensor: shape \[2, 2\] holds 4 elements but 3 values were given/,
    );
    expect(() => tensor([1], [1], { dtype: 'f64' as never })).toThrow(/tensor: option 'dtype' is invalid/);
    // A misspelt option is an error, not a silently ignored setting.
    expect(() => tensor([1], [1], { dtyp: 'i32' } as never)).toThrow(
      'tensor: options is invalid: Unrecognized key: "dtyp"; allowed: dtype, device',
    );
    expect(() => zeros([2], { devise: 'cpu' } as never)).toThrow(/zeros: .*"devise"; allowed: dtype, device/);
    expect(() => tensor([Number.NaN], [1], { dtype: 'i32' })).toThrow(
      /tensor: value at index 0 is NaN, which i32 cannot hold/,
    );
    expect(() => zeros([2, -1])).toThrow(/zeros: shape must be an array of non-negative integers/);
    expect(() => full([1.5], 0)).toThrow(/full: shape must be/);
    expect(() => tensor([1], [1], { device: 'tpu' })).toThrow(/unknown backend 'tpu'/);
  });
});
