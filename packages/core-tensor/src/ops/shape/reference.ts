/** @file Reference concat: copy each input's raw values into its block of the contiguous output. */

import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { stridedPositions } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import { lanesOf } from '../lanes';
import type { ConcatAttrs } from './concat';

export function concatReference(inputs: Tensor[], { axis, shape }: ConcatAttrs, backend: Backend): Tensor {
  const out = Tensor.empty(backend, shape, inputs[0].dtype);
  const dst = cpuStorage(out);
  const { inner, n: total } = lanesOf(shape, axis);
  let at = 0; // start of this input along the axis
  for (const t of inputs) {
    const src = cpuStorage(t);
    const pos = stridedPositions(t);
    const block = t.shape[axis] * inner; // one outer row of this input
    for (let i = 0; i < pos.length; i++) {
      const o = Math.floor(i / block);
      dst[o * total * inner + at * inner + (i % block)] = src[pos[i]];
    }
    at += t.shape[axis];
  }
  return out;
}
