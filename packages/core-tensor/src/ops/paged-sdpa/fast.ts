/**
 * @file Fast f32 paged attention for the 'cpu' backend (PagedAttention, arXiv:2309.06180). Per batch
 * row it first turns the block table into the storage offset of every key and value position
 * (T integers), then runs the contiguous kernel's loops (ops/sdpa/attention-rows.ts) with those
 * offsets in place of `j · stride`: no gather, no copy of the cache, and each key row is still D
 * contiguous floats, so the inner loops are the same unit-stride loops.
 *
 * The arithmetic is the contiguous kernel's, in the same order: each score is one float64 dot
 * product summed over d in order, then · scale; max-shifted exp weights summed in key order; values
 * accumulated in float64 four keys at a time over groups aligned at key 0 (one key at a time in a
 * group holding a zero weight, and in the tail); one division and one f32 rounding at the end.
 * So on the same keys, values and mask, paged and contiguous attention agree bit for bit, whatever
 * the block size and however the blocks are scattered or shared. Rows with a NaN or +Inf score, or
 * only -Inf ones, are NaN; a row that may attend to no key is zero (as in sdpa).
 * Other dtypes, or pools whose rows are not unit-stride, go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import type { Tensor } from '../../tensor';
import { attendF32 } from '../sdpa/attention-rows';
import { readBlockTable } from './block-table';
import type { PagedSdpaAttrs } from './paged-sdpa';
import { pagedSdpaReference } from './reference';

/**
 * at[j] = storage offset of position j (head 0) of one row: offset + block · blockStride +
 * slot · posStride, walking the row's blocks.
 */
function positionOffsets(
  at: Int32Array,
  blocks: Int32Array,
  first: number,
  T: number,
  bs: number,
  offset: number,
  blockStride: number,
  posStride: number,
): void {
  for (let i = 0, j = 0; j < T; i++) {
    const base = offset + blocks[first + i] * blockStride;
    for (let s = 0; s < bs && j < T; s++, j++) at[j] = base + s * posStride;
  }
}

export function pagedSdpaFast(inputs: Tensor[], attrs: PagedSdpaAttrs, backend: Backend): Tensor {
  const [q, keys, vals, table] = inputs;
  if (q.dtype !== 'f32' || keys.strides[3] !== 1 || vals.strides[3] !== 1) {
    return pagedSdpaReference(inputs, attrs, backend);
  }
  const { causal, scale, hasMask, length: T, blockSize: bs } = attrs;
  const [N, Hkv] = keys.shape;
  const used = Math.ceil(T / bs);
  const blocks = readBlockTable(table, used, N);
  const K = cpuStorage(keys) as Float32Array;
  const V = cpuStorage(vals) as Float32Array;
  const [kn, kh, kt] = keys.strides;
  const [vn, vh, vt] = vals.strides;
  const mask = hasMask ? inputs[4] : null;
  const kAt = new Int32Array(T);
  const vAt = new Int32Array(T);
  let row = -1; // the batch row whose offsets kAt and vAt hold
  const a = { q, K, V, kd: 1, vd: 1, Hkv, T, Dv: vals.shape[3], mask, causal, scale };
  return attendF32(a, backend, (b, kvh) => {
    if (b !== row) {
      positionOffsets(kAt, blocks, b * used, T, bs, keys.offset, kn, kt);
      positionOffsets(vAt, blocks, b * used, T, bs, vals.offset, vn, vt);
      row = b;
    }
    return { kAt, kHead: kvh * kh, vAt, vHead: kvh * vh };
  });
}
