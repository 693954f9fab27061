/** @file Reference kernels for `copy` (strided gather of raw storage values) and `cast`. */
import { cpuStorage } from '../../backends/cpu';
import { readF64, stridedPositions, writeValues } from '../../backends/cpu-access';
import type { Backend } from '../../backend';
import { Tensor } from '../../tensor';
import type { CastAttrs } from './copy';

export function copyReference([t]: Tensor[], _attrs: object, backend: Backend): Tensor {
  const out = Tensor.empty(backend, t.shape, t.dtype);
  const src = cpuStorage(t);
  const dst = cpuStorage(out);
  const pos = stridedPositions(t);
  for (let i = 0; i < pos.length; i++) dst[i] = src[pos[i]]; // raw bits: exact for every dtype
  return out;
}

export function castReference([t]: Tensor[], { dtype }: CastAttrs, backend: Backend): Tensor {
  const out = Tensor.empty(backend, t.shape, dtype);
  writeValues(out, readF64(t));
  return out;
}
