/**
 * @file Normalisation over the last dimension.
 * - layernorm (arXiv:1607.06450): (x - mean) / sqrt(var + eps) · weight + bias, biased variance, as
 *   torch.nn.LayerNorm; weight and bias are optional.
 * - rmsnorm (arXiv:1910.07467): x / sqrt(mean(x²) + eps) · weight, as Hugging Face's LlamaRMSNorm.
 *   The reference computes in float64 and rounds once; HF rounds to the input dtype before the weight
 *   multiply, which differs by at most one rounding in f16/bf16.
 * weight and bias are [D] (D = last dimension) and share x's dtype.
 */
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import type { Tensor } from '../../tensor';
import { assertFloatInput, assertSameDType } from '../checks';

export interface NormAttrs {
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

function checkParam(op: string, x: Tensor, p: Tensor, name: string): void {
  p.assertLive(op);
  assertSameDType(op, x, p, name);
  const d = x.shape[x.rank - 1];
  if (p.rank !== 1 || p.shape[0] !== d) {
    throw new TensorError(
      op,
      `${name} must be [${d}] (the last dimension of input ${fmtShape(x.shape)}), got ${fmtShape(p.shape)}`,
    );
  }
}

function checkEps(op: string, eps: number): void {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new TensorError(op, `eps must be a finite number >= 0, got ${eps}`);
  }
}

function checkInput(op: string, x: Tensor): void {
  assertFloatInput(op, x);
  if (x.rank === 0 || x.shape[x.rank - 1] === 0) {
    throw new TensorError(
      op,
      `input ${fmtShape(x.shape)} needs a non-empty last dimension to normalise over`,
    );
  }
}

export function layernorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  const op = 'layernorm';
  checkInput(op, x);
  if (weight) checkParam(op, x, weight, 'weight');
  if (bias) checkParam(op, x, bias, 'bias');
  checkEps(op, eps);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return run1(op, inputs, { eps, hasWeight: !!weight, hasBias: !!bias } satisfies NormAttrs);
}

export function rmsnorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const op = 'rmsnorm';
  checkInput(op, x);
  if (!weight) throw new TensorError(op, 'weight is required');
  checkParam(op, x, weight, 'weight');
  checkEps(op, eps);
  return run1(op, [x, weight], { eps, hasWeight: true, hasBias: false } satisfies NormAttrs);
}
