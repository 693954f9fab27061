/** @file Reference layernorm / rmsnorm: per row of the last dimension, float64 statistics. */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import type { NormAttrs } from './norm';

function params(inputs: Tensor[], { hasWeight, hasBias }: NormAttrs) {
  const w = hasWeight ? readF64(inputs[1]) : null;
  const b = hasBias ? readF64(inputs[hasWeight ? 2 : 1]) : null;
  return { w, b };
}

export function layernormReference(inputs: Tensor[], attrs: NormAttrs, backend: Backend): Tensor {
  const x = inputs[0];
  const out = Tensor.empty(backend, x.shape, x.dtype);
  const { w, b } = params(inputs, attrs);
  const v = readF64(x);
  const d = x.shape[x.rank - 1];
  for (let r = 0; r < v.length; r += d) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += v[r + j];
    mean /= d;
    let vr = 0;
    for (let j = 0; j < d; j++) vr += (v[r + j] - mean) ** 2;
    const inv = 1 / Math.sqrt(vr / d + attrs.eps);
    for (let j = 0; j < d; j++) v[r + j] = (v[r + j] - mean) * inv * (w ? w[j] : 1) + (b ? b[j] : 0);
  }
  writeValues(out, v);
  return out;
}

export function rmsnormReference(inputs: Tensor[], attrs: NormAttrs, backend: Backend): Tensor {
  const x = inputs[0];
  const out = Tensor.empty(backend, x.shape, x.dtype);
  const { w } = params(inputs, attrs);
  const v = readF64(x);
  const d = x.shape[x.rank - 1];
  for (let r = 0; r < v.length; r += d) {
    let ms = 0;
    for (let j = 0; j < d; j++) ms += v[r + j] * v[r + j];
    const inv = 1 / Math.sqrt(ms / d + attrs.eps);
    for (let j = 0; j < d; j++) v[r + j] = v[r + j] * inv * (w ? w[j] : 1);
  }
  writeValues(out, v);
  return out;
}
