// GEMM: C[b] = A[b] @ B[b] (row-major; B is [K, N], or [N, K] when transB, the Linear weight layout),
// f32 accumulation, output in the input dtype. The reference is core-tensor's matmul on its
// 'reference' backend (f64 accumulation).
//
// Versions (the llm.c / gpu.cpp ladder, see shared/reference/tensor-kernels-style-anchors.md):
//   v1  one thread per output element, reading A and B from global memory.
//   v2  64x64 block tile, BK = 16 staged in shared memory (as f32), each of 256 threads owns a 4x4
//       register tile (rows ty + 16i, columns tx + 16j, so the shared reads are conflict-free).
//   v3  tensor cores through WMMA (16x16x16, f16/bf16 in, f32 accumulate; sm_80+): a 64x64 block tile
//       of 4 warps, each warp 32x32 = 2x2 fragments, BK = 32 staged in shared memory. Not Hopper's
//       wgmma/TMA path; expect it below cuBLAS (measured by scripts/gpu-check.sh).
// Compile: nvcc -c -std=c++17 -gencode arch=compute_90,code=sm_90 -I.. gemm.cu
#include <mma.h>

#include "../common.cuh"
#include "../kernels.h"

namespace hasten {
namespace {

template <typename T>
__global__ void gemm_v1(const T* A, const T* B, T* C, int M, int N, int K, int64_t sA, int64_t sB, int64_t sC,
                        bool transB) {
  const int n = blockIdx.x * blockDim.x + threadIdx.x;
  const int m = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;
  const T* a = A + blockIdx.z * sA;
  const T* b = B + blockIdx.z * sB;
  float acc = 0.f;
  for (int k = 0; k < K; k++) {
    const float bv = transB ? load_f32(b, (int64_t)n * K + k) : load_f32(b, (int64_t)k * N + n);
    acc += load_f32(a, (int64_t)m * K + k) * bv;
  }
  store_f32(C + blockIdx.z * sC, (int64_t)m * N + n, acc);
}

constexpr int V2_BM = 64, V2_BN = 64, V2_BK = 16;

template <typename T>
__global__ void __launch_bounds__(256) gemm_v2(const T* A, const T* B, T* C, int M, int N, int K, int64_t sA,
                                               int64_t sB, int64_t sC, bool transB) {
  __shared__ float As[V2_BK][V2_BM];  // A tile, transposed: As[k][m]
  __shared__ float Bs[V2_BK][V2_BN];  // B tile: Bs[k][n]
  const T* a = A + blockIdx.z * sA;
  const T* b = B + blockIdx.z * sB;
  const int m0 = blockIdx.y * V2_BM, n0 = blockIdx.x * V2_BN;
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < K; k0 += V2_BK) {
    // 1024 elements per tile, 4 per thread; out-of-range elements are zero.
    for (int e = tid; e < V2_BM * V2_BK; e += 256) {
      const int mm = e / V2_BK, kk = e % V2_BK;  // consecutive threads walk k: coalesced rows of A
      const int gm = m0 + mm, gk = k0 + kk;
      As[kk][mm] = (gm < M && gk < K) ? load_f32(a, (int64_t)gm * K + gk) : 0.f;
    }
    for (int e = tid; e < V2_BK * V2_BN; e += 256) {
      int kk, nn;
      if (transB) {  // B[n][k]: walk k fastest for coalescing
        nn = e / V2_BK;
        kk = e % V2_BK;
      } else {  // B[k][n]: walk n fastest
        kk = e / V2_BN;
        nn = e % V2_BN;
      }
      const int gk = k0 + kk, gn = n0 + nn;
      float v = 0.f;
      if (gk < K && gn < N) v = transB ? load_f32(b, (int64_t)gn * K + gk) : load_f32(b, (int64_t)gk * N + gn);
      Bs[kk][nn] = v;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < V2_BK; kk++) {
      float ar[4], br[4];
#pragma unroll
      for (int i = 0; i < 4; i++) ar[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; j++) br[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] += ar[i] * br[j];
    }
    __syncthreads();
  }
  T* c = C + blockIdx.z * sC;
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int gm = m0 + ty + 16 * i;
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int gn = n0 + tx + 16 * j;
      if (gn < N) store_f32(c, (int64_t)gm * N + gn, acc[i][j]);
    }
  }
}

constexpr int V3_BM = 64, V3_BN = 64, V3_BK = 32;
constexpr int V3_LDA = V3_BK + 8;  // +8 halves of padding against bank conflicts (WMMA needs ld % 8 == 0)
constexpr int V3_LDB = V3_BN + 8;
constexpr int V3_LDC = V3_BN + 4;

// WMMA exists for __half from sm_70 and for __nv_bfloat16 from sm_80; this file is built for sm_80+.
template <typename T>
__global__ void __launch_bounds__(128) gemm_v3(const T* A, const T* B, T* C, int M, int N, int K, int64_t sA,
                                               int64_t sB, int64_t sC, bool transB) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  __shared__ __align__(32) T As[V3_BM][V3_LDA];
  __shared__ __align__(32) T Bs[V3_BK][V3_LDB];
  __shared__ __align__(32) float Cs[V3_BM][V3_LDC];
  const T* a = A + blockIdx.z * sA;
  const T* b = B + blockIdx.z * sB;
  const int m0 = blockIdx.y * V3_BM, n0 = blockIdx.x * V3_BN;
  const int tid = threadIdx.x, warp = tid / 32;
  const int wr = warp / 2, wc = warp % 2;  // this warp's 32x32 quadrant of the block tile
  const T zero = T(0.f);

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);

  for (int k0 = 0; k0 < K; k0 += V3_BK) {
    for (int e = tid; e < V3_BM * V3_BK; e += 128) {
      const int mm = e / V3_BK, kk = e % V3_BK;
      const int gm = m0 + mm, gk = k0 + kk;
      As[mm][kk] = (gm < M && gk < K) ? a[(int64_t)gm * K + gk] : zero;
    }
    for (int e = tid; e < V3_BK * V3_BN; e += 128) {
      int kk, nn;
      if (transB) {
        nn = e / V3_BK;
        kk = e % V3_BK;
      } else {
        kk = e / V3_BN;
        nn = e % V3_BN;
      }
      const int gk = k0 + kk, gn = n0 + nn;
      T v = zero;
      if (gk < K && gn < N) v = transB ? b[(int64_t)gn * K + gk] : b[(int64_t)gk * N + gn];
      Bs[kk][nn] = v;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < V3_BK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb[2];
#pragma unroll
      for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], &As[wr * 32 + i * 16][kk], V3_LDA);
#pragma unroll
      for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], &Bs[kk][wc * 32 + j * 16], V3_LDB);
#pragma unroll
      for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    __syncthreads();
  }
  // Through shared memory, so the edges can be bounds-checked and converted to T.
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < 2; j++)
      wmma::store_matrix_sync(&Cs[wr * 32 + i * 16][wc * 32 + j * 16], acc[i][j], V3_LDC, wmma::mem_row_major);
  __syncthreads();
  T* c = C + blockIdx.z * sC;
  for (int e = tid; e < V3_BM * V3_BN; e += 128) {
    const int mm = e / V3_BN, nn = e % V3_BN;
    const int gm = m0 + mm, gn = n0 + nn;
    if (gm < M && gn < N) store_f32(c, (int64_t)gm * N + gn, Cs[mm][nn]);
  }
#endif
}

template <typename T>
void launch_v3(const T* a, const T* b, T* c, int batch, int M, int N, int K, int64_t sA, int64_t sB, int64_t sC,
               bool transB, cudaStream_t stream) {
  dim3 grid(ceil_div(N, V3_BN), ceil_div(M, V3_BM), batch);
  gemm_v3<T><<<grid, 128, 0, stream>>>(a, b, c, M, N, K, sA, sB, sC, transB);
}
// Tensor cores here take f16/bf16 only (the TS side rejects f32 with v3 first).
template <>
void launch_v3<float>(const float*, const float*, float*, int, int, int, int, int64_t, int64_t, int64_t, bool,
                      cudaStream_t) {}

}  // namespace

cudaError_t gemm(int version, int dtype, const void* A, const void* B, void* C, int batch, int M, int N, int K,
                 int64_t sA, int64_t sB, int64_t sC, bool transB, cudaStream_t stream) {
  if (batch <= 0 || M <= 0 || N <= 0) return cudaSuccess;
  if (batch > 65535) return cudaErrorInvalidValue;
  HASTEN_DISPATCH_FLOAT(dtype, T, {
    const T* a = static_cast<const T*>(A);
    const T* b = static_cast<const T*>(B);
    T* c = static_cast<T*>(C);
    if (version == 1) {
      dim3 block(16, 16), grid(ceil_div(N, 16), ceil_div(M, 16), batch);
      gemm_v1<T><<<grid, block, 0, stream>>>(a, b, c, M, N, K, sA, sB, sC, transB);
    } else if (version == 2) {
      dim3 grid(ceil_div(N, V2_BN), ceil_div(M, V2_BM), batch);
      gemm_v2<T><<<grid, 256, 0, stream>>>(a, b, c, M, N, K, sA, sB, sC, transB);
    } else if (version == 3) {
      if (dtype == F32) return cudaErrorInvalidValue;
      launch_v3<T>(a, b, c, batch, M, N, K, sA, sB, sC, transB, stream);
    } else {
      return cudaErrorInvalidValue;
    }
  });
  return cudaGetLastError();
}

}  // namespace hasten
