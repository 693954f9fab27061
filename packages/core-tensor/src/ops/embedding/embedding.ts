/**
 * @file Embedding lookup: weight [V, H] gathered at i32 ids of any shape, giving [...ids.shape, H]
 * in weight's dtype (rows are copied bit for bit). An id outside [0, V) throws, naming it and V.
 */
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import type { Tensor } from '../../tensor';
import { assertDTypeIn } from '../checks';

export function embedding(weight: Tensor, ids: Tensor): Tensor {
  const op = 'embedding';
  weight.assertLive(op);
  assertDTypeIn(op, ids, ['i32'], 'ids');
  if (weight.rank !== 2)
    throw new TensorError(op, `weight must be [vocab, hidden], got ${fmtShape(weight.shape)}`);
  return run1(op, [weight, ids]);
}
