/**
 * @file Fast f32 SiLU x·σ(x) (arXiv:1702.03118) for the 'cpu' backend, read a row at a time with the
 * input's strides. The same overflow-free float64 formula as the reference, one rounding to f32, so
 * the result equals it bit for bit. Other ops and dtypes go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { lastStride, tensorRows } from '../../backends/cpu-rows';
import { Tensor } from '../../tensor';
import { unaryReference } from './reference';
import type { UnaryAttrs } from './unary';

export function siluFast(inputs: Tensor[], attrs: UnaryAttrs, backend: Backend): Tensor {
  const [x] = inputs;
  if (x.dtype !== 'f32' || attrs.op !== 'silu') return unaryReference(inputs, attrs, backend);
  const n = x.rank ? x.shape[x.rank - 1] : 1;
  const X = cpuStorage(x) as Float32Array;
  const xs = lastStride(x);
  const rows = tensorRows(x);
  const out = Tensor.empty(backend, x.shape, 'f32');
  const O = cpuStorage(out) as Float32Array;
  for (let r = 0; r < rows.length; r++) {
    const xo = rows[r];
    const oo = r * n;
    for (let j = 0; j < n; j++) {
      const v = X[xo + j * xs];
      // σ(v) as the reference computes it: never exp of a large positive number.
      const e = Math.exp(-Math.abs(v));
      O[oo + j] = v >= 0 ? v * (1 / (1 + e)) : v * (e / (1 + e));
    }
  }
  return out;
}
