/**
 * groupnorm's reference kernel against the definition written here per (item, group, channel, position)
 * index (torch.nn.GroupNorm: biased variance over the group's channels and positions), on seeded random
 * shapes of rank 2-5, with and without weight and bias, f32/f16 and non-contiguous layouts; and the checks.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { groupnorm, tensor } from '../../index';
import { sizeOf } from '../../shape';
import { expectClose, LAYOUTS, makeTensor, mulberry32, randn, roundTo, tolFor } from '../../test-utils';

function expected(
  x: Float64Array,
  shape: number[],
  g: number,
  w: Float64Array | null,
  b: Float64Array | null,
  eps: number,
) {
  const [n, c] = shape;
  const s = sizeOf(shape.slice(2));
  const per = c / g;
  const out = new Array<number>(x.length);
  for (let i = 0; i < n; i++) {
    for (let gr = 0; gr < g; gr++) {
      const idx: number[] = [];
      for (let ch = gr * per; ch < (gr + 1) * per; ch++)
        for (let p = 0; p < s; p++) idx.push((i * c + ch) * s + p);
      const mu = idx.reduce((a, k) => a + x[k], 0) / idx.length;
      const vr = idx.reduce((a, k) => a + (x[k] - mu) ** 2, 0) / idx.length;
      for (const k of idx) {
        const ch = Math.floor(k / s) % c;
        out[k] = ((x[k] - mu) / Math.sqrt(vr + eps)) * (w ? w[ch] : 1) + (b ? b[ch] : 0);
      }
    }
  }
  return out;
}

describe('groupnorm reference', () => {
  const rng = mulberry32(777);

  it('matches the per-index definition: shapes, groups, weight/bias, dtypes, layouts', async () => {
    const cases: [number[], number][] = [
      [[2, 6], 3],
      [[1, 8, 5], 4],
      [[3, 4, 3, 5], 2],
      [[2, 6, 2, 3, 2], 6],
      [[2, 8, 4, 4], 1],
    ];
    let k = 0;
    for (const dtype of ['f32', 'f16'] as DType[]) {
      for (const [shape, g] of cases) {
        const c = shape[1];
        const x = roundTo(
          randn(rng, sizeOf(shape), 2).map((v) => v + 1.5),
          dtype,
        );
        const w = k % 3 === 2 ? null : roundTo(randn(rng, c), dtype);
        const b = k % 2 ? null : roundTo(randn(rng, c), dtype);
        const eps = k % 2 ? 1e-5 : 1e-2;
        const y = groupnorm(
          makeTensor(x, shape, dtype, LAYOUTS[k % 3], 'reference'),
          g,
          w ? makeTensor(w, [c], dtype, 'contiguous', 'reference') : undefined,
          b ? makeTensor(b, [c], dtype, 'strided', 'reference') : undefined,
          eps,
        );
        expect(y.shape).toEqual(shape);
        expect(y.dtype).toBe(dtype);
        expectClose(
          await y.data(),
          expected(x, shape, g, w, b, eps),
          tolFor(dtype),
          tolFor(dtype),
          `${dtype} [${shape}] g${g}`,
        );
        k++;
      }
    }
  });

  it('rejects bad groups, parameters and eps with errors that name them', () => {
    const x = tensor(new Array(2 * 6 * 4).fill(1), [2, 6, 4]);
    expect(() => groupnorm(x, 4)).toThrow(/groups must be a positive integer dividing the 6 channels/);
    expect(() => groupnorm(x, 0)).toThrow(/groups/);
    expect(() => groupnorm(x, 3, tensor([1, 2, 3], [3]))).toThrow(/weight must be \[6\]/);
    expect(() => groupnorm(x, 3, undefined, tensor([1, 2], [2]))).toThrow(/bias must be \[6\]/);
    expect(() => groupnorm(x, 3, undefined, undefined, Number.NaN)).toThrow(/eps must be a finite number/);
    expect(() => groupnorm(tensor([1, 2, 3], [3]), 1)).toThrow(/x must be \[batch, channels/);
  });
});
