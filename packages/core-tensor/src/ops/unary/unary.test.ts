import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { hasKernel, tensor } from '../../index';
import { sizeOf } from '../../shape';
import type { Tensor } from '../../tensor';
import {
  expectClose,
  LAYOUTS,
  makeTensor,
  mulberry32,
  randint,
  randn,
  roundTo,
  tolFor,
} from '../../test-utils';
import { erf, erfc } from './erf';
import * as U from './unary';

/** Every unary op by name, accessed statically (tree-shaking friendly). */
const FN: Record<(typeof U.UNARY_OPS)[number], (x: Tensor) => Tensor> = {
  exp: U.exp,
  log: U.log,
  sqrt: U.sqrt,
  rsqrt: U.rsqrt,
  reciprocal: U.reciprocal,
  sin: U.sin,
  cos: U.cos,
  tanh: U.tanh,
  sigmoid: U.sigmoid,
  silu: U.silu,
  gelu: (x) => U.gelu(x),
  neg: U.neg,
  abs: U.abs,
  square: U.square,
  relu: U.relu,
  floor: U.floor,
  ceil: U.ceil,
  logicalNot: U.logicalNot,
};

/** erf by composite Simpson integration of 2/√π e^{-t²}: independent of erf.ts, ~1e-12 accurate. */
function erfSimpson(x: number): number {
  const n = 400;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
}

type FloatOp = (typeof U.FLOAT_UNARY_OPS)[number];
const positive = (x: number) => Math.abs(x) + 0.1;
const awayFromZero = (x: number) => Math.sign(x || 1) * (Math.abs(x) + 0.1);

/** Expected values, written independently of reference.ts; `prep` maps inputs into the domain. */
const FLOAT_CASES: Record<FloatOp, { f: (x: number) => number; prep?: (x: number) => number }> = {
  exp: { f: Math.exp },
  log: { f: Math.log, prep: positive },
  sqrt: { f: Math.sqrt, prep: positive },
  rsqrt: { f: (x) => Math.sqrt(x) ** -1, prep: positive },
  reciprocal: { f: (x) => x ** -1, prep: awayFromZero },
  sin: { f: Math.sin },
  cos: { f: Math.cos },
  tanh: { f: (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1) },
  sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)) },
  silu: { f: (x) => x / (1 + Math.exp(-x)) },
  gelu: { f: (x) => 0.5 * x * (1 + erfSimpson(x / Math.SQRT2)) },
};
const SHAPES = [[], [7], [3, 5], [2, 3, 4]];

describe('float unary ops vs float64 formulas', () => {
  const rng = mulberry32(101);
  for (const op of U.FLOAT_UNARY_OPS) {
    it(`${op} on f32/f16/bf16, several shapes and layouts`, async () => {
      const { f, prep } = FLOAT_CASES[op];
      for (const dtype of ['f32', 'f16', 'bf16'] as DType[]) {
        for (const [si, shape] of SHAPES.entries()) {
          const layout = LAYOUTS[si % LAYOUTS.length];
          const x = roundTo(randn(rng, sizeOf(shape), 2).map(prep ?? ((v) => v)), dtype);
          const t = makeTensor(x, shape, dtype, layout);
          const y = FN[op](t);
          expect(y.shape).toEqual(shape);
          expect(y.dtype).toBe(dtype);
          expectClose(await y.data(), x.map(f), tolFor(dtype), 1e-6, `${op} ${dtype} [${shape}] ${layout}`);
        }
      }
    });
  }

  it('gelu tanh approximation', async () => {
    const x = roundTo(randn(rng, 64, 3), 'f32');
    const y = U.gelu(makeTensor(x, [8, 8], 'f32', 'permuted'), { approximate: 'tanh' });
    const c = Math.sqrt(2 / Math.PI);
    const expected = x.map((v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3))));
    expectClose(await y.data(), expected, 2e-6, 1e-7, 'gelu tanh');
  });

  it('keeps accuracy at the extremes (no overflow, no cancellation)', async () => {
    const x = tensor([-1000, -80, 0, 80, 1000]);
    expect(await U.sigmoid(x).array()).toEqual([0, Math.fround(1 / (1 + Math.exp(80))), 0.5, 1, 1]);
    expect(await U.silu(x).array()).toEqual([-0, Math.fround(-80 / (1 + Math.exp(80))), 0, 80, 1000]);
    // x·Φ(x) from mpmath: gelu(1 + erf) would cancel to 0 at -10.
    const g = await U.gelu(tensor([-10, -5, -1, 0.5, 3])).array();
    expectClose(
      g,
      [
        -7.619853024160526e-23, -1.4332578593959695e-6, -0.15865525393145705, 0.34573123063700656,
        2.99595030590511,
      ],
      1e-7,
      0,
      'gelu tails',
    );
    expect(await U.exp(tensor([-Infinity, Infinity])).array()).toEqual([0, Infinity]);
    expect(await U.log(tensor([0, -1])).array()).toEqual([-Infinity, Number.NaN]);
    expect(await U.rsqrt(tensor([0, 4])).array()).toEqual([Infinity, 0.5]);
    expect(await U.relu(tensor([Number.NaN, -0.5, 2])).array()).toEqual([Number.NaN, 0, 2]);
  });
});

describe('erf / erfc (float64)', () => {
  // mpmath, 30 digits.
  const ref: [number, number, number][] = [
    [-3, -0.9999779095030014, 1.9999779095030015],
    [-0.5, -0.5204998778130465, 1.5204998778130465],
    [1e-8, 1.1283791670955125e-8, 0.9999999887162083],
    [0.1, 0.11246291601828488, 0.8875370839817152],
    [0.5, 0.5204998778130465, 0.4795001221869535],
    [1, 0.8427007929497149, 0.15729920705028513],
    [1.5, 0.9661051464753108, 0.033894853524689274],
    [2, 0.9953222650189527, 0.004677734981047266],
    [2.5, 0.999593047982555, 0.0004069520174449589],
    [3.5, 0.9999992569016276, 7.430983723414128e-7],
    [5, 0.9999999999984626, 1.537459794428035e-12],
  ];
  it('matches high-precision values to ~1e-15 relative', () => {
    for (const [x, e, c] of ref) {
      expect(Math.abs(erf(x) - e) / Math.abs(e), `erf(${x})`).toBeLessThan(2e-15);
      expect(Math.abs(erfc(x) - c) / c, `erfc(${x})`).toBeLessThan(4e-15);
    }
    expect(Math.abs(erfc(8) / 1.1224297172982926e-29 - 1)).toBeLessThan(4e-15);
    expect(Math.abs(erfc(15) / 7.212994172451207e-100 - 1)).toBeLessThan(4e-15);
    expect(Math.abs(erfc(26) / 5.663192408856143e-296 - 1)).toBeLessThan(4e-15);
    expect(erfc(30)).toBe(0);
    expect(erf(40)).toBe(1);
    expect(Number.isNaN(erf(Number.NaN))).toBe(true);
  });

  it('agrees with Simpson integration on random points and is odd', () => {
    const rng = mulberry32(7);
    for (let i = 0; i < 200; i++) {
      const x = (rng() - 0.5) * 12;
      expect(Math.abs(erf(x) - erfSimpson(x))).toBeLessThan(1e-11);
      expect(erf(-x)).toBe(-erf(x));
      expect(Math.abs(erf(x) + erfc(x) - 1)).toBeLessThan(1e-15);
    }
  });
});

describe('numeric unary ops and logicalNot', () => {
  const rng = mulberry32(5);
  const INT_CASES: Record<(typeof U.NUMERIC_UNARY_OPS)[number], (x: number) => number> = {
    neg: (x) => -x,
    abs: (x) => (x < 0 ? -x : x),
    square: (x) => x * x,
    relu: (x) => Math.max(x, 0),
    floor: (x) => x,
    ceil: (x) => x,
  };
  for (const op of U.NUMERIC_UNARY_OPS) {
    it(`${op} is exact on i32 and i8, and right on floats`, async () => {
      for (const dtype of ['i32', 'i8'] as DType[]) {
        const x = randint(rng, 24, -11, 12);
        const y = FN[op](makeTensor(x, [4, 6], dtype, 'permuted'));
        expect(y.dtype).toBe(dtype);
        expect(await y.array()).toEqual(Array.from(x, INT_CASES[op]).map((v) => v + 0));
      }
      const xf = roundTo(randn(rng, 30, 3), 'f32');
      const floatF = { ...INT_CASES, floor: Math.floor, ceil: Math.ceil }[op];
      const y = FN[op](makeTensor(xf, [5, 6], 'f32', 'strided'));
      expect(await y.array()).toEqual(Array.from(xf, (v) => Math.fround(floatF(v))));
    });
  }

  it('logicalNot gives bool for every dtype', async () => {
    for (const dtype of ['f32', 'f16', 'bf16', 'i32', 'i8', 'u8', 'bool'] as DType[]) {
      const y = U.logicalNot(makeTensor([0, 1, 0, 3, 1, 0], [2, 3], dtype, 'permuted'));
      expect(y.dtype).toBe('bool');
      expect(await y.array()).toEqual([1, 0, 1, 0, 0, 1]);
    }
  });
});

describe('unary errors and registration', () => {
  it('rejects the wrong dtype, bad options and disposed inputs', () => {
    const i = tensor([1, 2], [2], { dtype: 'i32' });
    expect(() => U.exp(i)).toThrow(/exp: input \[2\] has dtype i32; expected a float dtype/);
    expect(() => U.neg(tensor([1], [1], { dtype: 'bool' }))).toThrow(/neg: .*dtype bool/);
    const x = tensor([1, 2]);
    expect(() => U.gelu(x, { approximate: 'fast' as 'tanh' })).toThrow(
      /gelu: option 'approximate' is invalid/,
    );
    x.dispose();
    expect(() => U.sigmoid(x)).toThrow(/sigmoid: input tensor of shape \[2\] \(f32\) was used after dispose/);
  });

  it('registers each op separately on cpu and reference', () => {
    for (const op of U.UNARY_OPS) {
      expect(hasKernel(op, 'cpu'), op).toBe(true);
      expect(hasKernel(op, 'reference'), op).toBe(true);
    }
  });
});
