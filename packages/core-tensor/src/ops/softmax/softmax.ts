/**
 * @file softmax and logSoftmax along one axis (default: the last), float dtypes only. Both subtract
 * the lane maximum first, so large logits never overflow. A lane whose entries are all -Inf has no
 * distribution: PyTorch returns NaN there silently; the reference kernel throws, naming the lane.
 */
import { run1 } from '../../dispatch';
import { normalizeAxis } from '../../shape';
import type { Tensor } from '../../tensor';
import { assertFloatInput } from '../checks';

export interface SoftmaxAttrs {
  axis: number;
  log: boolean;
}

function softmaxOp(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  assertFloatInput(op, x);
  const ax = normalizeAxis(op, axis, x.rank);
  return run1(op, [x], { axis: ax, log: op === 'logSoftmax' } satisfies SoftmaxAttrs);
}

/** exp(x - max) / Σ exp(x - max) along `axis`. */
export const softmax = (x: Tensor, axis = -1) => softmaxOp('softmax', x, axis);
/** x - max - log Σ exp(x - max) along `axis`. */
export const logSoftmax = (x: Tensor, axis = -1) => softmaxOp('logSoftmax', x, axis);
