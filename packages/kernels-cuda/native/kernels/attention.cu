// Scaled dot-product attention (arXiv:1706.03762) with the conventions of core-tensor's sdpa:
// q [B, Hq, S, D], k [B, Hkv, T, D], v [B, Hkv, T, Dv] -> out [B, Hq, S, Dv]; grouped-query attention
// (arXiv:2305.13245): query head h reads kv head h / (Hq / Hkv); causal: query i sits at position
// T - S + i; an optional u8 mask (tree masks for speculative decoding; 1 = may attend) with broadcast
// strides; a query that may attend to no key gets zeros. The reference is core-tensor's sdpa on its
// 'reference' backend.
//
// Prefill versions (flash_attention):
//   v1  one thread per query row, online softmax over all keys (attention_common.cuh).
//   v2  FlashAttention-style (arXiv:2205.14135): a block of 8 warps takes 8 consecutive queries of one
//       (b, h); key/value tiles of BC keys are staged in shared memory (f32, rows padded by one
//       against bank conflicts); each warp runs the online softmax for its query, lane j scoring key
//       j of the tile, each lane owning output features lane + 32r. CUDA cores, not tensor cores:
//       an mma.sync / wgmma version is the next step once this one is checked on the device.
// Decode (decode_attention): split-K over the keys, flash-decoding (attention_common.cuh).
// Compile: nvcc -c -std=c++17 -gencode arch=compute_90,code=sm_90 -I.. attention.cu
#include "../attention_common.cuh"

namespace hasten {
namespace {

constexpr int V2_WARPS = 8;

template <typename T>
__global__ void __launch_bounds__(V2_WARPS * 32) flash_v2(AttentionArgs a, int BC) {
  extern __shared__ float smem[];
  const int KSTRIDE = a.D + 1;  // padded rows: lanes reading different keys hit different banks
  float* Ks = smem;                          // [BC][D + 1]
  float* Vs = Ks + BC * KSTRIDE;             // [BC][Dv]
  float* Qs = Vs + BC * a.Dv;                // [V2_WARPS][D], pre-scaled
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int bh = blockIdx.y;  // b * Hq + h
  const int b = bh / a.Hq, h = bh % a.Hq, hk = h / (a.Hq / a.Hkv);
  const int i0 = blockIdx.x * V2_WARPS;
  const int i = i0 + warp;  // this warp's query
  const bool active = i < a.S;
  const T* q = static_cast<const T*>(a.q);
  const T* k = static_cast<const T*>(a.k) + ((int64_t)b * a.Hkv + hk) * a.T * a.D;
  const T* v = static_cast<const T*>(a.v) + ((int64_t)b * a.Hkv + hk) * a.T * a.Dv;
  if (active)
    for (int d = lane; d < a.D; d += 32) Qs[warp * a.D + d] = load_f32(q, ((int64_t)bh * a.S + i) * a.D + d) * a.scale;
  // Under causal no query of this block sees keys past T - S + (last query of the block).
  const int last = min(a.S - 1, i0 + V2_WARPS - 1);
  const int t_stop = a.causal ? min(a.T, a.T - a.S + last + 1) : a.T;
  float acc[MAX_DV_PER_LANE] = {};
  float m = -INFINITY, l = 0.f;
  for (int t0 = 0; t0 < t_stop; t0 += BC) {
    const int n = min(BC, t_stop - t0);
    __syncthreads();  // the previous tile is no longer read
    for (int e = threadIdx.x; e < n * a.D; e += blockDim.x) Ks[(e / a.D) * KSTRIDE + e % a.D] = load_f32(k, (int64_t)t0 * a.D + e);
    for (int e = threadIdx.x; e < n * a.Dv; e += blockDim.x) Vs[e] = load_f32(v, (int64_t)t0 * a.Dv + e);
    __syncthreads();
    if (!active) continue;
    float s = -INFINITY;
    if (lane < n && allowed(a, b, h, i, t0 + lane)) {
      s = 0.f;
      for (int d = 0; d < a.D; d++) s += Qs[warp * a.D + d] * Ks[lane * KSTRIDE + d];
    }
    const float m_new = fmaxf(m, warp_max(s));
    if (m_new == -INFINITY) continue;
    const float alpha = expf(m - m_new);
    const float p = s == -INFINITY ? 0.f : expf(s - m_new);
    l = l * alpha + warp_sum(p);
    for (int r = 0; r < MAX_DV_PER_LANE; r++) acc[r] *= alpha;
    for (int j = 0; j < n; j++) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
      if (pj == 0.f) continue;
      for (int r = 0; r < MAX_DV_PER_LANE; r++) {
        const int d = lane + 32 * r;
        if (d < a.Dv) acc[r] += pj * Vs[j * a.Dv + d];
      }
    }
    m = m_new;
  }
  if (!active) return;
  T* out = static_cast<T*>(a.out) + ((int64_t)bh * a.S + i) * a.Dv;
  for (int r = 0; r < MAX_DV_PER_LANE; r++) {
    const int d = lane + 32 * r;
    if (d < a.Dv) store_f32(out, d, l > 0.f ? acc[r] / l : 0.f);
  }
}

}  // namespace

cudaError_t flash_attention(int version, int dtype, const AttentionArgs& a, cudaStream_t stream) {
  if (a.D > MAX_HEAD_DIM || a.Dv > MAX_HEAD_DIM || a.Hkv <= 0 || a.Hq % a.Hkv != 0) return cudaErrorInvalidValue;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    const DenseKV<T> kv{static_cast<const T*>(a.k), static_cast<const T*>(a.v), a.Hkv, a.T, a.D, a.Dv};
    if (version == 1) return launch_query_v1<T>(a, kv, stream);
    if (version != 2) return cudaErrorInvalidValue;
    if ((int64_t)a.B * a.Hq > 65535 || a.S <= 0) return a.S <= 0 ? cudaSuccess : cudaErrorInvalidValue;
    const int BC = (a.D + a.Dv <= 256) ? 32 : 16;  // keeps shared memory under the default 48 KiB
    const size_t bytes = sizeof(float) * ((size_t)BC * (a.D + 1) + (size_t)BC * a.Dv + (size_t)V2_WARPS * a.D);
    dim3 grid(ceil_div(a.S, V2_WARPS), a.B * a.Hq);
    flash_v2<T><<<grid, V2_WARPS * 32, bytes, stream>>>(a, BC);
  });
  return cudaGetLastError();
}

cudaError_t decode_attention(int dtype, const AttentionArgs& a, int splits, float* partials, cudaStream_t stream) {
  if (a.D > MAX_HEAD_DIM || a.Dv > MAX_HEAD_DIM || a.Hkv <= 0 || a.Hq % a.Hkv != 0) return cudaErrorInvalidValue;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    const DenseKV<T> kv{static_cast<const T*>(a.k), static_cast<const T*>(a.v), a.Hkv, a.T, a.D, a.Dv};
    return launch_split_k<T>(a, kv, splits, partials, stream);
  });
  return cudaErrorInvalidValue;
}

}  // namespace hasten
