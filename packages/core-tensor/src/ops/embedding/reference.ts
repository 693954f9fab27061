/** @file Reference embedding: check every id, then copy whole rows of raw storage values. */

import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { readF64 } from '../../backends/cpu-access';
import { fmtShape, TensorError } from '../../errors';
import { Tensor } from '../../tensor';

export function embeddingReference([weight, ids]: Tensor[], _attrs: object, backend: Backend): Tensor {
  const [V, H] = weight.shape;
  const id = readF64(ids);
  for (let i = 0; i < id.length; i++) {
    if (!(id[i] >= 0 && id[i] < V)) {
      throw new TensorError(
        'embedding',
        `id ${id[i]} at flat index ${i} of ids ${fmtShape(ids.shape)} is out of range for a vocabulary of ${V} rows (weight ${fmtShape(weight.shape)})`,
      );
    }
  }
  const out = Tensor.empty(backend, [...ids.shape, H], weight.dtype);
  const src = cpuStorage(weight);
  const dst = cpuStorage(out);
  const [rs, cs] = weight.strides;
  for (let i = 0; i < id.length; i++) {
    const row = weight.offset + id[i] * rs;
    for (let j = 0; j < H; j++) dst[i * H + j] = src[row + j * cs];
  }
  return out;
}
