/**
 * @file `copy` (materialise any view contiguously, used by Tensor.contiguous) and `cast` (convert
 * dtype):
 * - between float dtypes: round to nearest even, bit for bit (NaN payloads kept, see f16.ts);
 * - float to integer: truncate toward zero; NaN, ±Inf and values outside the integer dtype's range
 *   throw (C leaves them undefined and PyTorch returns platform-dependent garbage);
 * - integer to integer: two's-complement wrap, as C and PyTorch do (i32 300 -> u8 44);
 * - anything to bool: x != 0 (NaN is true); bool to anything: 0 or 1.
 */
import { run1 } from '../../dispatch';
import { assertDType, type DType } from '../../dtype';
import { fmtShape } from '../../errors';
import type { Tensor } from '../../tensor';

export interface CastAttrs {
  dtype: DType;
}

export function cast(t: Tensor, dtype: DType): Tensor {
  t.assertLive('cast');
  assertDType('cast', dtype, () => `for input ${fmtShape(t.shape)} (${t.dtype})`);
  if (t.dtype === dtype) return t.contiguous();
  return run1('cast', [t], { dtype } satisfies CastAttrs);
}

/** Always a new contiguous storage (unlike Tensor.contiguous, which may return a view). */
export function clone(t: Tensor): Tensor {
  t.assertLive('clone');
  return run1('copy', [t]);
}
