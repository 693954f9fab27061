/**
 * @file `copy` (materialise any view contiguously, used by Tensor.contiguous) and `cast` (convert
 * dtype: floats round to nearest even, float-to-int truncates toward zero, anything-to-bool is x != 0).
 */
import { run1 } from '../../dispatch';
import { assertDType, type DType } from '../../dtype';
import { TensorError } from '../../errors';
import type { Tensor } from '../../tensor';

export interface CastAttrs {
  dtype: DType;
}

export function cast(t: Tensor, dtype: DType): Tensor {
  assertDType(dtype, 'cast');
  t.assertLive('cast');
  if (t.dtype === dtype) return t.contiguous();
  return run1('cast', [t], { dtype } satisfies CastAttrs);
}

/** Always a new contiguous storage (unlike Tensor.contiguous, which may return a view). */
export function clone(t: Tensor): Tensor {
  t.assertLive('clone');
  if (t.size === 0) throw new TensorError('clone', 'cannot clone an empty tensor');
  return run1('copy', [t]);
}
