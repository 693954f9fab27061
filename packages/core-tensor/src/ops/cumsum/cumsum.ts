/**
 * @file cumsum: running sums along an axis, accumulated in float64. Float inputs keep their dtype;
 * integer and bool inputs give i32 (PyTorch gives int64; i32 wraps past 2^31 - 1).
 */
import { run1 } from '../../dispatch';
import { type DType, isFloat } from '../../dtype';
import { normalizeAxis } from '../../shape';
import type { Tensor } from '../../tensor';

export interface CumsumAttrs {
  axis: number;
  dtype: DType;
}

export function cumsum(t: Tensor, axis: number): Tensor {
  const op = 'cumsum';
  t.assertLive(op);
  const ax = normalizeAxis(op, axis, t.rank);
  return run1(op, [t], { axis: ax, dtype: isFloat(t.dtype) ? t.dtype : 'i32' } satisfies CumsumAttrs);
}
