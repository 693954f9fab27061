// Softmax / log-softmax over contiguous rows of length N: exp(x - max) / sum exp(x - max), or
// x - max - log sum exp(x - max); f32 arithmetic, output in the input dtype. The reference is
// core-tensor's softmax / logSoftmax on its 'reference' backend. A row of all -Inf gives NaN here
// (the reference throws; a kernel cannot).
//
// Versions:
//   v1  one thread per row, three passes (max, sum, write).
//   v2  one block (256 threads) per row: block max, block sum, then the write, all strided.
// Compile: nvcc -c -std=c++17 -gencode arch=compute_90,code=sm_90 -I.. softmax.cu
#include "../common.cuh"
#include "../kernels.h"

namespace hasten {
namespace {

template <typename T>
__global__ void softmax_v1(const T* x, T* y, int64_t rows, int N, bool log) {
  const int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const T* xr = x + r * N;
  T* yr = y + r * N;
  float mx = -INFINITY;
  for (int j = 0; j < N; j++) mx = fmaxf(mx, load_f32(xr, j));
  float sum = 0.f;
  for (int j = 0; j < N; j++) sum += expf(load_f32(xr, j) - mx);
  const float lse = logf(sum);
  for (int j = 0; j < N; j++) {
    const float v = load_f32(xr, j) - mx;
    store_f32(yr, j, log ? v - lse : expf(v) / sum);
  }
}

template <typename T>
__global__ void __launch_bounds__(256) softmax_v2(const T* x, T* y, int N, bool log) {
  __shared__ float scratch[32];
  const T* xr = x + blockIdx.x * (int64_t)N;
  T* yr = y + blockIdx.x * (int64_t)N;
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < N; j += blockDim.x) mx = fmaxf(mx, load_f32(xr, j));
  mx = block_max(mx, scratch);
  float sum = 0.f;
  for (int j = threadIdx.x; j < N; j += blockDim.x) sum += expf(load_f32(xr, j) - mx);
  sum = block_sum(sum, scratch);
  const float lse = logf(sum);
  for (int j = threadIdx.x; j < N; j += blockDim.x) {
    const float v = load_f32(xr, j) - mx;
    store_f32(yr, j, log ? v - lse : expf(v) / sum);
  }
}

}  // namespace

cudaError_t softmax(int version, int dtype, const void* x, void* y, int64_t rows, int N, bool log,
                    cudaStream_t stream) {
  if (rows <= 0 || N <= 0) return cudaSuccess;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    const T* xs = static_cast<const T*>(x);
    T* ys = static_cast<T*>(y);
    if (version == 1) {
      softmax_v1<T><<<ceil_div(rows, 128), 128, 0, stream>>>(xs, ys, rows, N, log);
    } else if (version == 2) {
      if (rows > 0x7fffffff) return cudaErrorInvalidValue;
      softmax_v2<T><<<static_cast<unsigned>(rows), 256, 0, stream>>>(xs, ys, N, log);
    } else {
      return cudaErrorInvalidValue;
    }
  });
  return cudaGetLastError();
}

}  // namespace hasten
