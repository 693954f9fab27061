/** @file Reference cumsum: one float64 running sum per lane. */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import { forEachLane } from '../lanes';
import type { CumsumAttrs } from './cumsum';

export function cumsumReference([t]: Tensor[], { axis, dtype }: CumsumAttrs, backend: Backend): Tensor {
  const out = Tensor.empty(backend, t.shape, dtype);
  const v = readF64(t);
  forEachLane(t.shape, axis, (base, stride, n) => {
    let s = 0;
    for (let j = 0; j < n; j++) {
      s += v[base + j * stride];
      v[base + j * stride] = s;
    }
  });
  writeValues(out, v);
  return out;
}
