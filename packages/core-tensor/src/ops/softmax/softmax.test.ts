import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { tensor } from '../../index';
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
import { logSoftmax, softmax } from './softmax';

/** Direct formula per lane (inputs are small enough that exp cannot overflow in float64). */
function expected(x: Float64Array, shape: number[], axis: number, log: boolean): number[] {
  const out = new Array<number>(x.length);
  for (let i = 0; i < x.length; i++) {
    const idx = unravel(i, shape);
    let s = 0;
    for (let j = 0; j < shape[axis]; j++) {
      const o = idx.slice();
      o[axis] = j;
      s += Math.exp(x[ravel(o, shape)]);
    }
    out[i] = log ? x[i] - Math.log(s) : Math.exp(x[i]) / s;
  }
  return out;
}

const CASES: [number[], number | undefined][] = [
  [[7], undefined],
  [[3, 5], undefined],
  [[3, 5], 0],
  [[2, 3, 4], 1],
  [[2, 1, 6], -1],
  [[4, 2, 3], -3],
];

describe('softmax / logSoftmax', () => {
  const rng = mulberry32(3);
  for (const log of [false, true]) {
    const op = log ? logSoftmax : softmax;
    it(`${log ? 'logSoftmax' : 'softmax'} vs the direct formula`, async () => {
      let c = 0;
      for (const dtype of ['f32', 'f16', 'bf16'] as DType[]) {
        for (const [shape, axis] of CASES) {
          const x = roundTo(randn(rng, sizeOf(shape), 3), dtype);
          const y = op(makeTensor(x, shape, dtype, LAYOUTS[c++ % 3]), axis);
          expect(y.dtype).toBe(dtype);
          const ax = ((axis ?? -1) + shape.length) % shape.length;
          expectClose(
            await y.data(),
            expected(x, shape, ax, log),
            tolFor(dtype),
            1e-6,
            `${dtype} [${shape}] axis ${axis}`,
          );
        }
      }
    });
  }

  it('rows sum to one and huge logits do not overflow', async () => {
    const x = tensor([
      [1000, 1001, 1002],
      [-1000, -1000, -1000],
    ]);
    const p = await softmax(x).array();
    const e = [1, Math.E, Math.E ** 2].map((v) => v / (1 + Math.E + Math.E ** 2));
    expectClose(p, [...e, 1 / 3, 1 / 3, 1 / 3], 1e-6, 0, 'softmax');
    expectClose(
      await logSoftmax(x).array(),
      [...e, 1 / 3, 1 / 3, 1 / 3].map(Math.log),
      1e-6,
      1e-6,
      'logSoftmax',
    );
    const rng = mulberry32(4);
    const r = await softmax(makeTensor(randn(rng, 40, 10), [4, 10], 'f32', 'permuted')).array();
    for (let i = 0; i < 4; i++)
      expect(r.slice(i * 10, i * 10 + 10).reduce((a, b) => a + b)).toBeCloseTo(1, 6);
  });

  it('masked (-Inf) entries get zero; an all -Inf lane throws naming it', async () => {
    expect(await softmax(tensor([0, -Infinity, 0])).array()).toEqual([0.5, 0, 0.5]);
    expect(await logSoftmax(tensor([0, -Infinity])).array()).toEqual([0, -Infinity]);
    const bad = tensor([
      [0, 1],
      [-Infinity, -Infinity],
    ]);
    expect(() => softmax(bad)).toThrow(/softmax: lane 1 along axis 1 of input \[2, 2\] is all -Infinity/);
    expect(() => logSoftmax(bad, 0)).not.toThrow();
  });

  it('rejects integer inputs and bad axes', () => {
    expect(() => softmax(tensor([1, 2], [2], { dtype: 'i32' }))).toThrow(
      /softmax: input \[2\] has dtype i32/,
    );
    expect(() => logSoftmax(tensor([1, 2]), 1)).toThrow(/logSoftmax: axis 1 is out of range/);
  });
});
