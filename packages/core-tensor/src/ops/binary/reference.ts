/** @file Reference kernel for the elementwise binary ops: broadcast views, float64 math. */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { fmtShape, TensorError } from '../../errors';
import { Tensor } from '../../tensor';
import type { BinaryAttrs, BinaryOpName } from './binary';

const FNS: Record<BinaryOpName, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  pow: (x, y) => x ** y,
  maximum: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.max(x, y)),
  minimum: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.min(x, y)),
  eq: (x, y) => +(x === y),
  ne: (x, y) => +(x !== y),
  lt: (x, y) => +(x < y),
  le: (x, y) => +(x <= y),
  gt: (x, y) => +(x > y),
  ge: (x, y) => +(x >= y),
  logicalAnd: (x, y) => +(x !== 0 && y !== 0),
  logicalOr: (x, y) => +(x !== 0 || y !== 0),
};

const INT_DIV: Partial<Record<BinaryOpName, (x: number, y: number) => number>> = {
  // Integer division truncates toward zero, as in C and PyTorch's trunc mode.
  div: (x, y) => Math.trunc(x / y),
};

export function binaryReference([a, b]: Tensor[], { op, shape }: BinaryAttrs, backend: Backend): Tensor {
  const isCompare = !['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'].includes(op);
  const out = Tensor.empty(backend, shape, isCompare ? 'bool' : a.dtype);
  const av = a.expand(shape);
  const bv = b.expand(shape);
  const x = readF64(av);
  const y = readF64(bv);
  av.dispose();
  bv.dispose();
  const isInt = a.dtype === 'i32' || a.dtype === 'i8' || a.dtype === 'u8';
  const f = (isInt && INT_DIV[op]) || FNS[op];
  if (isInt && op === 'div') {
    // An integer has no Inf or NaN to hold x / 0 (PyTorch raises too).
    const at = y.indexOf(0);
    if (at >= 0) {
      throw new TensorError(
        op,
        `integer division by zero at flat index ${at} of the broadcast shape ${fmtShape(shape)} (a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}, ${a.dtype}); cast to a float dtype for IEEE division`,
      );
    }
  }
  const r = new Float64Array(x.length);
  for (let i = 0; i < r.length; i++) r[i] = f(x[i], y[i]);
  writeValues(out, r);
  return out;
}
