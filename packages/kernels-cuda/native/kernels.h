// Host-side launchers of every Hasten CUDA kernel. Each enqueues work on `stream` and returns the
// launch status (cudaGetLastError); execution errors surface at the next synchronising call.
// Pointers are device pointers; shapes and strides are in elements. The TypeScript side
// (src/ops/*.ts) checks every argument before calling, so these only guard what would corrupt memory.
#pragma once
#include <cuda_runtime.h>
#include <cstdint>

namespace hasten {

// gemm.cu: C[b] = A[b] (M x K) @ B[b] (K x N, or N x K when transB), row-major, f32 accumulation.
// versions: 1 naive, 2 shared-memory tiles + 4x4 register tile, 3 WMMA tensor cores (f16/bf16).
cudaError_t gemm(int version, int dtype, const void* A, const void* B, void* C, int batch, int M, int N,
                 int K, int64_t strideA, int64_t strideB, int64_t strideC, bool transB, cudaStream_t stream);

// matvec.cu: y[M, N] = x[M, K] @ W^T with W [N, K] (the Linear layout), for decode (small M).
// wfmt: 0 f32, 1 f16, 2 bf16, 3 int8 per output channel (f16 scale [N]), 4 int4 groups of `group`
// along K (f16 scales [N, K / group], nibble q -> (q - 8) * scale, low nibble = even k).
// versions: 1 one thread per output, 2 one warp per output with a warp reduction.
cudaError_t matvec(int version, int act_dtype, int wfmt, const void* x, const void* W, const void* scales,
                   void* y, int M, int N, int K, int group, cudaStream_t stream);

// softmax.cu: rows of length N (contiguous), optional log-softmax. versions: 1 thread/row, 2 block/row.
cudaError_t softmax(int version, int dtype, const void* x, void* y, int64_t rows, int N, bool log,
                    cudaStream_t stream);

// norm.cu: rmsnorm (weight required) and layernorm (weight, bias optional) over the last dim D.
// versions: 1 thread/row, 2 block/row.
cudaError_t rmsnorm(int version, int dtype, const void* x, const void* w, void* y, int64_t rows, int D,
                    float eps, cudaStream_t stream);
cudaError_t layernorm(int version, int dtype, const void* x, const void* w, const void* b, void* y,
                      int64_t rows, int D, float eps, cudaStream_t stream);

// rope.cu: x [B, H, S, D] contiguous, positions i32 [S] (pos_batch_stride 0) or [B, S] (stride S),
// inv_freq f64 [rotary_dim / 2]. rotate_half pairs (i, i + rotary_dim/2) or interleaved (2i, 2i+1).
cudaError_t rope(int version, int dtype, const void* x, const int32_t* positions, int pos_batch_stride,
                 const double* inv_freq, void* y, int B, int H, int S, int D, int rotary_dim,
                 bool interleaved, cudaStream_t stream);

// elementwise.cu: out = a + b, a * b, or silu(a) * b over n contiguous elements.
// op: 0 add, 1 mul, 2 silu_mul. versions: 1 one element per thread, 2 grid-stride loop.
cudaError_t elementwise(int version, int dtype, int op, const void* a, const void* b, void* out, int64_t n,
                        cudaStream_t stream);

// attention.cu. Shapes as core-tensor sdpa: q [B, Hq, S, D], k [B, Hkv, T, D], v [B, Hkv, T, Dv],
// out [B, Hq, S, Dv], all contiguous. Query i sits at position T - S + i under `causal`.
// mask: u8 (1 = may attend) read at b*ms[0] + h*ms[1] + i*ms[2] + t*ms[3] (0 strides broadcast), or null.
// A query that may attend to no key gets zeros (core-tensor's convention).
struct AttentionArgs {
  const void* q;
  const void* k;
  const void* v;
  void* out;
  const uint8_t* mask;
  int64_t mask_strides[4];
  int B, Hq, Hkv, S, T, D, Dv;
  float scale;
  bool causal;
};
// Prefill. versions: 1 one thread per query (online softmax), 2 flash attention: one warp per
// query, K/V tiles staged in shared memory, online softmax.
cudaError_t flash_attention(int version, int dtype, const AttentionArgs& a, cudaStream_t stream);
// Decode: split-K (flash-decoding). The T keys are cut into `splits` chunks; pass 1 writes per-chunk
// (max, sum, unnormalised output) into `partials` (f32, B*Hq*S*splits*(Dv + 2)), pass 2 combines.
cudaError_t decode_attention(int dtype, const AttentionArgs& a, int splits, float* partials,
                             cudaStream_t stream);

// paged_attention.cu: keys/values read from a block pool through a block table (vLLM).
// pool element (block, h, slot, d) at block*s[0] + h*s[1] + slot*s[2] + d*s[3] (any layout),
// block_table i32 [B, max_blocks]; T = length. q/out/mask as AttentionArgs (k, v unused there).
struct PagedArgs {
  AttentionArgs attn;
  int64_t k_strides[4];
  int64_t v_strides[4];
  const int32_t* block_table;
  int max_blocks;
  int block_size;
};
// versions: 1 one thread per query, 2 split-K with one warp per (query, chunk) + the combine pass.
cudaError_t paged_attention(int version, int dtype, const PagedArgs& a, int splits, float* partials,
                            cudaStream_t stream);

// sampling.cu: rows of V logits (contiguous).
// topk: the k largest per row, descending, ties to the lower index, NaN above every number.
// versions: 1 one thread per row (k selection passes), 2 one block per row (k block-argmax passes).
cudaError_t topk(int version, int dtype, const void* x, void* values, int32_t* indices, int64_t rows, int V,
                 int k, cudaStream_t stream);
// sample: per row, w_j = exp((x_j - max) / temperature); returns the first j with cumsum(w)_j > u * sum(w)
// (inverse CDF, u in [0, 1) from uniforms[row], f64 sums); temperature 0 is the argmax (first on ties).
cudaError_t sample(int dtype, const void* x, const double* uniforms, int32_t* out, int64_t rows, int V,
                   double temperature, cudaStream_t stream);

}  // namespace hasten
