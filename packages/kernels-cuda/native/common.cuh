// Shared device helpers for the Hasten CUDA kernels: dtype tags, load/store conversions to f32,
// warp and block reductions. Every kernel accumulates in f32 (f64 where a file says so), whatever
// the storage dtype, as the CPU references do.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cstdint>

namespace hasten {

// Storage dtypes of the float kernels. The numbers are the addon's wire format (src/dtype-codes.ts).
enum DType : int { F32 = 0, F16 = 1, BF16 = 2 };

__device__ __forceinline__ float load_f32(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load_f32(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ float load_f32(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }

__device__ __forceinline__ void store_f32(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store_f32(__half* p, int64_t i, float v) { p[i] = __float2half_rn(v); }
__device__ __forceinline__ void store_f32(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `scratch` needs 32 entries. Starts and ends with a barrier so it can be called repeatedly.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T total = 0;
  for (int w = 0; w < warps; w++) total += scratch[w];
  return total;
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();
  v = warp_max(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float m = -INFINITY;
  for (int w = 0; w < warps; w++) m = fmaxf(m, scratch[w]);
  return m;
}

inline unsigned ceil_div(int64_t a, int64_t b) { return static_cast<unsigned>((a + b - 1) / b); }

}  // namespace hasten

// Dispatch a templated launch on the runtime dtype: HASTEN_DISPATCH_FLOAT(dtype, T, body) runs `body`
// with T bound to float, __half or __nv_bfloat16; an unknown code returns cudaErrorInvalidValue.
#define HASTEN_DISPATCH_FLOAT(dtype, T, ...)                 \
  switch (dtype) {                                           \
    case ::hasten::F32: {                                    \
      using T = float;                                       \
      __VA_ARGS__;                                           \
      break;                                                 \
    }                                                        \
    case ::hasten::F16: {                                    \
      using T = __half;                                      \
      __VA_ARGS__;                                           \
      break;                                                 \
    }                                                        \
    case ::hasten::BF16: {                                   \
      using T = __nv_bfloat16;                               \
      __VA_ARGS__;                                           \
      break;                                                 \
    }                                                        \
    default:                                                 \
      return cudaErrorInvalidValue;                          \
  }
