// Rotary position embedding (RoFormer, arXiv:2104.09864), the layout of core-tensor's rope:
// x [B, H, S, D] contiguous, positions i32 [S] or [B, S]. The first rotary_dim features rotate:
//   rotate_half (HF default): feature i pairs with i + rotary_dim/2 at frequency i
//   interleaved (GPT-J):      features 2i and 2i + 1 pair at frequency i
// (a, b) at position p -> (a cos phi - b sin phi, b cos phi + a sin phi), phi = p * inv_freq[i] in f64,
// as the reference does; the rest of the features are copied. The reference is core-tensor's rope on
// its 'reference' backend; inv_freq comes from core-tensor's ropeInvFreq (shared scaling rules).
//
// Versions:
//   v1  one thread per rotated pair or copied feature. (Memory-bound and already coalesced for
//       rotate_half; a fused rope + KV write is the next step, not a faster version of this one.)
// Compile: nvcc -c -std=c++17 -gencode arch=compute_90,code=sm_90 -I.. rope.cu
#include "../common.cuh"
#include "../kernels.h"

namespace hasten {
namespace {

template <typename T>
__global__ void rope_v1(const T* x, const int32_t* positions, int pos_batch_stride, const double* inv_freq, T* y,
                        int H, int S, int D, int rotary_dim, bool interleaved, int64_t total) {
  const int half = rotary_dim / 2;
  const int per_row = half + (D - rotary_dim);  // rotated pairs, then copied features
  const int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (t >= total) return;
  const int64_t row = t / per_row;  // (b, h, s) flattened
  const int i = static_cast<int>(t % per_row);
  const int64_t base = row * D;
  if (i >= half) {  // pass-through feature
    const int j = rotary_dim + (i - half);
    y[base + j] = x[base + j];
    return;
  }
  const int s = static_cast<int>(row % S);
  const int b = static_cast<int>(row / ((int64_t)S * H));
  const double p = positions[(int64_t)b * pos_batch_stride + s];
  double sn, c;
  sincos(p * inv_freq[i], &sn, &c);
  const int64_t ia = base + (interleaved ? 2 * i : i);
  const int64_t ib = base + (interleaved ? 2 * i + 1 : i + half);
  const double a = load_f32(x, ia), bb = load_f32(x, ib);
  store_f32(y, ia, static_cast<float>(a * c - bb * sn));
  store_f32(y, ib, static_cast<float>(bb * c + a * sn));
}

}  // namespace

cudaError_t rope(int version, int dtype, const void* x, const int32_t* positions, int pos_batch_stride,
                 const double* inv_freq, void* y, int B, int H, int S, int D, int rotary_dim, bool interleaved,
                 cudaStream_t stream) {
  const int per_row = rotary_dim / 2 + (D - rotary_dim);
  const int64_t total = (int64_t)B * H * S * per_row;
  if (total <= 0) return cudaSuccess;
  if (version != 1) return cudaErrorInvalidValue;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    rope_v1<T><<<ceil_div(total, 256), 256, 0, stream>>>(static_cast<const T*>(x), positions, pos_batch_stride,
                                                         inv_freq, static_cast<T*>(y), H, S, D, rotary_dim,
                                                         interleaved, total);
  });
  return cudaGetLastError();
}

}  // namespace hasten
