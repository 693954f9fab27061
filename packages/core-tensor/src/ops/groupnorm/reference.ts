/** @file Reference groupnorm: per (item, group), float64 mean and biased variance, then the affine map. */
import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import type { GroupnormAttrs } from './groupnorm';

export function groupnormReference(inputs: Tensor[], a: GroupnormAttrs, backend: Backend): Tensor {
  const x = inputs[0];
  const w = a.hasWeight ? readF64(inputs[1]) : null;
  const b = a.hasBias ? readF64(inputs[a.hasWeight ? 2 : 1]) : null;
  const v = readF64(x);
  const per = a.c / a.groups;
  const len = per * a.spatial; // one group of one item is contiguous in row-major order
  for (let start = 0; start < v.length; start += len) {
    let mean = 0;
    for (let k = 0; k < len; k++) mean += v[start + k];
    mean /= len;
    let vr = 0;
    for (let k = 0; k < len; k++) vr += (v[start + k] - mean) ** 2;
    const inv = 1 / Math.sqrt(vr / len + a.eps);
    const c0 = ((start / len) % a.groups) * per;
    for (let k = 0; k < len; k++) {
      const ch = c0 + Math.floor(k / a.spatial);
      v[start + k] = (v[start + k] - mean) * inv * (w ? w[ch] : 1) + (b ? b[ch] : 0);
    }
  }
  const out = Tensor.empty(backend, x.shape, x.dtype);
  writeValues(out, v);
  return out;
}
