import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { tensor } from '../../index';
import { sizeOf } from '../../shape';
import {
  expectClose,
  LAYOUTS,
  makeTensor,
  mulberry32,
  randint,
  randn,
  ravel,
  roundTo,
  tolFor,
  unravel,
} from '../../test-utils';
import { cumsum } from './cumsum';

describe('cumsum', () => {
  const rng = mulberry32(81);

  it('equals the sum of the prefix along the axis', async () => {
    let c = 0;
    for (const dtype of ['f32', 'f16', 'i32', 'bool'] as DType[]) {
      for (const [shape, axis] of [
        [[9], 0],
        [[3, 5], 1],
        [[3, 5], 0],
        [[2, 3, 4], -2],
      ] as [number[], number][]) {
        const n = sizeOf(shape);
        const x =
          dtype === 'bool'
            ? randint(rng, n, 0, 2)
            : dtype === 'i32'
              ? randint(rng, n, -20, 20)
              : roundTo(randn(rng, n), dtype);
        const y = cumsum(makeTensor(x, shape, dtype, LAYOUTS[c++ % 3]), axis);
        expect(y.dtype).toBe(dtype === 'bool' || dtype === 'i32' ? 'i32' : dtype);
        const ax = (axis + shape.length) % shape.length;
        const want = Array.from({ length: n }, (_, i) => {
          const idx = unravel(i, shape);
          let s = 0;
          for (let j = 0; j <= idx[ax]; j++)
            s +=
              x[
                ravel(
                  idx.map((v, d) => (d === ax ? j : v)),
                  shape,
                )
              ];
          return s;
        });
        if (dtype === 'f16') expectClose(await y.data(), want, tolFor(dtype), 1e-3, `[${shape}]`);
        else if (dtype === 'f32') expectClose(await y.data(), want, 1e-6, 1e-6, `[${shape}]`);
        else expect(await y.array()).toEqual(want);
      }
    }
  });

  it('validates the axis', () => {
    expect(() => cumsum(tensor([1, 2]), 1)).toThrow(/cumsum: axis 1 is out of range for a tensor of rank 1/);
  });
});
