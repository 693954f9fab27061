// Pieces shared by attention.cu and paged_attention.cu: where a key/value element lives (dense or
// paged), the mask rule, the one-thread-per-query kernel (v1), and the two passes of split-K decode.
//
// Online softmax (Milakov & Gimelshein, arXiv:1805.02867; FlashAttention, arXiv:2205.14135): keep the
// running max m, the running sum l of exp(s - m) and the unnormalised output acc; a new score s > m
// rescales l and acc by exp(m - s). Split-K (flash-decoding) runs this per chunk of keys and merges
// chunks c with M = max m_c, L = sum l_c exp(m_c - M), out = sum acc_c exp(m_c - M) / L
// (CPU reference of the merge: src/reference/split-k-combine-reference.ts).
#pragma once
#include "common.cuh"
#include "kernels.h"

namespace hasten {

constexpr int MAX_HEAD_DIM = 256;  // the TS side rejects larger D / Dv
constexpr int MAX_DV_PER_LANE = MAX_HEAD_DIM / 32;

// Keys and values of contiguous [B, Hkv, T, D] / [B, Hkv, T, Dv] tensors.
template <typename T>
struct DenseKV {
  const T* k;
  const T* v;
  int Hkv, T_, D, Dv;
  __device__ __forceinline__ int64_t k_at(int b, int h, int t, int d) const {
    return (((int64_t)b * Hkv + h) * T_ + t) * D + d;
  }
  __device__ __forceinline__ int64_t v_at(int b, int h, int t, int d) const {
    return (((int64_t)b * Hkv + h) * T_ + t) * Dv + d;
  }
};

// Keys and values in a block pool read through a block table (any pool strides).
template <typename T>
struct PagedKV {
  const T* k;
  const T* v;
  int64_t ks[4], vs[4];
  const int32_t* table;
  int max_blocks, block_size;
  __device__ __forceinline__ int64_t k_at(int b, int h, int t, int d) const {
    const int64_t blk = table[(int64_t)b * max_blocks + t / block_size];
    return blk * ks[0] + h * ks[1] + (t % block_size) * ks[2] + d * ks[3];
  }
  __device__ __forceinline__ int64_t v_at(int b, int h, int t, int d) const {
    const int64_t blk = table[(int64_t)b * max_blocks + t / block_size];
    return blk * vs[0] + h * vs[1] + (t % block_size) * vs[2] + d * vs[3];
  }
};

// May query i of (b, h) attend to key t? Causal: query i sits at position T - S + i.
__device__ __forceinline__ bool allowed(const AttentionArgs& a, int b, int h, int i, int t) {
  if (a.causal && t > a.T - a.S + i) return false;
  if (a.mask) {
    const int64_t at = b * a.mask_strides[0] + h * a.mask_strides[1] + i * a.mask_strides[2] + t * a.mask_strides[3];
    if (!a.mask[at]) return false;
  }
  return true;
}

// Flattened query index -> (b, h, i).
__device__ __forceinline__ void query_coords(const AttentionArgs& a, int64_t q, int& b, int& h, int& i) {
  i = static_cast<int>(q % a.S);
  h = static_cast<int>((q / a.S) % a.Hq);
  b = static_cast<int>(q / ((int64_t)a.S * a.Hq));
}

// v1: one thread per query row, online softmax over all T keys, acc in local memory.
template <typename T, typename KV>
__global__ void attention_query_v1(AttentionArgs a, KV kv) {
  const int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (q >= (int64_t)a.B * a.Hq * a.S) return;
  int b, h, i;
  query_coords(a, q, b, h, i);
  const int hk = h / (a.Hq / a.Hkv);
  const T* qp = static_cast<const T*>(a.q) + q * a.D;
  float acc[MAX_HEAD_DIM];
  for (int d = 0; d < a.Dv; d++) acc[d] = 0.f;
  float m = -INFINITY, l = 0.f;
  for (int t = 0; t < a.T; t++) {
    if (!allowed(a, b, h, i, t)) continue;
    float s = 0.f;
    for (int d = 0; d < a.D; d++) s += load_f32(qp, d) * load_f32(kv.k, kv.k_at(b, hk, t, d));
    s *= a.scale;
    if (s > m) {  // rescale what was accumulated under the old max (exp(-inf) = 0 on the first key)
      const float alpha = expf(m - s);
      l *= alpha;
      for (int d = 0; d < a.Dv; d++) acc[d] *= alpha;
      m = s;
    }
    const float p = expf(s - m);
    l += p;
    for (int d = 0; d < a.Dv; d++) acc[d] += p * load_f32(kv.v, kv.v_at(b, hk, t, d));
  }
  T* op = static_cast<T*>(a.out) + q * a.Dv;
  for (int d = 0; d < a.Dv; d++) store_f32(op, d, l > 0.f ? acc[d] / l : 0.f);
}

// Split-K pass 1: one warp per (query, chunk of keys). Lane j scores key t0 + j of each group of 32;
// lane `lane` owns output features lane, lane + 32, ... Writes (m, l, acc[Dv]) per (query, chunk).
template <typename T, typename KV>
__global__ void __launch_bounds__(32) split_k_partial(AttentionArgs a, KV kv, int splits, float* partials) {
  __shared__ float qs[MAX_HEAD_DIM];
  const int64_t q = blockIdx.x;
  const int split = blockIdx.y;
  const int lane = threadIdx.x;
  int b, h, i;
  query_coords(a, q, b, h, i);
  const int hk = h / (a.Hq / a.Hkv);
  const T* qp = static_cast<const T*>(a.q) + q * a.D;
  for (int d = lane; d < a.D; d += 32) qs[d] = load_f32(qp, d) * a.scale;
  __syncwarp();
  const int chunk = (a.T + splits - 1) / splits;
  const int t_begin = split * chunk;
  const int t_end = min(a.T, t_begin + chunk);
  float acc[MAX_DV_PER_LANE] = {};
  float m = -INFINITY, l = 0.f;
  for (int t0 = t_begin; t0 < t_end; t0 += 32) {
    const int t = t0 + lane;
    float s = -INFINITY;
    if (t < t_end && allowed(a, b, h, i, t)) {
      s = 0.f;
      for (int d = 0; d < a.D; d++) s += qs[d] * load_f32(kv.k, kv.k_at(b, hk, t, d));
    }
    const float m_new = fmaxf(m, warp_max(s));
    if (m_new == -INFINITY) continue;  // nothing allowed so far
    const float alpha = expf(m - m_new);
    const float p = s == -INFINITY ? 0.f : expf(s - m_new);
    l = l * alpha + warp_sum(p);
    for (int r = 0; r < MAX_DV_PER_LANE; r++) acc[r] *= alpha;
    const int group = min(32, t_end - t0);
    for (int j = 0; j < group; j++) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
      if (pj == 0.f) continue;
      for (int r = 0; r < MAX_DV_PER_LANE; r++) {
        const int d = lane + 32 * r;
        if (d < a.Dv) acc[r] += pj * load_f32(kv.v, kv.v_at(b, hk, t0 + j, d));
      }
    }
    m = m_new;
  }
  float* out = partials + (q * splits + split) * (int64_t)(a.Dv + 2);
  if (lane == 0) {
    out[0] = m;
    out[1] = l;
  }
  for (int r = 0; r < MAX_DV_PER_LANE; r++) {
    const int d = lane + 32 * r;
    if (d < a.Dv) out[2 + d] = acc[r];
  }
}

// Split-K pass 2: one warp per query merges its chunks (see the file comment).
template <typename T>
__global__ void __launch_bounds__(32) split_k_combine(AttentionArgs a, int splits, const float* partials) {
  const int64_t q = blockIdx.x;
  const int lane = threadIdx.x;
  const float* p = partials + q * splits * (int64_t)(a.Dv + 2);
  float M = -INFINITY;
  for (int c = 0; c < splits; c++) M = fmaxf(M, p[c * (a.Dv + 2)]);
  float L = 0.f;
  if (M != -INFINITY)
    for (int c = 0; c < splits; c++) L += p[c * (a.Dv + 2) + 1] * expf(p[c * (a.Dv + 2)] - M);
  T* op = static_cast<T*>(a.out) + q * a.Dv;
  for (int d = lane; d < a.Dv; d += 32) {
    float o = 0.f;
    if (L > 0.f) {
      for (int c = 0; c < splits; c++) {
        const float* pc = p + c * (a.Dv + 2);
        if (pc[0] != -INFINITY) o += pc[2 + d] * expf(pc[0] - M);
      }
      o /= L;
    }
    store_f32(op, d, o);
  }
}

template <typename T, typename KV>
cudaError_t launch_split_k(const AttentionArgs& a, const KV& kv, int splits, float* partials, cudaStream_t stream) {
  const int64_t queries = (int64_t)a.B * a.Hq * a.S;
  if (queries <= 0) return cudaSuccess;
  if (queries > 0x7fffffff || splits < 1 || splits > 65535) return cudaErrorInvalidValue;
  split_k_partial<T, KV><<<dim3(static_cast<unsigned>(queries), splits), 32, 0, stream>>>(a, kv, splits, partials);
  split_k_combine<T><<<static_cast<unsigned>(queries), 32, 0, stream>>>(a, splits, partials);
  return cudaGetLastError();
}

template <typename T, typename KV>
cudaError_t launch_query_v1(const AttentionArgs& a, const KV& kv, cudaStream_t stream) {
  const int64_t queries = (int64_t)a.B * a.Hq * a.S;
  if (queries <= 0) return cudaSuccess;
  attention_query_v1<T, KV><<<ceil_div(queries, 64), 64, 0, stream>>>(a, kv);
  return cudaGetLastError();
}

}  // namespace hasten
