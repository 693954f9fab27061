/** @file Reference softmax / logSoftmax: per lane, max, then float64 sum of shifted exponentials. */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { fmtShape, TensorError } from '../../errors';
import { Tensor } from '../../tensor';
import { forEachLane } from '../lanes';
import type { SoftmaxAttrs } from './softmax';

export function softmaxReference([x]: Tensor[], { axis, log }: SoftmaxAttrs, backend: Backend): Tensor {
  const v = readF64(x);
  const r = new Float64Array(v.length);
  let lane = 0;
  forEachLane(x.shape, axis, (base, stride, n) => {
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, v[base + j * stride]);
    if (m === -Infinity && n > 0) {
      const op = log ? 'logSoftmax' : 'softmax';
      throw new TensorError(
        op,
        `lane ${lane} along axis ${axis} of input ${fmtShape(x.shape)} is all -Infinity; its softmax is undefined`,
      );
    }
    lane++;
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(v[base + j * stride] - m);
    const logS = Math.log(s);
    for (let j = 0; j < n; j++) {
      const d = v[base + j * stride] - m;
      r[base + j * stride] = log ? d - logS : Math.exp(d) / s;
    }
  });
  const out = Tensor.empty(backend, x.shape, x.dtype);
  writeValues(out, r);
  return out;
}
