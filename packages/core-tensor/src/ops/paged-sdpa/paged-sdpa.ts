/**
 * @file Paged attention (PagedAttention, vLLM: arXiv:2309.06180): the same scaled dot-product
 * attention as `sdpa` (arXiv:1706.03762; GQA arXiv:2305.13245), with keys and values read from a
 * block pool through a block table instead of one dense buffer per sequence.
 *
 * - q [B, Hq, S, D] as in sdpa.
 * - keys [N, Hkv, blockSize, D], values [N, Hkv, blockSize, Dv]: a pool of N physical blocks of
 *   `blockSize` positions each (one layer's share of a paged KV cache), with any strides (@hasten/kv
 *   stores its pool head-major, [Hkv, N, blockSize, D], and passes this permuted view).
 * - blockTable i32 [B, M]: logical block i of row b (positions i·blockSize .. (i+1)·blockSize - 1)
 *   lives in physical block blockTable[b, i]. Rows may share physical blocks (a forked prompt).
 * - length T: key positions per row, T <= M · blockSize; only the first ceil(T / blockSize) entries
 *   of each row are read, and only the first T positions of those blocks.
 * - causal, mask, scale: as in sdpa, against T keys.
 *
 * pagedSdpa(q, { keys, values, blockTable, length: T }, o) equals sdpa(q, K, V, o) where K, V
 * [B, Hkv, T, D] gather each row's positions from its blocks in order; the reference kernel is that
 * gather followed by sdpa's reference kernel.
 */
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import { Tensor } from '../../tensor';
import { assertDTypeIn, assertFloatInput, assertSameDType, parseOptions } from '../checks';
import { AttentionOptions, assertHeadGroups, attentionAttrs } from '../sdpa/attention-options';

/** One layer of a paged KV cache, as the attention reads it (`KVCache.attentionView`). */
export interface PagedKV {
  /** Key blocks [N, Hkv, blockSize, D]. */
  keys: Tensor;
  /** Value blocks [N, Hkv, blockSize, Dv]. */
  values: Tensor;
  /** i32 [B, M]: the physical block of each row's logical block. */
  blockTable: Tensor;
  /** Key positions per row (the same for every row), at most M · blockSize. */
  length: number;
}

export type PagedSdpaOptions = AttentionOptions;

export interface PagedSdpaAttrs {
  causal: boolean;
  scale: number;
  /** When true, inputs[4] is the bool mask (broadcastable to [B, Hq, S, length]). */
  hasMask: boolean;
  /** Key positions per row (T). */
  length: number;
  blockSize: number;
}

export function pagedSdpa(q: Tensor, kv: PagedKV, opts?: PagedSdpaOptions): Tensor {
  const op = 'pagedSdpa';
  const { keys: k, values: v, blockTable: table, length: T } = kv ?? ({} as PagedKV);
  if (!(k instanceof Tensor) || !(v instanceof Tensor) || !(table instanceof Tensor)) {
    throw new TensorError(op, 'kv must be { keys, values, blockTable, length } with three Tensors');
  }
  assertFloatInput(op, q, 'q');
  assertFloatInput(op, k, 'keys');
  assertFloatInput(op, v, 'values');
  assertSameDType(op, q, k, 'keys');
  assertSameDType(op, q, v, 'values');
  assertDTypeIn(op, table, ['i32'], 'blockTable');
  const o = parseOptions(op, AttentionOptions, opts);
  const shapes = `q ${fmtShape(q.shape)}, keys ${fmtShape(k.shape)}, values ${fmtShape(v.shape)}, blockTable ${fmtShape(table.shape)}`;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4 || table.rank !== 2) {
    throw new TensorError(
      op,
      `expected q [B, Hq, S, D], keys/values [blocks, Hkv, blockSize, D] and blockTable [B, maxBlocks]; got ${shapes}`,
    );
  }
  const [B, Hq, , D] = q.shape;
  const [N, Hkv, blockSize, Dk] = k.shape;
  const [Nv, Hv, bsV] = v.shape;
  if (Nv !== N || Hv !== Hkv || bsV !== blockSize || Dk !== D) {
    throw new TensorError(
      op,
      `expected keys [N, Hkv, blockSize, ${D}] and values [N, Hkv, blockSize, Dv] with the same N, Hkv and blockSize; got ${shapes}`,
    );
  }
  if (table.shape[0] !== B) {
    throw new TensorError(op, `blockTable must have one row per batch row (${B}); got ${shapes}`);
  }
  assertHeadGroups(op, Hq, Hkv, shapes);
  if (D === 0 || blockSize === 0) {
    throw new TensorError(op, `head dimension and block size must be positive; got ${shapes}`);
  }
  if (!Number.isInteger(T) || T < 0 || T > table.shape[1] * blockSize) {
    throw new TensorError(
      op,
      `length must be an integer in [0, ${table.shape[1] * blockSize}] (blockTable columns × blockSize), got ${T}`,
    );
  }
  const inputs = [q, k, v, table];
  const attrs: PagedSdpaAttrs = {
    ...attentionAttrs(op, o, q.shape, T, 'length', shapes, inputs),
    length: T,
    blockSize,
  };
  return run1(op, inputs, attrs);
}
