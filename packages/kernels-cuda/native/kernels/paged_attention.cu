// Paged attention (PagedAttention, vLLM: arXiv:2309.06180) with the conventions of core-tensor's
// pagedSdpa: q [B, Hq, S, D]; keys/values in a pool of N blocks of block_size positions, element
// (block, h, slot, d) at block*s0 + h*s1 + slot*s2 + d*s3 (so @hasten/kv's head-major pool
// [Hkv, N, bs, D], passed as a permuted view, needs no copy); block_table i32 [B, max_blocks]: key
// position t of row b lives in block block_table[b, t / block_size], slot t % block_size; T = length.
// Causal, mask, GQA and empty rows as attention.cu. The reference is core-tensor's pagedSdpa on its
// 'reference' backend (gather, then sdpa). Block-table entries are checked on the host before the
// launch (src/ops/paged-attention.ts): a kernel never reads outside the pool.
//
// Versions:
//   v1  one thread per query row, online softmax, each key fetched through the block table.
//   v2  split-K (flash-decoding) with one warp per (query, chunk of keys) and a combine pass.
// Compile: nvcc -c -std=c++17 -gencode arch=compute_90,code=sm_90 -I.. paged_attention.cu
#include "../attention_common.cuh"

namespace hasten {

cudaError_t paged_attention(int version, int dtype, const PagedArgs& p, int splits, float* partials,
                            cudaStream_t stream) {
  const AttentionArgs& a = p.attn;
  if (a.D > MAX_HEAD_DIM || a.Dv > MAX_HEAD_DIM || a.Hkv <= 0 || a.Hq % a.Hkv != 0 || p.block_size <= 0)
    return cudaErrorInvalidValue;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    PagedKV<T> kv;
    kv.k = static_cast<const T*>(a.k);
    kv.v = static_cast<const T*>(a.v);
    for (int j = 0; j < 4; j++) {
      kv.ks[j] = p.k_strides[j];
      kv.vs[j] = p.v_strides[j];
    }
    kv.table = p.block_table;
    kv.max_blocks = p.max_blocks;
    kv.block_size = p.block_size;
    if (version == 1) return launch_query_v1<T>(a, kv, stream);
    if (version == 2) return launch_split_k<T>(a, kv, splits, partials, stream);
    return cudaErrorInvalidValue;
  });
  return cudaErrorInvalidValue;
}

}  // namespace hasten
