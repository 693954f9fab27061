/**
 * The elementwise binary ops against formulas written here in float64 (not reference.ts), on both CPU
 * backends ('cpu' runs the fast f32 add/sub/mul/div, 'reference' the reference kernel), for every
 * dtype the op takes, seeded random inputs in several memory layouts, and the NumPy broadcasting edge
 * cases: rank mismatch, size 1 on either side, 0-d operands, an explicit stride-0 view, and empty
 * dimensions (0 broadcast against 1).
 *
 * The expected value is the float64 result rounded once to the dtype (integers: truncated toward zero
 * and wrapped like the typed array), so results must match exactly: for + - * / on floats that single
 * rounding is the correctly rounded result of the dtype.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { broadcastShapes, tensor } from '../../index';
import { sizeOf } from '../../shape';
import type { Tensor } from '../../tensor';
import { LAYOUTS, makeTensor, mulberry32, randint, randn, ravel, roundTo, unravel } from '../../test-utils';
import * as B from './binary';

type Op = (typeof B.ARITHMETIC_OPS)[number] | (typeof B.COMPARISON_OPS)[number];
const FN: Record<Op, (a: Tensor, b: Tensor | number) => Tensor> = {
  add: B.add,
  sub: B.sub,
  mul: B.mul,
  div: B.div,
  pow: B.pow,
  maximum: B.maximum,
  minimum: B.minimum,
  eq: B.eq,
  ne: B.ne,
  lt: B.lt,
  le: B.le,
  gt: B.gt,
  ge: B.ge,
  logicalAnd: B.logicalAnd,
  logicalOr: B.logicalOr,
};

// IEEE 754-2019 maximum / minimum: NaN if either operand is NaN, and -0 < +0. ECMAScript's Math.max
// and Math.min are specified exactly so (ECMA-262 21.3.2.24-25).
const nanMax = (x: number, y: number) => Math.max(x, y);
const nanMin = (x: number, y: number) => Math.min(x, y);

/** Float64 definitions; `int` marks the integer-dtype variant where it differs. */
const EXPECTED: Record<Op, (x: number, y: number, int: boolean) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y, int) => (int ? Math.trunc(x / y) : x / y),
  pow: (x, y) => x ** y,
  maximum: nanMax,
  minimum: nanMin,
  eq: (x, y) => (x === y ? 1 : 0),
  ne: (x, y) => (x !== y ? 1 : 0),
  lt: (x, y) => (x < y ? 1 : 0),
  le: (x, y) => (x <= y ? 1 : 0),
  gt: (x, y) => (x > y ? 1 : 0),
  ge: (x, y) => (x >= y ? 1 : 0),
  logicalAnd: (x, y) => (x !== 0 && y !== 0 ? 1 : 0),
  logicalOr: (x, y) => (x !== 0 || y !== 0 ? 1 : 0),
};
const COMPARISON = new Set<string>(B.COMPARISON_OPS);

/** Broadcast pairs: equal shapes, rank mismatch, 1 on either side, 0-d, empty. */
const PAIRS: [number[], number[]][] = [
  [
    [6, 7],
    [6, 7],
  ],
  [[], []],
  [[5], []],
  [[], [3, 2]],
  [
    [4, 1],
    [1, 6],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [
    [3, 1, 5],
    [2, 1, 4, 1],
  ],
  [[1], [0]],
  [
    [2, 0, 3],
    [1, 3],
  ],
];

/** Value of operand x (shape s) at output index idx of the broadcast shape `out`. */
const at = (x: ArrayLike<number>, s: number[], idx: number[], out: number[]) =>
  x[
    ravel(
      s.map((d, i) => (d === 1 ? 0 : idx[i + out.length - s.length])),
      s,
    )
  ];

function expected(op: Op, dtype: DType, x: Float64Array, xs: number[], y: Float64Array, ys: number[]) {
  const out = broadcastShapes('test', xs, ys);
  const int = dtype === 'i32' || dtype === 'i8' || dtype === 'u8';
  const raw = Array.from({ length: sizeOf(out) }, (_, i) => {
    const idx = unravel(i, out);
    return EXPECTED[op](at(x, xs, idx, out), at(y, ys, idx, out), int);
  });
  return { shape: out, values: Array.from(COMPARISON.has(op) ? raw : roundTo(raw, dtype)) };
}

/** Random operand values for `op` in `dtype` (quantised so that ties and equal values occur). */
function values(rng: () => number, op: Op, dtype: DType, n: number, divisor: boolean): Float64Array {
  if (dtype === 'bool') return randint(rng, n, 0, 2);
  if (dtype === 'u8') return randint(rng, n, divisor ? 1 : 0, 16);
  if (dtype === 'i8' || dtype === 'i32') {
    const v = randint(rng, n, -9, 10);
    return divisor ? v.map((x) => (x === 0 ? 3 : x)) : v;
  }
  const v = randn(rng, n, 3).map((x) => Math.round(x * 4) / 4);
  // pow: small exponents keep f16 in range; bases of both signs give NaN for fractional exponents.
  return roundTo(op === 'pow' && divisor ? v.map((x) => x / 2) : v, dtype);
}

/** The same values compare equal element for element; NaN equals NaN, +0 and -0 differ. */
function expectExactly(got: ArrayLike<number>, want: number[], label: string) {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      expect.fail(`${label}: element ${i} is ${got[i]}, expected ${want[i]}`);
    }
  }
}

const ARITH_DTYPES: DType[] = ['f32', 'f16', 'bf16', 'i32', 'i8', 'u8'];
const COMPARE_DTYPES: DType[] = ['f32', 'bf16', 'i32', 'u8', 'bool'];

describe('binary ops vs float64 formulas, with broadcasting', () => {
  for (const op of Object.keys(FN) as Op[]) {
    it(`${op}: dtypes, layouts, broadcast shapes, both CPU backends`, async () => {
      const rng = mulberry32(4000 + op.length * 31 + op.charCodeAt(0));
      const dtypes = COMPARISON.has(op) ? COMPARE_DTYPES : ARITH_DTYPES;
      let c = 0;
      for (const device of ['cpu', 'reference']) {
        for (const dtype of dtypes) {
          for (const [as, bs] of PAIRS) {
            const x = values(rng, op, dtype, sizeOf(as), false);
            const y = values(rng, op, dtype, sizeOf(bs), op === 'div' || op === 'pow');
            const a = makeTensor(x, as, dtype, LAYOUTS[c % 3], device);
            const b = makeTensor(y, bs, dtype, LAYOUTS[(c + 1) % 3], device);
            c++;
            const r = FN[op](a, b);
            const want = expected(op, dtype, x, as, y, bs);
            const label = `${op} ${device} ${dtype} [${as}] ${a.isContiguous() ? '' : '(view) '}with [${bs}]`;
            expect(r.shape, label).toEqual(want.shape);
            expect(r.dtype, label).toBe(COMPARISON.has(op) ? 'bool' : dtype);
            expect(r.device, label).toBe(device);
            expect(r.isContiguous(), label).toBe(true);
            expectExactly(await r.data(), want.values, label);
          }
        }
      }
    });
  }

  it('reads an explicit broadcast view (stride 0) and a JS number like the equivalent tensors', async () => {
    const rng = mulberry32(4242);
    for (const device of ['cpu', 'reference']) {
      const col = randn(rng, 4);
      const m = roundTo(randn(rng, 4 * 6), 'f32');
      const expanded = makeTensor(col, [4, 1], 'f32', 'contiguous', device).expand([4, 6]);
      expect(expanded.strides).toEqual([1, 0]);
      const full = makeTensor(m, [4, 6], 'f32', 'permuted', device);
      for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'lt'] as Op[]) {
        const want = expected(op, 'f32', roundTo(col, 'f32'), [4, 1], m, [4, 6]);
        expectExactly(await FN[op](expanded, full).data(), want.values, `${op} ${device} expanded`);
        const byNumber = expected(op, 'f32', m, [4, 6], Float64Array.of(Math.fround(0.3)), []);
        expectExactly(await FN[op](full, 0.3).data(), byNumber.values, `${op} ${device} number`);
      }
    }
  });

  it('special values: NaN propagates through arithmetic and max/min, compares false; ±Inf, ±0', async () => {
    const x = [Number.NaN, 1, Number.POSITIVE_INFINITY, -0, 0, Number.NEGATIVE_INFINITY, 2];
    const y = [1, Number.NaN, Number.POSITIVE_INFINITY, 0, -0, 3, 0];
    for (const device of ['cpu', 'reference']) {
      for (const op of Object.keys(FN) as Op[]) {
        const r = FN[op](tensor(x, [7], { device }), tensor(y, [7], { device }));
        const want = expected(op, 'f32', Float64Array.from(x), [7], Float64Array.from(y), [7]);
        expectExactly(await r.data(), want.values, `${op} ${device} special values`);
      }
    }
  });

  it('integer arithmetic wraps like the typed array and integer division truncates toward zero', async () => {
    const i8 = (v: number[]) => tensor(v, [v.length], { dtype: 'i8' });
    expect(await B.add(i8([100, -100]), i8([100, -100])).array()).toEqual([-56, 56]);
    expect(await B.sub(tensor([3], [1], { dtype: 'u8' }), 5).array()).toEqual([254]);
    expect(await B.div(i8([7, -7, 7, -7]), i8([2, 2, -2, -2])).array()).toEqual([3, -3, -3, 3]);
    const big = tensor([2 ** 31 - 1], [1], { dtype: 'i32' });
    expect(await B.add(big, 1).array()).toEqual([-(2 ** 31)]);
  });
});

describe('binary op errors name the op, the shapes and what was expected', () => {
  it('broadcast failure', () => {
    expect(() => B.add(tensor(new Float32Array(6), [2, 3]), tensor([1, 2, 3, 4]))).toThrow(
      /add: cannot broadcast shapes \[2, 3\] and \[4\]: dimension 1 is 3 vs 4 \(must be equal or 1\)/,
    );
    expect(() => B.lt(tensor(new Float32Array(0), [0]), tensor([1, 2]))).toThrow(
      /lt: cannot broadcast shapes \[0\] and \[2\]/,
    );
  });

  it('mixed dtypes, numbers the dtype cannot hold, integer division by zero', () => {
    const f = tensor([1, 2]);
    const i = tensor([1, 2], [2], { dtype: 'i32' });
    expect(() => B.mul(f, i)).toThrow(/mul: dtypes differ \(f32 and i32\); cast one/);
    expect(() => B.add(i, 2.5)).toThrow(/add: value 2.5 cannot be stored in dtype i32 \(integers/);
    expect(() => B.mul(tensor([1], [1], { dtype: 'u8' }), 256)).toThrow(
      /mul: value 256 cannot be stored in dtype u8/,
    );
    expect(() => B.div(i, tensor([1, 0], [2], { dtype: 'i32' }))).toThrow(
      /div: integer division by zero at flat index 1 of the broadcast shape \[2\] \(a \[2\], b \[2\], i32\)/,
    );
    expect(() => B.div(i, 0)).toThrow(/div: integer division by zero/);
    // Float division by zero is IEEE: ±Inf or NaN, no error.
    expect(() => B.div(f, 0)).not.toThrow();
  });

  it('use after dispose, on either operand', () => {
    const a = tensor([1, 2]);
    const b = tensor([3, 4]);
    b.dispose();
    expect(() => B.sub(a, b)).toThrow(/sub: input tensor of shape \[2\] \(f32\) was used after dispose/);
    expect(() => B.sub(b, a)).toThrow(/sub: input tensor of shape \[2\] \(f32\) was used after dispose/);
  });
});
