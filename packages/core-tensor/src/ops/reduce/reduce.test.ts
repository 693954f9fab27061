import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { tensor, zeros } from '../../index';
import { sizeOf } from '../../shape';
import {
  expectClose,
  LAYOUTS,
  makeTensor,
  mulberry32,
  randint,
  randn,
  roundTo,
  tolFor,
  unravel,
} from '../../test-utils';
import { argmax, logsumexp, max, mean, min, sum } from './reduce';

type Axis = number | number[] | undefined;

/** Group x's elements by output slot (row-major), then apply `f` to each group (in input order). */
function expected(x: Float64Array, shape: number[], axis: Axis, f: (g: number[]) => number): number[] {
  const r = shape.length;
  const axes =
    axis === undefined ? [...Array(r).keys()] : (Array.isArray(axis) ? axis : [axis]).map((a) => (a + r) % r);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < x.length; i++) {
    const key = unravel(i, shape)
      .filter((_, d) => !axes.includes(d))
      .join(',');
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(x[i]);
  }
  return [...groups.values()].map(f);
}

const outShape = (shape: number[], axis: Axis, keep: boolean) => {
  const r = shape.length;
  const axes =
    axis === undefined ? [...Array(r).keys()] : (Array.isArray(axis) ? axis : [axis]).map((a) => (a + r) % r);
  return keep ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
};

const F = {
  sum: (g: number[]) => g.reduce((a, b) => a + b, 0),
  mean: (g: number[]) => g.reduce((a, b) => a + b, 0) / g.length,
  max: (g: number[]) => Math.max(...g),
  min: (g: number[]) => Math.min(...g),
  argmax: (g: number[]) => g.indexOf(Math.max(...g)),
  logsumexp: (g: number[]) => Math.log(g.reduce((a, b) => a + Math.exp(b), 0)),
};
const OPS = { sum, mean, max, min, argmax, logsumexp };

const CASES: [number[], Axis][] = [
  [[6], undefined],
  [[6], 0],
  [[3, 4], -1],
  [[3, 4], 0],
  [
    [2, 3, 5],
    [0, 2],
  ],
  [
    [2, 3, 5],
    [1, -1],
  ],
  [[2, 1, 3, 4], 1],
  [[2, 1, 3, 4], undefined],
  [
    [4, 3, 2],
    [2, 0, 1],
  ],
];

describe('reductions vs float64 loops', () => {
  const rng = mulberry32(11);
  for (const name of Object.keys(OPS) as (keyof typeof OPS)[]) {
    it(`${name}: axes, keepdims, dtypes and layouts`, async () => {
      const dtypes: DType[] =
        name === 'mean' || name === 'logsumexp' ? ['f32', 'f16', 'bf16'] : ['f32', 'bf16', 'i32'];
      let c = 0;
      for (const dtype of dtypes) {
        for (const [shape, axis] of CASES) {
          const n = sizeOf(shape);
          const raw = dtype === 'i32' ? randint(rng, n, -50, 50) : randn(rng, n);
          const x = roundTo(raw, dtype);
          const keep = c % 2 === 0;
          const t = makeTensor(x, shape, dtype, LAYOUTS[c++ % LAYOUTS.length]);
          const y = OPS[name](t, axis, keep);
          expect(y.shape).toEqual(outShape(shape, axis, keep));
          expect(y.dtype).toBe(name === 'argmax' ? 'i32' : dtype);
          const want = expected(x, shape, axis, F[name]);
          const label = `${name} ${dtype} [${shape}] axis ${axis} keepdims ${keep}`;
          if (name === 'argmax' || dtype === 'i32') expect(await y.array(), label).toEqual(want);
          else expectClose(await y.data(), want, tolFor(dtype), 1e-5, label);
        }
      }
    });
  }

  it('argmax takes the first maximum; NaN wins in max/min/argmax', async () => {
    expect(await argmax(tensor([1, 3, 3, 2])).item()).toBe(1);
    expect(
      await argmax(
        tensor([
          [5, 5],
          [2, 7],
        ]),
        0,
      ).array(),
    ).toEqual([0, 1]);
    expect(
      await argmax(
        tensor([
          [1, 9, 2],
          [9, 0, 9],
        ]),
      ).item(),
    ).toBe(1); // flat index over all axes
    expect(await argmax(tensor([1, Number.NaN, 5, Number.NaN])).item()).toBe(1);
    expect(await max(tensor([1, Number.NaN, 5])).item()).toBeNaN();
    expect(await min(tensor([1, 5, Number.NaN])).item()).toBeNaN();
    expect(await logsumexp(tensor([1, Number.NaN, 5])).item()).toBeNaN();
  });

  it('logsumexp is stable for large and infinite inputs', async () => {
    expect(await logsumexp(tensor([1000, 1000])).item()).toBeCloseTo(1000 + Math.LN2, 3);
    expect(await logsumexp(tensor([-1000, -1000])).item()).toBeCloseTo(-1000 + Math.LN2, 3);
    expect(await logsumexp(tensor([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(await logsumexp(tensor([-Infinity, 0])).item()).toBe(0);
    expect(await logsumexp(tensor([Infinity, 0])).item()).toBe(Infinity);
  });

  it('integer and bool sums give i32; 0-d and empty inputs', async () => {
    const b = sum(tensor([1, 0, 1, 1], [2, 2], { dtype: 'bool' }), -1);
    expect(b.dtype).toBe('i32');
    expect(await b.array()).toEqual([1, 2]);
    expect(await sum(tensor([100, 100, 100], [3], { dtype: 'i8' })).array()).toEqual([300]);
    expect(await sum(tensor(2.5)).array()).toEqual([2.5]);
    const e = zeros([2, 0]);
    expect(await sum(e, 1).array()).toEqual([0, 0]);
    expect(() => max(e, 1)).toThrow(/max: cannot reduce over an empty axis \(input \[2, 0\]/);
    expect(() => mean(e)).toThrow(/mean: cannot reduce over an empty axis/);
  });

  it('rejects bad axes, dtypes and disposed inputs', () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(() => sum(t, 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => sum(t, [0, -2])).toThrow(/sum: axis list \[0, -2\] repeats an axis/);
    expect(() => mean(tensor([1, 2], [2], { dtype: 'i32' }))).toThrow(
      /mean: input \[2\] has dtype i32; expected a float dtype/,
    );
    expect(() => max(tensor([1], [1], { dtype: 'bool' }))).toThrow(/max: input \[1\] has dtype bool/);
    t.dispose();
    expect(() => argmax(t)).toThrow(/argmax: .*used after dispose/);
  });
});
