/**
 * @file Reference paged attention: gather each row's keys and values from its blocks into dense
 * [B, Hkv, T, D] tensors, then run sdpa's reference kernel on them. The definition, in code.
 */
import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import { sdpaReference } from '../sdpa/reference';
import { readBlockTable } from './block-table';
import type { PagedSdpaAttrs } from './paged-sdpa';

/** Positions 0..T-1 of every row of `pool` [N, H, blockSize, D], in row order: [B, H, T, D]. */
function gather(pool: Tensor, blocks: Int32Array, B: number, T: number, backend: Backend): Tensor {
  const [, H, bs, D] = pool.shape;
  const P = readF64(pool); // row-major [N, H, bs, D]
  const used = blocks.length / B;
  const out = new Float64Array(B * H * T * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const block = blocks[b * used + Math.floor(t / bs)];
        const src = ((block * H + h) * bs + (t % bs)) * D;
        const dst = ((b * H + h) * T + t) * D;
        for (let d = 0; d < D; d++) out[dst + d] = P[src + d];
      }
    }
  }
  const dense = Tensor.empty(backend, [B, H, T, D], pool.dtype);
  writeValues(dense, out);
  return dense;
}

export function pagedSdpaReference(inputs: Tensor[], attrs: PagedSdpaAttrs, backend: Backend): Tensor {
  const [q, keys, values, table] = inputs;
  const { length: T, blockSize, causal, scale, hasMask } = attrs;
  const B = q.shape[0];
  const blocks = readBlockTable(table, Math.ceil(T / blockSize), keys.shape[0]);
  const k = gather(keys, blocks, B, T, backend);
  const v = gather(values, blocks, B, T, backend);
  const dense = hasMask ? [q, k, v, inputs[4]] : [q, k, v];
  const out = sdpaReference(dense, { causal, scale, hasMask }, backend);
  k.dispose();
  v.dispose();
  return out;
}
