/**
 * @file quantLinear(x, qweight, bias?) = x @ W^T + bias for a weight-only quantized W [N, K]
 * (QuantizedWeight), x [..., K] of a float dtype; the result has x's dtype and shape [..., N].
 * Dispatched through the registry as op 'quantLinear' with the weight in its attributes, so a
 * backend registers its own kernel for it; on 'cpu' the WebAssembly kernel (wasm-kernel.ts)
 * dequantises inside the product, on 'reference' every weight is decoded to float64 first.
 * The target regime is decode: few rows (m <= 8), where the product streams the weight once.
 */
import { run1 } from '../../dispatch';
import { isFloat } from '../../dtype';
import { fmtShape, TensorError } from '../../errors';
import type { Tensor } from '../../tensor';
import { add } from '../binary/binary';
import { type QuantizedWeight, validateQuantizedWeight } from './quantized-weight';

export interface QuantLinearAttrs {
  weight: QuantizedWeight;
  /** Rows of x (product of all dimensions but the last). */
  m: number;
  k: number;
  n: number;
}

/** Weights already validated (their bytes are treated as constant, as the kernels' uploads are). */
const validated = new WeakSet<QuantizedWeight>();

export function quantLinear(x: Tensor, weight: QuantizedWeight, bias?: Tensor): Tensor {
  const op = 'quantLinear';
  x.assertLive(op);
  if (!validated.has(weight)) {
    validateQuantizedWeight(op, weight);
    validated.add(weight);
  }
  const [n, k] = weight.shape;
  if (!isFloat(x.dtype))
    throw new TensorError(op, `x must have a float dtype (f32, f16, bf16), got ${x.dtype}`);
  if (x.rank < 1 || x.shape[x.rank - 1] !== k) {
    throw new TensorError(
      op,
      `input ${fmtShape(x.shape)} must end in K = ${k} features (weight [${n}, ${k}])`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== n)) {
    throw new TensorError(op, `bias must have shape [${n}], got ${fmtShape(bias.shape)}`);
  }
  const m = x.size / k;
  const y = run1(op, [x], { weight, m, k, n } satisfies QuantLinearAttrs);
  if (!bias) return y;
  const out = add(y, bias);
  y.dispose();
  return out;
}
