/**
 * @file topk: the k largest values along an axis (default: the last), sorted descending, with their
 * i32 indices. Ties go to the lower index; NaN counts as larger than every number (as PyTorch).
 */
import { runKernel } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import { normalizeAxis } from '../../shape';
import type { Tensor } from '../../tensor';
import { assertDTypeIn } from '../checks';

export interface TopkAttrs {
  k: number;
  axis: number;
}

export function topk(t: Tensor, k: number, axis = -1): { values: Tensor; indices: Tensor } {
  const op = 'topk';
  assertDTypeIn(op, t, ['f32', 'f16', 'bf16', 'i32', 'i8', 'u8']);
  const ax = normalizeAxis(op, axis, t.rank);
  const n = t.shape[ax];
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new TensorError(
      op,
      `k must be an integer in 0..${n} (axis ${axis} of input ${fmtShape(t.shape)}), got ${k}`,
    );
  }
  const [values, indices] = runKernel(op, [t], { k, axis: ax } satisfies TopkAttrs) as Tensor[];
  return { values, indices };
}
