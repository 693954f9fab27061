/**
 * conv2d's reference kernel against an independent formulation written here (the input padded with
 * zeros into a larger array, then the plain sum without bounds checks), on seeded random shapes with
 * strides, paddings, rectangular kernels and non-contiguous inputs; a hand-computed case; the checks.
 */
import { describe, expect, it } from 'vitest';
import { conv2d, tensor } from '../../index';
import { sizeOf } from '../../shape';
import { expectClose, LAYOUTS, makeTensor, mulberry32, randn } from '../../test-utils';

function expected(
  x: Float64Array,
  [n, c, h, w]: number[],
  wt: Float64Array,
  [o, , kh, kw]: number[],
  bias: Float64Array | null,
  [sh, sw]: number[],
  [ph, pw]: number[],
): { values: number[]; shape: number[] } {
  const H = h + 2 * ph;
  const W = w + 2 * pw;
  const padded = new Float64Array(n * c * H * W);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++)
          padded[((b * c + ch) * H + i + ph) * W + j + pw] = x[((b * c + ch) * h + i) * w + j];
  const oh = Math.floor((H - kh) / sh) + 1;
  const ow = Math.floor((W - kw) / sw) + 1;
  const values: number[] = [];
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = 0;
          for (let ch = 0; ch < c; ch++)
            for (let p = 0; p < kh; p++)
              for (let q = 0; q < kw; q++)
                s +=
                  padded[((b * c + ch) * H + i * sh + p) * W + j * sw + q] *
                  wt[((oc * c + ch) * kh + p) * kw + q];
          values.push(s + (bias ? bias[oc] : 0));
        }
  return { values, shape: [n, o, oh, ow] };
}

describe('conv2d reference', () => {
  const rng = mulberry32(4242);

  it('matches the padded-array formulation on random shapes, strides, paddings and layouts', async () => {
    const cases = [
      { x: [1, 1, 5, 5], w: [1, 1, 3, 3], s: [1, 1], p: [1, 1] },
      { x: [2, 3, 7, 6], w: [4, 3, 3, 3], s: [2, 2], p: [1, 1] },
      { x: [3, 2, 9, 4], w: [5, 2, 2, 3], s: [1, 2], p: [0, 2] },
      { x: [1, 5, 4, 8], w: [3, 5, 1, 1], s: [1, 1], p: [0, 0] },
      { x: [2, 4, 6, 6], w: [2, 4, 5, 5], s: [3, 1], p: [2, 0] },
    ];
    for (const [k, cs] of cases.entries()) {
      const x = randn(rng, sizeOf(cs.x));
      const w = randn(rng, sizeOf(cs.w));
      const b = k % 2 ? null : randn(rng, cs.w[0]);
      const y = conv2d(
        makeTensor(x, cs.x, 'f32', LAYOUTS[k % 3], 'reference'),
        makeTensor(w, cs.w, 'f32', LAYOUTS[(k + 1) % 3], 'reference'),
        b ? makeTensor(b, [cs.w[0]], 'f32', 'contiguous', 'reference') : undefined,
        { stride: cs.s as [number, number], padding: cs.p as [number, number] },
      );
      const e = expected(
        Float64Array.from(await makeTensor(x, cs.x, 'f32').data()),
        cs.x,
        Float64Array.from(await makeTensor(w, cs.w, 'f32').data()),
        cs.w,
        b ? Float64Array.from(await makeTensor(b, [cs.w[0]], 'f32').data()) : null,
        cs.s,
        cs.p,
      );
      expect(y.shape, `case ${k}`).toEqual(e.shape);
      expectClose(await y.data(), e.values, 1e-6, 1e-6, `case ${k}`);
    }
  });

  it('a hand-computed case: 3x3 input, 2x2 kernel, padding 1, stride 2, bias', async () => {
    // x = [[1,2,3],[4,5,6],[7,8,9]], kernel [[1,0],[0,-1]], bias 10; padded input is 5x5, output 2x2:
    // (0,0): 0·1 + 1·(−1)... rows/cols of the padded input at (0,0),(0,1),(1,0),(1,1) = 0,0,0,1 -> −1 + 10
    // (0,1): padded (0,2),(0,3),(1,2),(1,3) = 0,0,2,3 -> −3 + 10; (1,0): (2,0),(2,1),(3,0),(3,1) = 0,4,0,7 -> −7 + 10
    // (1,1): (2,2),(2,3),(3,2),(3,3) = 5,6,8,9 -> 5 − 9 + 10
    for (const device of ['cpu', 'reference']) {
      const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], { device });
      const w = tensor([1, 0, 0, -1], [1, 1, 2, 2], { device });
      const b = tensor([10], [1], { device });
      const y = conv2d(x, w, b, { stride: 2, padding: 1 });
      expect(y.shape).toEqual([1, 1, 2, 2]);
      expect(Array.from(await y.data()), device).toEqual([9, 7, 3, 6]);
    }
  });

  it('rejects bad shapes and options with errors that name them', () => {
    const x = tensor(new Array(2 * 3 * 4 * 4).fill(1), [2, 3, 4, 4]);
    const w = tensor(new Array(5 * 3 * 3 * 3).fill(1), [5, 3, 3, 3]);
    expect(() => conv2d(x, tensor(new Array(5 * 2 * 9).fill(1), [5, 2, 3, 3]))).toThrow(
      /3 input channels|2 input channels/,
    );
    expect(() => conv2d(x.reshape([6, 4, 4]), w)).toThrow(/x must be \[batch, channels, height, width\]/);
    expect(() => conv2d(x, w, tensor([1, 2], [2]))).toThrow(/bias must be \[5\]/);
    expect(() => conv2d(x, w, undefined, { stride: 0 })).toThrow(/stride must be >= 1/);
    expect(() => conv2d(x, w, undefined, { padding: -1 })).toThrow(/padding must be >= 0/);
    expect(() => conv2d(x, w, undefined, { dilation: 2 } as never)).toThrow(/dilation/);
    const big = tensor(new Array(5 * 3 * 7 * 7).fill(1), [5, 3, 7, 7]);
    expect(() => conv2d(x, big)).toThrow(/does not fit/);
  });
});
