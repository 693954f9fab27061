/**
 * @file Elementwise unary ops. Each op is its own registry entry, so a backend may implement a subset.
 * Float math (exp, log, ..., gelu) needs a float dtype; neg, abs, square, relu, floor and ceil also
 * take integer dtypes (results wrap like the typed array); logicalNot takes anything and returns bool.
 * Activations: SiLU x·σ(x) (arXiv:1702.03118); GELU x·Φ(x), exact (erf) or the tanh approximation
 * (arXiv:1606.08415), as in PyTorch's `gelu(approximate='none' | 'tanh')`.
 */
import { z } from 'zod';
import { run1 } from '../../dispatch';
import type { DType } from '../../dtype';
import type { Tensor } from '../../tensor';
import { assertDTypeIn, assertFloatInput, parseOptions } from '../checks';

export const FLOAT_UNARY_OPS = [
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'reciprocal',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'silu',
  'gelu',
] as const;
export const NUMERIC_UNARY_OPS = ['neg', 'abs', 'square', 'relu', 'floor', 'ceil'] as const;
export const UNARY_OPS = [...FLOAT_UNARY_OPS, ...NUMERIC_UNARY_OPS, 'logicalNot'] as const;
export type UnaryOpName = (typeof UNARY_OPS)[number];

const NUMERIC: readonly DType[] = ['f32', 'f16', 'bf16', 'i32', 'i8', 'u8'];

export interface UnaryAttrs {
  op: UnaryOpName;
  /** gelu only: 'none' (exact, erf) or 'tanh'. */
  approximate?: 'none' | 'tanh';
}

function unaryFloat(
  op: (typeof FLOAT_UNARY_OPS)[number],
  x: Tensor,
  attrs: Partial<UnaryAttrs> = {},
): Tensor {
  assertFloatInput(op, x);
  return run1(op, [x], { op, ...attrs } satisfies UnaryAttrs);
}

function unaryNumeric(op: (typeof NUMERIC_UNARY_OPS)[number], x: Tensor): Tensor {
  assertDTypeIn(op, x, NUMERIC);
  return run1(op, [x], { op } satisfies UnaryAttrs);
}

export const exp = (x: Tensor) => unaryFloat('exp', x);
export const log = (x: Tensor) => unaryFloat('log', x);
export const sqrt = (x: Tensor) => unaryFloat('sqrt', x);
/** 1 / sqrt(x). */
export const rsqrt = (x: Tensor) => unaryFloat('rsqrt', x);
/** 1 / x. */
export const reciprocal = (x: Tensor) => unaryFloat('reciprocal', x);
export const sin = (x: Tensor) => unaryFloat('sin', x);
export const cos = (x: Tensor) => unaryFloat('cos', x);
export const tanh = (x: Tensor) => unaryFloat('tanh', x);
/** 1 / (1 + e^-x), computed without overflow for large |x|. */
export const sigmoid = (x: Tensor) => unaryFloat('sigmoid', x);
/** x · sigmoid(x) (SiLU / swish). */
export const silu = (x: Tensor) => unaryFloat('silu', x);

const GeluOptions = z.object({ approximate: z.enum(['none', 'tanh']).optional() }).strict();
export type GeluOptions = z.input<typeof GeluOptions>;

/** x · Φ(x); `{ approximate: 'tanh' }` gives 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(x: Tensor, opts?: GeluOptions): Tensor {
  const o = parseOptions('gelu', GeluOptions, opts);
  return unaryFloat('gelu', x, { approximate: o.approximate ?? 'none' });
}

export const neg = (x: Tensor) => unaryNumeric('neg', x);
export const abs = (x: Tensor) => unaryNumeric('abs', x);
/** x · x. */
export const square = (x: Tensor) => unaryNumeric('square', x);
/** max(x, 0). */
export const relu = (x: Tensor) => unaryNumeric('relu', x);
export const floor = (x: Tensor) => unaryNumeric('floor', x);
export const ceil = (x: Tensor) => unaryNumeric('ceil', x);

/** x == 0, as bool, for any dtype. */
export function logicalNot(x: Tensor): Tensor {
  x.assertLive('logicalNot');
  return run1('logicalNot', [x], { op: 'logicalNot' } satisfies UnaryAttrs);
}
