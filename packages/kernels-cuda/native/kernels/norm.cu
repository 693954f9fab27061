// Normalisation over the last dimension D of contiguous rows, f32 statistics:
//   rmsnorm   (arXiv:1910.07467): y = x / sqrt(mean(x^2) + eps) * w            (HF LlamaRMSNorm)
//   layernorm (arXiv:1607.06450): y = (x - mean) / sqrt(var + eps) * w + b     (biased var, torch)
// w and b are [D] in x's dtype; layernorm's are optional (null). The references are core-tensor's
// rmsnorm / layernorm on its 'reference' backend (f64 statistics).
//
// Versions:
//   v1  one thread per row, two passes over the row.
//   v2  one block (256 threads) per row: block reductions for the statistics, strided write.
// Compile: nvcc -c -std=c++17 -gencode arch=compute_90,code=sm_90 -I.. norm.cu
#include "../common.cuh"
#include "../kernels.h"

namespace hasten {
namespace {

template <typename T>
__global__ void rmsnorm_v1(const T* x, const T* w, T* y, int64_t rows, int D, float eps) {
  const int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float ss = 0.f;
  for (int j = 0; j < D; j++) {
    const float v = load_f32(x, r * D + j);
    ss += v * v;
  }
  const float inv = rsqrtf(ss / D + eps);
  for (int j = 0; j < D; j++) store_f32(y, r * D + j, load_f32(x, r * D + j) * inv * load_f32(w, j));
}

template <typename T>
__global__ void __launch_bounds__(256) rmsnorm_v2(const T* x, const T* w, T* y, int D, float eps) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * (int64_t)D;
  float ss = 0.f;
  for (int j = threadIdx.x; j < D; j += blockDim.x) {
    const float v = load_f32(x, base + j);
    ss += v * v;
  }
  ss = block_sum(ss, scratch);
  const float inv = rsqrtf(ss / D + eps);
  for (int j = threadIdx.x; j < D; j += blockDim.x) store_f32(y, base + j, load_f32(x, base + j) * inv * load_f32(w, j));
}

template <typename T>
__global__ void layernorm_v1(const T* x, const T* w, const T* b, T* y, int64_t rows, int D, float eps) {
  const int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float mean = 0.f;
  for (int j = 0; j < D; j++) mean += load_f32(x, r * D + j);
  mean /= D;
  float var = 0.f;
  for (int j = 0; j < D; j++) {
    const float d = load_f32(x, r * D + j) - mean;
    var += d * d;
  }
  const float inv = rsqrtf(var / D + eps);
  for (int j = 0; j < D; j++) {
    const float v = (load_f32(x, r * D + j) - mean) * inv * (w ? load_f32(w, j) : 1.f) + (b ? load_f32(b, j) : 0.f);
    store_f32(y, r * D + j, v);
  }
}

template <typename T>
__global__ void __launch_bounds__(256) layernorm_v2(const T* x, const T* w, const T* b, T* y, int D, float eps) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * (int64_t)D;
  float s = 0.f;
  for (int j = threadIdx.x; j < D; j += blockDim.x) s += load_f32(x, base + j);
  const float mean = block_sum(s, scratch) / D;
  float var = 0.f;  // two-pass variance: no cancellation for rows with a large mean
  for (int j = threadIdx.x; j < D; j += blockDim.x) {
    const float d = load_f32(x, base + j) - mean;
    var += d * d;
  }
  const float inv = rsqrtf(block_sum(var, scratch) / D + eps);
  for (int j = threadIdx.x; j < D; j += blockDim.x) {
    const float v = (load_f32(x, base + j) - mean) * inv * (w ? load_f32(w, j) : 1.f) + (b ? load_f32(b, j) : 0.f);
    store_f32(y, base + j, v);
  }
}

}  // namespace

cudaError_t rmsnorm(int version, int dtype, const void* x, const void* w, void* y, int64_t rows, int D, float eps,
                    cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    const T* xs = static_cast<const T*>(x);
    const T* ws = static_cast<const T*>(w);
    T* ys = static_cast<T*>(y);
    if (version == 1) {
      rmsnorm_v1<T><<<ceil_div(rows, 128), 128, 0, stream>>>(xs, ws, ys, rows, D, eps);
    } else if (version == 2) {
      if (rows > 0x7fffffff) return cudaErrorInvalidValue;
      rmsnorm_v2<T><<<static_cast<unsigned>(rows), 256, 0, stream>>>(xs, ws, ys, D, eps);
    } else {
      return cudaErrorInvalidValue;
    }
  });
  return cudaGetLastError();
}

cudaError_t layernorm(int version, int dtype, const void* x, const void* w, const void* b, void* y, int64_t rows,
                      int D, float eps, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    const T* xs = static_cast<const T*>(x);
    const T* ws = static_cast<const T*>(w);
    const T* bs = static_cast<const T*>(b);
    T* ys = static_cast<T*>(y);
    if (version == 1) {
      layernorm_v1<T><<<ceil_div(rows, 128), 128, 0, stream>>>(xs, ws, bs, ys, rows, D, eps);
    } else if (version == 2) {
      if (rows > 0x7fffffff) return cudaErrorInvalidValue;
      layernorm_v2<T><<<static_cast<unsigned>(rows), 256, 0, stream>>>(xs, ws, bs, ys, D, eps);
    } else {
      return cudaErrorInvalidValue;
    }
  });
  return cudaGetLastError();
}

}  // namespace hasten
