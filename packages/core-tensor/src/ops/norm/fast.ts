/**
 * @file Fast f32 RMSNorm (arXiv:1910.07467) for the 'cpu' backend: x / sqrt(mean(x²) + eps) · weight
 * per row of the last dimension, read straight from storage with x's strides. The sum of squares and
 * the products are float64 (JS numbers) in the reference's order, rounded once to f32, so the result
 * equals the reference bit for bit. Other dtypes go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { lastStride, tensorRows } from '../../backends/cpu-rows';
import { Tensor } from '../../tensor';
import type { NormAttrs } from './norm';
import { rmsnormReference } from './reference';

export function rmsnormFast(inputs: Tensor[], attrs: NormAttrs, backend: Backend): Tensor {
  const [x, w] = inputs;
  if (x.dtype !== 'f32' || !attrs.hasWeight) return rmsnormReference(inputs, attrs, backend);
  const n = x.shape[x.rank - 1];
  const X = cpuStorage(x) as Float32Array;
  const W = cpuStorage(w) as Float32Array;
  const ws = w.strides[0];
  const xs = lastStride(x);
  const rows = tensorRows(x);
  const out = Tensor.empty(backend, x.shape, 'f32');
  const O = cpuStorage(out) as Float32Array;
  for (let r = 0; r < rows.length; r++) {
    const xo = rows[r];
    const oo = r * n;
    let ms = 0;
    for (let j = 0; j < n; j++) {
      const a = X[xo + j * xs];
      ms += a * a;
    }
    const inv = 1 / Math.sqrt(ms / n + attrs.eps);
    for (let j = 0; j < n; j++) O[oo + j] = X[xo + j * xs] * inv * W[w.offset + j * ws];
  }
  return out;
}
