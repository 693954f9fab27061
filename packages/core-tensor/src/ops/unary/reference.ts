/** @file Reference kernel for the elementwise unary ops: float64 math, one rounding to the output dtype. */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import { erfc } from './erf';
import type { UnaryAttrs, UnaryOpName } from './unary';

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

const FNS: Record<Exclude<UnaryOpName, 'gelu'>, (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  reciprocal: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid,
  silu: (x) => x * sigmoid(x),
  neg: (x) => -x,
  abs: Math.abs,
  square: (x) => x * x,
  relu: (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
  floor: Math.floor,
  ceil: Math.ceil,
  logicalNot: (x) => +(x === 0),
};

// Φ(x) = erfc(-x/√2)/2 keeps full relative accuracy for very negative x, where 1 + erf(x/√2) cancels.
const geluExact = (x: number) => 0.5 * x * erfc(-x * SQRT_HALF);
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));

export function unaryReference([x]: Tensor[], { op, approximate }: UnaryAttrs, backend: Backend): Tensor {
  const out = Tensor.empty(backend, x.shape, op === 'logicalNot' ? 'bool' : x.dtype);
  const f = op === 'gelu' ? (approximate === 'tanh' ? geluTanh : geluExact) : FNS[op];
  const v = readF64(x);
  for (let i = 0; i < v.length; i++) v[i] = f(v[i]);
  writeValues(out, v);
  return out;
}
