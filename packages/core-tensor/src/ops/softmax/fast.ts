/**
 * @file Fast f32 softmax / logSoftmax along the last axis for the 'cpu' backend, a row at a time
 * from storage with the input's strides. The reference's float64 steps (max, sum of shifted
 * exponentials, one rounding to f32), so the result equals it bit for bit; an all -Inf row throws
 * the reference's error for the same lane. Other axes and dtypes go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { lastStride, tensorRows } from '../../backends/cpu-rows';
import { fmtShape, TensorError } from '../../errors';
import { Tensor } from '../../tensor';
import { softmaxReference } from './reference';
import type { SoftmaxAttrs } from './softmax';

export function softmaxFast(inputs: Tensor[], attrs: SoftmaxAttrs, backend: Backend): Tensor {
  const [x] = inputs;
  const { axis, log } = attrs;
  if (x.dtype !== 'f32' || axis !== x.rank - 1) return softmaxReference(inputs, attrs, backend);
  const n = x.shape[axis];
  const X = cpuStorage(x) as Float32Array;
  const xs = lastStride(x);
  const rows = tensorRows(x);
  const out = Tensor.empty(backend, x.shape, 'f32');
  const O = cpuStorage(out) as Float32Array;
  const e = new Float64Array(n);
  if (n === 0) return out;
  for (let r = 0; r < rows.length; r++) {
    const xo = rows[r];
    const oo = r * n;
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, X[xo + j * xs]);
    if (m === -Infinity) {
      out.dispose();
      throw new TensorError(
        log ? 'logSoftmax' : 'softmax',
        `lane ${r} along axis ${axis} of input ${fmtShape(x.shape)} is all -Infinity; its softmax is undefined`,
      );
    }
    let s = 0;
    for (let j = 0; j < n; j++) {
      e[j] = Math.exp(X[xo + j * xs] - m);
      s += e[j];
    }
    if (log) {
      const logS = Math.log(s);
      for (let j = 0; j < n; j++) O[oo + j] = X[xo + j * xs] - m - logS;
    } else {
      for (let j = 0; j < n; j++) O[oo + j] = e[j] / s;
    }
  }
  return out;
}
