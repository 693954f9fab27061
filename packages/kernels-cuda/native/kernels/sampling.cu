// Top-k and categorical sampling on the device, over contiguous rows of V logits.
//   topk: the k largest per row, sorted descending, ties to the lower index, NaN above every number
//         (core-tensor's topk; its reference backend is the ground truth).
//   sample: inverse-CDF with a given uniform u per row (core-tensor's sampleCategorical,
//         'inverse-cdf'): w_j = exp((x_j - max x) / T) in f64, returns the first j with
//         cumsum(w)_j > u * sum(w); temperature 0 returns the argmax (first index on ties).
//         CPU reference: src/reference/sample-reference.ts.
//
// topk versions (both use the same trick: pass r selects the best element strictly after the one
// pass r - 1 selected in the total order (value desc, index asc), so no "taken" flags are needed):
//   v1  one thread per row, k passes over the row.
//   v2  one block (256 threads) per row, k passes of a block-wide argmax.
// sample: one block per row: block max, per-thread chunk sums in f64, a scan of the 256 chunk sums,
//   and the thread whose chunk holds the target walks it.
// Compile: nvcc -c -std=c++17 -gencode arch=compute_90,code=sm_90 -I.. sampling.cu
#include "../common.cuh"
#include "../kernels.h"

namespace hasten {
namespace {

// Does (a, ia) come before (b, ib) in the order: NaN first, then larger values, then lower index?
__device__ __forceinline__ bool before(float a, int ia, float b, int ib) {
  const bool na = isnan(a), nb = isnan(b);
  if (na != nb) return na;
  if (!na && a != b) return a > b;
  return ia < ib;
}

template <typename T>
__global__ void topk_v1(const T* x, T* values, int32_t* indices, int64_t rows, int V, int k) {
  const int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const T* xr = x + r * V;
  float pv = 0.f;
  int pi = -1;  // the previous pick; -1: none yet
  for (int pass = 0; pass < k; pass++) {
    float bv = 0.f;
    int bi = -1;
    for (int j = 0; j < V; j++) {
      const float v = load_f32(xr, j);
      if (pi >= 0 && !before(pv, pi, v, j)) continue;  // already taken (at or before the previous pick)
      if (bi < 0 || before(v, j, bv, bi)) {
        bv = v;
        bi = j;
      }
    }
    values[r * k + pass] = xr[bi];
    indices[r * k + pass] = bi;
    pv = bv;
    pi = bi;
  }
}

// Block-wide "best" of (value, index) pairs; bi < 0 means empty. Every thread gets the result.
__device__ void block_best(float& bv, int& bi, float* sv, int* si) {
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
    const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
    if (oi >= 0 && (bi < 0 || before(ov, oi, bv, bi))) {
      bv = ov;
      bi = oi;
    }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) {
    sv[warp] = bv;
    si[warp] = bi;
  }
  __syncthreads();
  bv = 0.f;
  bi = -1;
  for (int w = 0; w < (int)(blockDim.x >> 5); w++)
    if (si[w] >= 0 && (bi < 0 || before(sv[w], si[w], bv, bi))) {
      bv = sv[w];
      bi = si[w];
    }
}

template <typename T>
__global__ void __launch_bounds__(256) topk_v2(const T* x, T* values, int32_t* indices, int V, int k) {
  __shared__ float sv[32];
  __shared__ int si[32];
  const int64_t r = blockIdx.x;
  const T* xr = x + r * V;
  float pv = 0.f;
  int pi = -1;
  for (int pass = 0; pass < k; pass++) {
    float bv = 0.f;
    int bi = -1;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
      const float v = load_f32(xr, j);
      if (pi >= 0 && !before(pv, pi, v, j)) continue;
      if (bi < 0 || before(v, j, bv, bi)) {
        bv = v;
        bi = j;
      }
    }
    block_best(bv, bi, sv, si);
    if (threadIdx.x == 0) {
      values[r * k + pass] = xr[bi];
      indices[r * k + pass] = bi;
    }
    pv = bv;
    pi = bi;
  }
}

constexpr int SAMPLE_THREADS = 256;

template <typename T>
__global__ void __launch_bounds__(SAMPLE_THREADS)
    sample_kernel(const T* x, const double* uniforms, int32_t* out, int V, double temperature) {
  __shared__ float fscratch[32];
  __shared__ double prefix[SAMPLE_THREADS];
  __shared__ int result;
  const int64_t r = blockIdx.x;
  const T* xr = x + r * V;
  const int tid = threadIdx.x;
  if (temperature == 0.0) {  // argmax, first index on ties (NaN is not expected: the TS side says so)
    float bv = 0.f;
    int bi = -1;
    for (int j = tid; j < V; j += blockDim.x) {
      const float v = load_f32(xr, j);
      if (bi < 0 || v > bv) {
        bv = v;
        bi = j;
      }
    }
    __shared__ float sv[32];
    __shared__ int si[32];
    block_best(bv, bi, sv, si);
    if (tid == 0) out[r] = bi;
    return;
  }
  float mx = -INFINITY;
  for (int j = tid; j < V; j += blockDim.x) mx = fmaxf(mx, load_f32(xr, j));
  mx = block_max(mx, fscratch);
  // Thread tid owns the contiguous chunk [c0, c1), so the scan below follows index order.
  const int chunk = (V + SAMPLE_THREADS - 1) / SAMPLE_THREADS;
  const int c0 = min(V, tid * chunk), c1 = min(V, c0 + chunk);
  double local = 0.0;
  for (int j = c0; j < c1; j++) local += exp(((double)load_f32(xr, j) - mx) / temperature);
  prefix[tid] = local;
  __shared__ double total;
  if (tid == 0) result = -1;
  __syncthreads();
  if (tid == 0) {  // exclusive scan of the 256 chunk sums, in index order
    double run = 0.0;
    for (int t = 0; t < SAMPLE_THREADS; t++) {
      const double v = prefix[t];
      prefix[t] = run;
      run += v;
    }
    total = run;
  }
  __syncthreads();
  const double target = uniforms[r] * total;
  // The chunks' intervals [prefix, prefix + local) are disjoint, so at most one thread claims.
  if (c0 < c1 && prefix[tid] <= target && target < prefix[tid] + local) {
    double cum = prefix[tid];
    int pick = -1, last_positive = -1;
    for (int j = c0; j < c1; j++) {
      const double w = exp(((double)load_f32(xr, j) - mx) / temperature);
      if (w > 0.0) last_positive = j;
      cum += w;
      if (cum > target) {
        pick = j;
        break;
      }
    }
    result = pick >= 0 ? pick : last_positive;  // the walk's rounding can differ from `local`'s
  }
  __syncthreads();
  if (tid == 0) {
    int j = result;
    if (j < 0) {  // rounding put the target at the very end: the last index with positive weight
      j = V - 1;
      while (j > 0 && load_f32(xr, j) == -INFINITY) j--;
    }
    out[r] = j;
  }
}

}  // namespace

cudaError_t topk(int version, int dtype, const void* x, void* values, int32_t* indices, int64_t rows, int V, int k,
                 cudaStream_t stream) {
  if (rows <= 0 || k <= 0) return cudaSuccess;
  if (k > V) return cudaErrorInvalidValue;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    const T* xs = static_cast<const T*>(x);
    T* vs = static_cast<T*>(values);
    if (version == 1) {
      topk_v1<T><<<ceil_div(rows, 128), 128, 0, stream>>>(xs, vs, indices, rows, V, k);
    } else if (version == 2) {
      if (rows > 0x7fffffff) return cudaErrorInvalidValue;
      topk_v2<T><<<static_cast<unsigned>(rows), 256, 0, stream>>>(xs, vs, indices, V, k);
    } else {
      return cudaErrorInvalidValue;
    }
  });
  return cudaGetLastError();
}

cudaError_t sample(int dtype, const void* x, const double* uniforms, int32_t* out, int64_t rows, int V,
                   double temperature, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  if (rows > 0x7fffffff || V <= 0 || !(temperature >= 0.0)) return cudaErrorInvalidValue;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    sample_kernel<T><<<static_cast<unsigned>(rows), SAMPLE_THREADS, 0, stream>>>(static_cast<const T*>(x), uniforms,
                                                                                 out, V, temperature);
  });
  return cudaGetLastError();
}

}  // namespace hasten
