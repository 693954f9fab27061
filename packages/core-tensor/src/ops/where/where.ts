/**
 * @file where(cond, a, b): a where cond is true, else b, with NumPy broadcasting of all three.
 * maskedFill(t, mask, value): t with `value` where mask is true; mask broadcasts to t's shape.
 * cond and mask are bool; a and b share a dtype, and a JS number takes the other operand's dtype.
 */
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import { broadcastShapes, shapesEqual } from '../../shape';
import type { Tensor } from '../../tensor';
import { assertDTypeIn } from '../checks';
import { scalar } from '../scalar';

export interface WhereAttrs {
  /** Broadcast output shape. */
  shape: number[];
}

export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return select('where', cond, a, b);
}

/** where() under the name of the op the user called, so errors name it. */
function select(op: string, cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  assertDTypeIn(op, cond, ['bool'], 'cond');
  if (typeof a === 'number' && typeof b === 'number') {
    throw new TensorError(op, 'a and b cannot both be numbers: pass at least one tensor to give the dtype');
  }
  const owned: Tensor[] = [];
  try {
    const ref = (typeof a === 'number' ? b : a) as Tensor;
    ref.assertLive(op);
    const asTensor = (v: Tensor | number): Tensor => {
      if (typeof v !== 'number') return v;
      const s = scalar(op, v, ref.dtype, ref.device);
      owned.push(s);
      return s;
    };
    const at = asTensor(a);
    const bt = asTensor(b);
    at.assertLive(op);
    bt.assertLive(op);
    if (at.dtype !== bt.dtype) {
      throw new TensorError(
        op,
        `a and b must share a dtype, got ${at.dtype} and ${bt.dtype}; cast one with cast(t, dtype) first`,
      );
    }
    const shape = broadcastShapes(op, broadcastShapes(op, cond.shape, at.shape), bt.shape);
    return run1('where', [cond, at, bt], { shape } satisfies WhereAttrs);
  } finally {
    for (const t of owned) t.dispose();
  }
}

export function maskedFill(t: Tensor, mask: Tensor, value: number): Tensor {
  const op = 'maskedFill';
  t.assertLive(op);
  assertDTypeIn(op, mask, ['bool'], 'mask');
  if (typeof value !== 'number') throw new TensorError(op, `value must be a number, got ${typeof value}`);
  if (!shapesEqual(broadcastShapes(op, t.shape, mask.shape), t.shape)) {
    throw new TensorError(
      op,
      `mask ${fmtShape(mask.shape)} must broadcast to the input's shape ${fmtShape(t.shape)}`,
    );
  }
  return select(op, mask, value, t);
}
