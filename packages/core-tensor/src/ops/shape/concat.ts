/**
 * @file concat (join along an existing axis) and stack (join along a new axis). Inputs share dtype,
 * rank and every dimension except the joined one; the result is a new contiguous tensor. stack is
 * unsqueeze views plus one concat.
 */
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import { normalizeAxis, shapesEqual } from '../../shape';
import type { Tensor } from '../../tensor';

export interface ConcatAttrs {
  axis: number;
  /** Output shape. */
  shape: number[];
}

function checkList(op: string, ts: readonly Tensor[]): void {
  if (!Array.isArray(ts) || ts.length === 0) throw new TensorError(op, 'needs a non-empty array of tensors');
  for (const t of ts) t.assertLive(op);
  const bad = ts.find((t) => t.dtype !== ts[0].dtype);
  if (bad) {
    throw new TensorError(
      op,
      `all inputs must share a dtype; got ${ts.map((t) => t.dtype).join(', ')} (cast first)`,
    );
  }
}

export function concat(ts: readonly Tensor[], axis: number): Tensor {
  const op = 'concat';
  checkList(op, ts);
  const rank = ts[0].rank;
  const shapes = () => ts.map((t) => fmtShape(t.shape)).join(', ');
  if (ts.some((t) => t.rank !== rank))
    throw new TensorError(op, `all inputs must have the same rank; got ${shapes()}`);
  const ax = normalizeAxis(op, axis, rank);
  const mismatch = ts.some((t) => t.shape.some((d, i) => i !== ax && d !== ts[0].shape[i]));
  if (mismatch) throw new TensorError(op, `shapes ${shapes()} must match except along axis ${axis}`);
  const shape = ts[0].shape.slice();
  shape[ax] = ts.reduce((s, t) => s + t.shape[ax], 0);
  return run1(op, [...ts], { axis: ax, shape } satisfies ConcatAttrs);
}

export function stack(ts: readonly Tensor[], axis: number): Tensor {
  const op = 'stack';
  checkList(op, ts);
  if (ts.some((t) => !shapesEqual(t.shape, ts[0].shape))) {
    throw new TensorError(
      op,
      `all inputs must have the same shape; got ${ts.map((t) => fmtShape(t.shape)).join(', ')}`,
    );
  }
  const ax = normalizeAxis(op, axis, ts[0].rank + 1);
  const views = ts.map((t) => t.unsqueeze(ax));
  try {
    return concat(views, ax);
  } finally {
    for (const v of views) v.dispose();
  }
}
