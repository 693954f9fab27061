/**
 * @file Fast f32 groupnorm for the 'cpu' backend (formula in groupnorm.ts): reads contiguous f32
 * input in place (others are copied once), float64 statistics in the reference's order, and writes
 * each output once; it matches the reference up to the final f32 rounding of the affine step.
 * Other dtypes go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { readF32 } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import type { GroupnormAttrs } from './groupnorm';
import { groupnormReference } from './reference';

export function groupnormFast(inputs: Tensor[], a: GroupnormAttrs, backend: Backend): Tensor {
  const x = inputs[0];
  if (x.dtype !== 'f32') return groupnormReference(inputs, a, backend);
  const X = readF32(x);
  const w = a.hasWeight ? readF32(inputs[1]) : null;
  const b = a.hasBias ? readF32(inputs[a.hasWeight ? 2 : 1]) : null;
  const out = Tensor.empty(backend, x.shape, 'f32');
  const O = cpuStorage(out) as Float32Array;
  const per = a.c / a.groups;
  const len = per * a.spatial;
  for (let start = 0, g = 0; start < X.length; start += len, g++) {
    let mean = 0;
    for (let k = 0; k < len; k++) mean += X[start + k];
    mean /= len;
    let vr = 0;
    for (let k = 0; k < len; k++) {
      const d = X[start + k] - mean;
      vr += d * d;
    }
    const inv = 1 / Math.sqrt(vr / len + a.eps);
    const c0 = (g % a.groups) * per;
    for (let ci = 0; ci < per; ci++) {
      const scale = inv * (w ? w[c0 + ci] : 1);
      const shift = b ? b[c0 + ci] : 0;
      const base = start + ci * a.spatial;
      for (let s = 0; s < a.spatial; s++) O[base + s] = (X[base + s] - mean) * scale + shift;
    }
  }
  return out;
}
