import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { tensor } from '../../index';
import { sizeOf } from '../../shape';
import { LAYOUTS, makeTensor, mulberry32, randint, randn, ravel, roundTo, unravel } from '../../test-utils';
import { topk } from './topk';

describe('topk', () => {
  const rng = mulberry32(71);

  it('gives the k largest, descending, ties to the lower index, on every axis', async () => {
    let c = 0;
    for (const dtype of ['f32', 'bf16', 'i32'] as DType[]) {
      for (const [shape, k, axis] of [
        [[10], 3, -1],
        [[4, 7], 7, 1],
        [[5, 3], 2, 0],
        [[2, 6, 3], 4, 1],
        [[3, 4], 0, -1],
      ] as [number[], number, number][]) {
        // Few distinct values, so ties are common.
        const x =
          dtype === 'i32'
            ? randint(rng, sizeOf(shape), 0, 4)
            : roundTo(
                randn(rng, sizeOf(shape)).map((v) => Math.round(v * 2) / 2),
                dtype,
              );
        const { values, indices } = topk(makeTensor(x, shape, dtype, LAYOUTS[c++ % 3]), k, axis);
        const ax = (axis + shape.length) % shape.length;
        const out = shape.slice();
        out[ax] = k;
        expect(values.shape).toEqual(out);
        expect(indices.dtype).toBe('i32');
        const wantV: number[] = [];
        const wantI: number[] = [];
        for (let i = 0; i < sizeOf(out); i++) {
          const idx = unravel(i, out);
          const lane = Array.from({ length: shape[ax] }, (_, j) => {
            const src = idx.slice();
            src[ax] = j;
            return { v: x[ravel(src, shape)], j };
          });
          // Selection by repeated "largest remaining, first seen" (not a sort), to stay independent.
          const taken = new Set<number>();
          let best = -1;
          for (let r = 0; r <= idx[ax]; r++) {
            best = -1;
            for (const e of lane) if (!taken.has(e.j) && (best < 0 || e.v > lane[best].v)) best = e.j;
            taken.add(best);
          }
          wantV.push(lane[best].v);
          wantI.push(best);
        }
        expect(await values.array(), `${dtype} [${shape}] k ${k}`).toEqual(wantV);
        expect(await indices.array(), `${dtype} [${shape}] k ${k}`).toEqual(wantI);
      }
    }
  });

  it('ranks NaN above every number', async () => {
    const { values, indices } = topk(tensor([1, Number.NaN, 3, Infinity]), 3);
    expect(await values.array()).toEqual([Number.NaN, Infinity, 3]);
    expect(await indices.array()).toEqual([1, 3, 2]);
  });

  it('validates k and the axis', () => {
    const t = tensor([[1, 2, 3]]);
    expect(() => topk(t, 4)).toThrow(
      /topk: k must be an integer in 0..3 \(axis -1 of input \[1, 3\]\), got 4/,
    );
    expect(() => topk(t, 1.5)).toThrow(/topk: k must be an integer/);
    expect(() => topk(t, 1, 2)).toThrow(/topk: axis 2 is out of range/);
    expect(() => topk(tensor([1], [1], { dtype: 'bool' }), 1)).toThrow(/topk: input \[1\] has dtype bool/);
  });
});
