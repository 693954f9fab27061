/**
 * @file Reductions over one axis, several axes, or all of them (`axis` undefined), with `keepdims`.
 * - sum: float dtypes keep their dtype; integer and bool inputs sum into i32.
 * - mean, logsumexp: float dtypes only. logsumexp is max-shifted, so it never overflows.
 * - max, min: any numeric dtype; a NaN in the reduced set gives NaN (as PyTorch).
 * - argmax: i32 index of the first maximum, counted row-major over the reduced axes (over all axes
 *   it is the flat index); a NaN counts as the maximum (as PyTorch).
 * Reducing over an empty axis is an error except for sum (which gives 0).
 */
import { run1 } from '../../dispatch';
import { type DType, isFloat } from '../../dtype';
import { fmtShape, TensorError } from '../../errors';
import type { Tensor } from '../../tensor';
import { assertDTypeIn, assertFloatInput, normalizeAxes } from '../checks';

export const REDUCE_OPS = ['sum', 'mean', 'max', 'min', 'argmax', 'logsumexp'] as const;
export type ReduceOpName = (typeof REDUCE_OPS)[number];
export type Axis = number | readonly number[] | undefined;

export interface ReduceAttrs {
  op: ReduceOpName;
  /** Reduced axes, normalised and sorted. */
  axes: number[];
  keepdims: boolean;
  /** Output shape. */
  shape: number[];
  dtype: DType;
}

const NUMERIC: readonly DType[] = ['f32', 'f16', 'bf16', 'i32', 'i8', 'u8'];

function reduce(op: ReduceOpName, t: Tensor, axis: Axis, keepdims: boolean): Tensor {
  if (op === 'mean' || op === 'logsumexp') assertFloatInput(op, t);
  else if (op === 'sum') t.assertLive(op);
  else assertDTypeIn(op, t, NUMERIC);
  if (typeof keepdims !== 'boolean')
    throw new TensorError(op, `keepdims must be a boolean, got ${String(keepdims)}`);
  const axes = normalizeAxes(op, axis, t.rank);
  if (op !== 'sum' && axes.some((a) => t.shape[a] === 0)) {
    throw new TensorError(
      op,
      `cannot reduce over an empty axis (input ${fmtShape(t.shape)}, axes ${fmtShape(axes)})`,
    );
  }
  const shape = keepdims
    ? t.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : t.shape.filter((_, i) => !axes.includes(i));
  const dtype: DType = op === 'argmax' || (op === 'sum' && !isFloat(t.dtype)) ? 'i32' : t.dtype;
  return run1(op, [t], { op, axes, keepdims, shape, dtype } satisfies ReduceAttrs);
}

export const sum = (t: Tensor, axis?: Axis, keepdims = false) => reduce('sum', t, axis, keepdims);
export const mean = (t: Tensor, axis?: Axis, keepdims = false) => reduce('mean', t, axis, keepdims);
export const max = (t: Tensor, axis?: Axis, keepdims = false) => reduce('max', t, axis, keepdims);
export const min = (t: Tensor, axis?: Axis, keepdims = false) => reduce('min', t, axis, keepdims);
export const argmax = (t: Tensor, axis?: Axis, keepdims = false) => reduce('argmax', t, axis, keepdims);
/** log Σ exp(x), computed as m + log Σ exp(x - m) with m the maximum. */
export const logsumexp = (t: Tensor, axis?: Axis, keepdims = false) => reduce('logsumexp', t, axis, keepdims);
