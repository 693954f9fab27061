import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { tensor } from '../../index';
import { sizeOf } from '../../shape';
import { expectClose, LAYOUTS, makeTensor, mulberry32, randn, roundTo, tolFor } from '../../test-utils';
import { layernorm, rmsnorm } from './norm';

function layernormExpected(
  x: Float64Array,
  d: number,
  w: Float64Array | null,
  b: Float64Array | null,
  eps: number,
): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length; r += d) {
    const row = Array.from(x.subarray(r, r + d));
    const mu = row.reduce((a, v) => a + v, 0) / d;
    const variance = row.reduce((a, v) => a + (v - mu) ** 2, 0) / d;
    for (const [j, v] of row.entries())
      out.push(((v - mu) / Math.sqrt(variance + eps)) * (w ? w[j] : 1) + (b ? b[j] : 0));
  }
  return out;
}

function rmsnormExpected(x: Float64Array, d: number, w: Float64Array, eps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length; r += d) {
    const row = Array.from(x.subarray(r, r + d));
    const rms = Math.sqrt(row.reduce((a, v) => a + v * v, 0) / d + eps);
    for (const [j, v] of row.entries()) out.push((v / rms) * w[j]);
  }
  return out;
}

const SHAPES = [[8], [5, 8], [2, 3, 16], [2, 1, 3, 5]];

describe('layernorm / rmsnorm', () => {
  const rng = mulberry32(21);

  it('layernorm with and without weight and bias, dtypes and layouts', async () => {
    let c = 0;
    for (const dtype of ['f32', 'f16', 'bf16'] as DType[]) {
      for (const shape of SHAPES) {
        const d = shape[shape.length - 1];
        const x = roundTo(randn(rng, sizeOf(shape), 2), dtype).map((v) => v + 3);
        const xr = roundTo(x, dtype);
        const w = roundTo(randn(rng, d), dtype);
        const b = roundTo(randn(rng, d), dtype);
        const useW = c % 2 === 0;
        const useB = c % 3 !== 2;
        const eps = c % 2 ? 1e-5 : 1e-3;
        const y = layernorm(
          makeTensor(xr, shape, dtype, LAYOUTS[c % 3]),
          useW ? makeTensor(w, [d], dtype) : undefined,
          useB ? makeTensor(b, [d], dtype, 'strided') : undefined,
          eps,
        );
        c++;
        expect(y.shape).toEqual(shape);
        const want = layernormExpected(xr, d, useW ? w : null, useB ? b : null, eps);
        expectClose(
          await y.data(),
          want,
          tolFor(dtype),
          tolFor(dtype),
          `${dtype} [${shape}] w ${useW} b ${useB}`,
        );
      }
    }
  });

  it('layernorm output has zero mean and unit variance per row', async () => {
    const y = await layernorm(
      makeTensor(randn(rng, 4 * 64, 5), [4, 64], 'f32', 'permuted'),
      undefined,
      undefined,
      0,
    ).array();
    for (let r = 0; r < 4; r++) {
      const row = y.slice(r * 64, r * 64 + 64);
      const mu = row.reduce((a, v) => a + v) / 64;
      expect(Math.abs(mu)).toBeLessThan(1e-6);
      expect(row.reduce((a, v) => a + (v - mu) ** 2, 0) / 64).toBeCloseTo(1, 5);
    }
  });

  it('rmsnorm matches x / sqrt(mean(x²) + eps) · weight (HF Llama)', async () => {
    let c = 0;
    for (const dtype of ['f32', 'f16', 'bf16'] as DType[]) {
      for (const shape of SHAPES) {
        const d = shape[shape.length - 1];
        const x = roundTo(randn(rng, sizeOf(shape), 3), dtype);
        const w = roundTo(randn(rng, d), dtype);
        const eps = c % 2 ? 1e-6 : 0.5;
        const y = rmsnorm(
          makeTensor(x, shape, dtype, LAYOUTS[c++ % 3]),
          makeTensor(w, [d], dtype, 'strided'),
          eps,
        );
        expectClose(
          await y.data(),
          rmsnormExpected(x, d, w, eps),
          tolFor(dtype),
          1e-5,
          `${dtype} [${shape}]`,
        );
      }
    }
    // Default eps is 1e-6: a zero row stays zero instead of NaN.
    expect(await rmsnorm(tensor([[0, 0]]), tensor([1, 1])).array()).toEqual([0, 0]);
  });

  it('rejects mismatched weights, dtypes and eps', () => {
    const x = tensor([[1, 2, 3]]);
    expect(() => rmsnorm(x, tensor([1, 1]))).toThrow(
      /rmsnorm: weight must be \[3\] \(the last dimension of input \[1, 3\]\), got \[2\]/,
    );
    expect(() => rmsnorm(x, tensor([1, 1, 1], [3], { dtype: 'f16' }))).toThrow(
      /rmsnorm: weight has dtype f16 but the input is f32/,
    );
    expect(() => rmsnorm(x, undefined as never)).toThrow(/rmsnorm: weight is required/);
    expect(() => layernorm(x, undefined, tensor([[1, 2, 3]]))).toThrow(/layernorm: bias must be \[3\]/);
    expect(() => layernorm(x, undefined, undefined, -1)).toThrow(
      /layernorm: eps must be a finite number >= 0/,
    );
    expect(() => layernorm(tensor([1, 2], [2], { dtype: 'i32' }))).toThrow(
      /layernorm: input \[2\] has dtype i32/,
    );
    expect(() => layernorm(tensor(1))).toThrow(/layernorm: input \[\] needs a non-empty last dimension/);
  });
});
