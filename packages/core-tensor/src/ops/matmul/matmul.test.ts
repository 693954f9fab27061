import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { getKernel, tensor } from '../../index';
import { sizeOf } from '../../shape';
import {
  expectClose,
  LAYOUTS,
  makeTensor,
  mulberry32,
  randn,
  ravel,
  roundTo,
  tolFor,
  unravel,
} from '../../test-utils';
import { linear, matmul } from './matmul';

/** Plain triple loop over broadcast batch indices. */
function expected(a: Float64Array, as: number[], b: Float64Array, bs: number[], batch: number[]): number[] {
  const [m, k] = as.slice(-2);
  const n = bs[bs.length - 1];
  const out: number[] = [];
  for (let p = 0; p < Math.max(1, sizeOf(batch)); p++) {
    const idx = batch.length ? unravel(p, batch) : [];
    const bi = (s: number[]) =>
      s.slice(0, -2).map((d, i) => (d === 1 ? 0 : idx[i + batch.length - (s.length - 2)]));
    const ia = bi(as);
    const ib = bi(bs);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a[ravel([...ia, i, q], as)] * b[ravel([...ib, q, j], bs)];
        out.push(s);
      }
  }
  return out;
}

describe('matmul reference kernel', () => {
  const rng = mulberry32(111);

  it('matches the triple loop with broadcast batches, transposed views and each float dtype', async () => {
    let c = 0;
    for (const dtype of ['f32', 'f16', 'bf16'] as DType[]) {
      for (const [as, bs, batch] of [
        [[3, 4], [4, 5], []],
        [[1, 7], [7, 1], []],
        [[2, 3, 4], [4, 2], [2]],
        [
          [2, 1, 3, 4],
          [3, 4, 5],
          [2, 3],
        ],
        [[5, 2, 6], [1, 6, 3], [5]],
      ] as number[][][]) {
        const a = roundTo(randn(rng, sizeOf(as)), dtype);
        const b = roundTo(randn(rng, sizeOf(bs)), dtype);
        const y = matmul(
          makeTensor(a, as, dtype, LAYOUTS[c % 3], 'reference'),
          makeTensor(b, bs, dtype, LAYOUTS[(c + 1) % 3], 'reference'),
        );
        c++;
        expect(y.device).toBe('reference');
        expect(y.shape).toEqual([...batch, as[as.length - 2], bs[bs.length - 1]]);
        expectClose(
          await y.data(),
          expected(a, as, b, bs, batch),
          tolFor(dtype),
          tolFor(dtype),
          `${dtype} [${as}] @ [${bs}]`,
        );
      }
    }
  });

  it('linear is x @ wᵀ + bias', async () => {
    const x = randn(rng, 3 * 4);
    const w = randn(rng, 5 * 4);
    const bias = randn(rng, 5);
    const y = linear(
      tensor(x, [3, 4], { device: 'reference' }),
      tensor(w, [5, 4], { device: 'reference' }),
      tensor(bias, [5], { device: 'reference' }),
    );
    const want = Array.from({ length: 15 }, (_, p) => {
      const [i, j] = [Math.floor(p / 5), p % 5];
      return bias[j] + [0, 1, 2, 3].reduce((s, q) => s + x[i * 4 + q] * w[j * 4 + q], 0);
    });
    expectClose(await y.array(), want, 1e-5, 1e-6, 'linear');
    expect(getKernel('matmul', 'reference').fn).toBeTypeOf('function');
  });

  it('rejects mismatched shapes and dtypes', () => {
    const a = tensor(new Float32Array(6), [2, 3]);
    expect(() => matmul(a, tensor(new Float32Array(8), [4, 2]))).toThrow(
      /matmul: inner dimensions differ: \[2, 3\] @ \[4, 2\] \(3 vs 4\)/,
    );
    expect(() => matmul(a, tensor([1, 2, 3]))).toThrow(/matmul: both operands need rank >= 2/);
    expect(() => matmul(a, tensor(new Float32Array(6), [3, 2], { dtype: 'f16' }))).toThrow(
      /matmul: operands must share a float dtype/,
    );
    expect(() => linear(a, tensor(new Float32Array(8), [2, 4]))).toThrow(
      /linear: input \[2, 3\] has 3 features, weight \[2, 4\] expects 4/,
    );
  });
});
