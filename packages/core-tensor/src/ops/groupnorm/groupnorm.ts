/**
 * @file Group normalisation (Wu & He, arXiv:1803.08494), as torch.nn.GroupNorm: x [N, C, ...] is
 * split into G groups of C/G channels; each (n, group) is normalised over its channels and all
 * spatial positions with the biased variance, then scaled and shifted per channel:
 *
 *   y[n, c, s] = (x[n, c, s] − μ[n, g]) / sqrt(σ²[n, g] + eps) · weight[c] + bias[c],  g = ⌊c / (C/G)⌋
 *
 * weight and bias are [C] and optional. The reference computes the statistics in float64.
 */
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import { sizeOf } from '../../shape';
import type { Tensor } from '../../tensor';
import { assertFloatInput, assertSameDType } from '../checks';

export interface GroupnormAttrs {
  groups: number;
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
  /** Batch, channels, and positions per channel (product of the dimensions after C). */
  n: number;
  c: number;
  spatial: number;
}

export function groupnorm(x: Tensor, groups: number, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  const op = 'groupnorm';
  assertFloatInput(op, x, 'x');
  if (x.rank < 2) throw new TensorError(op, `x must be [batch, channels, ...], got ${fmtShape(x.shape)}`);
  const c = x.shape[1];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new TensorError(
      op,
      `groups must be a positive integer dividing the ${c} channels of x, got ${groups}`,
    );
  }
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new TensorError(op, `eps must be a finite number >= 0, got ${eps}`);
  }
  for (const [name, p] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (!p) continue;
    p.assertLive(op);
    assertSameDType(op, x, p, name);
    if (p.rank !== 1 || p.shape[0] !== c) {
      throw new TensorError(
        op,
        `${name} must be [${c}] (channels of x ${fmtShape(x.shape)}), got ${fmtShape(p.shape)}`,
      );
    }
  }
  const attrs: GroupnormAttrs = {
    groups,
    eps,
    hasWeight: !!weight,
    hasBias: !!bias,
    n: x.shape[0],
    c,
    spatial: sizeOf(x.shape.slice(2)),
  };
  return run1(op, [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])], attrs);
}
