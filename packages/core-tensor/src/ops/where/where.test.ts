import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { broadcastShapes, tensor } from '../../index';
import { sizeOf } from '../../shape';
import { LAYOUTS, makeTensor, mulberry32, randint, ravel, roundTo, unravel } from '../../test-utils';
import { maskedFill, where } from './where';

/** Value of a broadcast operand at output index idx. */
const at = (x: ArrayLike<number>, shape: number[], idx: number[], out: number[]) =>
  x[
    ravel(
      shape.map((d, i) => (d === 1 ? 0 : idx[i + out.length - shape.length])),
      shape,
    )
  ];

describe('where / maskedFill', () => {
  const rng = mulberry32(61);

  it('selects with NumPy broadcasting (size-1 dims, rank mismatch, 0-d)', async () => {
    let c = 0;
    for (const dtype of ['f32', 'bf16', 'i32'] as DType[]) {
      for (const [cs, as, bs] of [
        [
          [2, 3],
          [2, 3],
          [2, 3],
        ],
        [[2, 1], [1, 3], [3]],
        [[], [2, 3], [1]],
        [[4, 1, 3], [2, 1], []],
        [
          [1, 2, 1],
          [3, 1, 4],
          [1, 1, 1, 4],
        ],
      ] as number[][][]) {
        const cv = randint(rng, sizeOf(cs), 0, 2);
        const av = roundTo(
          randint(rng, sizeOf(as), -50, 50).map((v) => v / 4),
          dtype,
        );
        const bv = roundTo(
          randint(rng, sizeOf(bs), -50, 50).map((v) => v / 4),
          dtype,
        );
        const y = where(
          makeTensor(cv, cs, 'bool', LAYOUTS[c % 3]),
          makeTensor(av, as, dtype, LAYOUTS[(c + 1) % 3]),
          makeTensor(bv, bs, dtype, LAYOUTS[c++ % 3]),
        );
        const out = broadcastShapes('test', broadcastShapes('test', cs, as), bs);
        expect(y.shape).toEqual(out);
        const want = Array.from({ length: sizeOf(out) }, (_, i) => {
          const idx = unravel(i, out);
          return at(cv, cs, idx, out) ? at(av, as, idx, out) : at(bv, bs, idx, out);
        });
        expect(await y.array()).toEqual(want);
      }
    }
  });

  it('accepts a number for a or b, in the other operand dtype', async () => {
    const cond = tensor([1, 0, 1], [3], { dtype: 'bool' });
    expect(await where(cond, tensor([1, 2, 3]), -Infinity).array()).toEqual([1, -Infinity, 3]);
    const i = where(cond, 7, tensor([1, 2, 3], [3], { dtype: 'i32' }));
    expect(i.dtype).toBe('i32');
    expect(await i.array()).toEqual([7, 2, 7]);
  });

  it('maskedFill fills where the mask is true; the mask broadcasts to the input', async () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const causal = tensor([[0, 1, 1]], [1, 3], { dtype: 'bool' });
    const y = maskedFill(t.transpose().contiguous().transpose(), causal, -1e9);
    expect(y.shape).toEqual([2, 3]);
    expect(await y.array()).toEqual([1, -1e9, -1e9, 4, -1e9, -1e9].map(Math.fround));
    expect(() => maskedFill(tensor([1, 2]), tensor([[1], [0]], [2, 1], { dtype: 'bool' }), 0)).toThrow(
      /maskedFill: mask \[2, 1\] must broadcast to the input's shape \[2\]/,
    );
  });

  it('rejects non-bool conditions, mixed dtypes and unrepresentable values', () => {
    const a = tensor([1, 2]);
    const cond = tensor([1, 0], [2], { dtype: 'bool' });
    expect(() => where(a, a, a)).toThrow(/where: cond \[2\] has dtype f32; expected bool/);
    expect(() => where(cond, a, tensor([1, 2], [2], { dtype: 'f16' }))).toThrow(
      /where: a and b must share a dtype, got f32 and f16/,
    );
    expect(() => where(cond, 1, 2)).toThrow(/where: a and b cannot both be numbers/);
    expect(() => where(cond, tensor([1, 2, 3]), a)).toThrow(/where: cannot broadcast shapes \[2\] and \[3\]/);
    expect(() => maskedFill(tensor([1, 2], [2], { dtype: 'i32' }), cond, 0.5)).toThrow(
      /maskedFill: value 0.5 cannot be stored in dtype i32/,
    );
    expect(() => maskedFill(tensor([1, 2], [2], { dtype: 'u8' }), cond, -1)).toThrow(
      /value -1 cannot be stored in dtype u8 \(integers 0..255\)/,
    );
  });
});
