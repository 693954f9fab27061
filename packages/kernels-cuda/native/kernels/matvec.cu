// Matrix-vector products for decode: y[m, n] = sum_k x[m, k] * W[n, k] for a few rows m, with W in the
// Linear layout [N, K] and stored as f32, f16, bf16 or a weight-only quantized format, dequantised
// inside the product (no widened copy of W). f32 accumulation; x and y share the activation dtype.
// CPU reference: src/reference/matvec-reference.ts (the formats are defined there too):
//   int8: q int8 [N, K], scale f16 [N]: w = q * scale[n]                          (per output channel)
//   int4: bytes [N, K/2], low nibble = even k, scale f16 [N, K/group]: w = (q - 8) * scale[n, k/group]
//
// Versions:
//   v1  one thread per output (m, n), a plain loop over k.
//   v2  one warp per output: lanes read consecutive k (coalesced rows of W), then a warp reduction.
// Compile: nvcc -c -std=c++17 -gencode arch=compute_90,code=sm_90 -I.. matvec.cu
#include "../common.cuh"
#include "../kernels.h"

namespace hasten {
namespace {

enum WeightFormat : int { W_F32 = 0, W_F16 = 1, W_BF16 = 2, W_INT8 = 3, W_INT4 = 4 };

// The dequantised weight W[n, k] as f32, for each format.
template <int FMT>
__device__ __forceinline__ float weight(const void* W, const __half* scales, int64_t n, int64_t k, int K, int group) {
  if constexpr (FMT == W_F32) {
    return static_cast<const float*>(W)[n * K + k];
  } else if constexpr (FMT == W_F16) {
    return __half2float(static_cast<const __half*>(W)[n * K + k]);
  } else if constexpr (FMT == W_BF16) {
    return __bfloat162float(static_cast<const __nv_bfloat16*>(W)[n * K + k]);
  } else if constexpr (FMT == W_INT8) {
    return static_cast<float>(static_cast<const int8_t*>(W)[n * K + k]) * __half2float(scales[n]);
  } else {
    const uint8_t byte = static_cast<const uint8_t*>(W)[n * (K / 2) + k / 2];
    const int q = (k & 1) ? (byte >> 4) : (byte & 0xF);
    return static_cast<float>(q - 8) * __half2float(scales[n * (K / group) + k / group]);
  }
}

template <typename TA, int FMT>
__global__ void matvec_v1(const TA* x, const void* W, const __half* scales, TA* y, int M, int N, int K, int group) {
  const int n = blockIdx.x * blockDim.x + threadIdx.x;
  const int m = blockIdx.y;
  if (n >= N) return;
  float acc = 0.f;
  for (int k = 0; k < K; k++) acc += load_f32(x, (int64_t)m * K + k) * weight<FMT>(W, scales, n, k, K, group);
  store_f32(y, (int64_t)m * N + n, acc);
}

constexpr int V2_WARPS = 8;

template <typename TA, int FMT>
__global__ void __launch_bounds__(V2_WARPS * 32)
    matvec_v2(const TA* x, const void* W, const __half* scales, TA* y, int M, int N, int K, int group) {
  const int lane = threadIdx.x & 31;
  const int n = blockIdx.x * V2_WARPS + (threadIdx.x >> 5);
  const int m = blockIdx.y;
  if (n >= N) return;  // whole warps leave together, so the shuffles below stay full-warp
  float acc = 0.f;
  for (int k = lane; k < K; k += 32) acc += load_f32(x, (int64_t)m * K + k) * weight<FMT>(W, scales, n, k, K, group);
  acc = warp_sum(acc);
  if (lane == 0) store_f32(y, (int64_t)m * N + n, acc);
}

template <typename TA, int FMT>
cudaError_t launch(int version, const void* x, const void* W, const void* scales, void* y, int M, int N, int K,
                   int group, cudaStream_t stream) {
  const TA* xa = static_cast<const TA*>(x);
  TA* ya = static_cast<TA*>(y);
  const __half* s = static_cast<const __half*>(scales);
  if (version == 1) {
    dim3 grid(ceil_div(N, 128), M);
    matvec_v1<TA, FMT><<<grid, 128, 0, stream>>>(xa, W, s, ya, M, N, K, group);
  } else if (version == 2) {
    dim3 grid(ceil_div(N, V2_WARPS), M);
    matvec_v2<TA, FMT><<<grid, V2_WARPS * 32, 0, stream>>>(xa, W, s, ya, M, N, K, group);
  } else {
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t matvec(int version, int act_dtype, int wfmt, const void* x, const void* W, const void* scales, void* y,
                   int M, int N, int K, int group, cudaStream_t stream) {
  if (M <= 0 || N <= 0) return cudaSuccess;
  if (M > 65535) return cudaErrorInvalidValue;
  HASTEN_DISPATCH_FLOAT(act_dtype, TA, {
    switch (wfmt) {
      case W_F32:
        return launch<TA, W_F32>(version, x, W, scales, y, M, N, K, group, stream);
      case W_F16:
        return launch<TA, W_F16>(version, x, W, scales, y, M, N, K, group, stream);
      case W_BF16:
        return launch<TA, W_BF16>(version, x, W, scales, y, M, N, K, group, stream);
      case W_INT8:
        return launch<TA, W_INT8>(version, x, W, scales, y, M, N, K, group, stream);
      case W_INT4:
        return launch<TA, W_INT4>(version, x, W, scales, y, M, N, K, group, stream);
      default:
        return cudaErrorInvalidValue;
    }
  });
  return cudaErrorInvalidValue;
}

}  // namespace hasten
