import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { tensor } from '../../index';
import { sizeOf } from '../../shape';
import { LAYOUTS, makeTensor, mulberry32, randint, ravel, unravel } from '../../test-utils';
import { concat, stack } from './concat';
import { split } from './split';

/** Expected concat by index arithmetic: output element idx comes from the input whose range holds idx[axis]. */
function concatExpected(parts: { x: Float64Array; shape: number[] }[], axis: number): number[] {
  const shape = parts[0].shape.slice();
  shape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
  const out: number[] = [];
  for (let i = 0; i < sizeOf(shape); i++) {
    const idx = unravel(i, shape);
    let k = 0;
    while (idx[axis] >= parts[k].shape[axis]) idx[axis] -= parts[k++].shape[axis];
    out.push(parts[k].x[ravel(idx, parts[k].shape)]);
  }
  return out;
}

describe('concat / stack / split', () => {
  const rng = mulberry32(51);

  it('concat matches index arithmetic for every axis, dtype and layout', async () => {
    let c = 0;
    for (const dtype of ['f32', 'f16', 'i32', 'bool'] as DType[]) {
      for (const [base, axis] of [
        [[3], 0],
        [[2, 3], 0],
        [[2, 3], 1],
        [[2, 3, 4], -2],
        [[2, 1, 3], 2],
      ] as [number[], number][]) {
        const ax = (axis + base.length) % base.length;
        const parts = [2, 0, 1].map((len) => {
          const shape = base.slice();
          shape[ax] = len;
          const x = randint(rng, sizeOf(shape), dtype === 'bool' ? 0 : -9, dtype === 'bool' ? 2 : 9);
          return { x, shape, t: makeTensor(x, shape, dtype, LAYOUTS[c++ % 3]) };
        });
        const y = concat(
          parts.map((p) => p.t),
          axis,
        );
        expect(y.dtype).toBe(dtype);
        expect(await y.array()).toEqual(concatExpected(parts, ax));
      }
    }
  });

  it('stack inserts a new axis', async () => {
    const a = tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = tensor([
      [5, 6],
      [7, 8],
    ]);
    expect(await stack([a, b], 0).array()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const s1 = stack([a, b.transpose()], 1);
    expect(s1.shape).toEqual([2, 2, 2]);
    expect(await s1.array()).toEqual([1, 2, 5, 7, 3, 4, 6, 8]);
    const s2 = stack([a, b], -1);
    expect(s2.shape).toEqual([2, 2, 2]);
    expect(await s2.array()).toEqual([1, 5, 2, 6, 3, 7, 4, 8]);
    expect(await stack([tensor(1), tensor(2)], 0).array()).toEqual([1, 2]);
  });

  it('stack and split match index arithmetic on random shapes, axes, dtypes and layouts', async () => {
    let c = 0;
    for (const dtype of ['f32', 'bf16', 'i8', 'bool'] as DType[]) {
      for (const shape of [[5], [2, 3], [3, 1, 4], [2, 2, 2, 3]]) {
        const n = sizeOf(shape);
        const parts = [0, 1, 2].map(() => {
          const x = randint(rng, n, dtype === 'bool' ? 0 : -9, dtype === 'bool' ? 2 : 9);
          return { x, t: makeTensor(x, shape, dtype, LAYOUTS[c++ % 3]) };
        });
        for (let axis = -shape.length - 1; axis <= shape.length; axis++) {
          const ax = axis < 0 ? axis + shape.length + 1 : axis;
          const out = [...shape.slice(0, ax), 3, ...shape.slice(ax)];
          const y = stack(
            parts.map((p) => p.t),
            axis,
          );
          expect(y.shape).toEqual(out);
          expect(y.dtype).toBe(dtype);
          // Output element idx comes from part idx[ax] at the index without that axis.
          const want = Array.from({ length: sizeOf(out) }, (_, i) => {
            const idx = unravel(i, out);
            const k = idx.splice(ax, 1)[0];
            return parts[k].x[ravel(idx, shape)];
          });
          expect(await y.array(), `stack ${dtype} [${shape}] axis ${axis}`).toEqual(want);
        }
        // split along every axis into random sizes (zeros allowed), each part checked on its own.
        for (let ax = 0; ax < shape.length; ax++) {
          const len = shape[ax];
          const cut = Math.floor(rng() * (len + 1));
          const sizes = [cut, 0, len - cut];
          const pieces = split(parts[0].t, sizes, ax - shape.length);
          let start = 0;
          for (const [j, piece] of pieces.entries()) {
            const ps = shape.slice();
            ps[ax] = sizes[j];
            expect(piece.shape).toEqual(ps);
            expect(piece.storage).toBe(parts[0].t.storage);
            const want = Array.from({ length: sizeOf(ps) }, (_, i) => {
              const idx = unravel(i, ps);
              idx[ax] += start;
              return parts[0].x[ravel(idx, shape)];
            });
            expect(await piece.array(), `split ${dtype} [${shape}] axis ${ax} part ${j}`).toEqual(want);
            start += sizes[j];
          }
        }
      }
    }
  });

  it('split returns views (same storage, no copy) that concat back to the input', async () => {
    const x = randint(rng, 4 * 6, -9, 9);
    const t = makeTensor(x, [4, 6], 'f32', 'permuted');
    for (const [arg, axis, sizes] of [
      [3, 1, [2, 2, 2]],
      [[1, 0, 3], 0, [1, 0, 3]],
      [2, -2, [2, 2]],
    ] as [number | number[], number, number[]][]) {
      const parts = split(t, arg, axis);
      expect(parts.map((p) => p.shape[(axis + 2) % 2])).toEqual(sizes);
      for (const p of parts) expect(p.storage).toBe(t.storage);
      expect(await concat(parts, axis).array()).toEqual(Array.from(x));
    }
  });

  it('rejects bad inputs with clear messages', () => {
    const a = tensor([[1, 2]]);
    expect(() => concat([], 0)).toThrow(/concat: needs a non-empty array of tensors/);
    expect(() => concat([a, tensor([[1, 2, 3]])], 0)).toThrow(
      /concat: shapes \[1, 2\], \[1, 3\] must match except along axis 0/,
    );
    expect(() => concat([a, tensor([1, 2])], 0)).toThrow(/concat: all inputs must have the same rank/);
    expect(() => concat([a, tensor([[1, 2]], [1, 2], { dtype: 'i32' })], 0)).toThrow(
      /concat: all inputs must share a dtype; got f32, i32/,
    );
    expect(() => concat([a], 2)).toThrow(/concat: axis 2 is out of range/);
    expect(() => stack([a, tensor([[1], [2]])], 0)).toThrow(/stack: all inputs must have the same shape/);
    expect(() => split(a, 3, 1)).toThrow(/split: cannot split axis 1 of size 2 .* into 3 equal parts/);
    expect(() => split(a, [1, 2], 1)).toThrow(
      /split: sizes \[1, 2\] must be non-negative integers summing to 2/,
    );
    const d = tensor([1, 2]);
    d.dispose();
    expect(() => concat([a.reshape([2]), d], 0)).toThrow(/concat: .*used after dispose/);
  });
});
