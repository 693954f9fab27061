/**
 * @file Elementwise binary ops with NumPy broadcasting. Arithmetic keeps the input dtype; the
 * comparisons return `bool`. Inputs must share a dtype (cast first); a JS number operand takes the
 * tensor's dtype and must be a value of it (scalar.ts). Integer arithmetic wraps like the typed
 * array (two's complement), integer division truncates toward zero, and an integer division by
 * zero throws.
 */

import { run1 } from '../../dispatch';
import { TensorError } from '../../errors';
import { broadcastShapes } from '../../shape';
import type { Tensor } from '../../tensor';
import { scalar } from '../scalar';

export const ARITHMETIC_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
export const COMPARISON_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'] as const;
export type BinaryOpName = (typeof ARITHMETIC_OPS)[number] | (typeof COMPARISON_OPS)[number];

export interface BinaryAttrs {
  op: BinaryOpName;
  /** Broadcast output shape (validated before dispatch). */
  shape: number[];
}

function binary(op: BinaryOpName, a: Tensor, b: Tensor | number): Tensor {
  a.assertLive(op);
  let bt: Tensor;
  let owned = false;
  if (typeof b === 'number') {
    bt = scalar(op, b, a.dtype, a.device);
    owned = true;
  } else {
    bt = b;
    bt.assertLive(op);
    if (a.dtype !== bt.dtype) {
      throw new TensorError(
        op,
        `dtypes differ (${a.dtype} and ${bt.dtype}); cast one with cast(t, dtype) first`,
      );
    }
  }
  try {
    const shape = broadcastShapes(op, a.shape, bt.shape);
    return run1(op, [a, bt], { op, shape } satisfies BinaryAttrs);
  } finally {
    if (owned) bt.dispose();
  }
}

export const add = (a: Tensor, b: Tensor | number) => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor | number) => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor | number) => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor | number) => binary('div', a, b);
export const pow = (a: Tensor, b: Tensor | number) => binary('pow', a, b);
export const maximum = (a: Tensor, b: Tensor | number) => binary('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor | number) => binary('minimum', a, b);
export const eq = (a: Tensor, b: Tensor | number) => binary('eq', a, b);
export const ne = (a: Tensor, b: Tensor | number) => binary('ne', a, b);
export const lt = (a: Tensor, b: Tensor | number) => binary('lt', a, b);
export const le = (a: Tensor, b: Tensor | number) => binary('le', a, b);
export const gt = (a: Tensor, b: Tensor | number) => binary('gt', a, b);
export const ge = (a: Tensor, b: Tensor | number) => binary('ge', a, b);
export const logicalAnd = (a: Tensor, b: Tensor | number) => binary('logicalAnd', a, b);
export const logicalOr = (a: Tensor, b: Tensor | number) => binary('logicalOr', a, b);
