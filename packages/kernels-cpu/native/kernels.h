// The CPU matrix-vector kernels of @hasten/kernels-cpu: y[r, n] = sum_k x[r, k] W[n, k] for r < m,
// n in [n0, n1), with W kept in one of core-tensor's QuantizedWeight layouts (bytes as stored, no
// repacking; packages/core-tensor/src/ops/quant/*.ts documents each layout). Each ISA file
// (kernels/qgemv_{scalar,avx2,avx512}.cc) compiles qgemv_impl.h under its own target attributes and
// exports one entry point; binding.cc picks one at run time (__builtin_cpu_supports).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace hasten_cpu {

// Format codes (src/formats.ts keeps the same numbers).
enum Format : int {
  kF32 = 0,
  kF16 = 1,
  kBf16 = 2,
  kInt8 = 3,       // per output channel; scales f16 or f32 (scale_f32)
  kInt8Group = 4,  // groups of g along K, f16 scales; int8 (symmetric) or u8 + zeros (asymmetric)
  kInt4Group = 5,  // groups of g, 16-byte runs of 32 nibbles; code 8 or zeros[] is zero
  kQ8_0 = 6,
  kQ4_0 = 7,
  kQ4_K = 8,
  kQ6_K = 9,
  kFormatCount = 10,
};

struct QgemvArgs {
  int format;
  int64_t n, k;
  int g;                   // group size (group formats)
  int scale_f32;           // kInt8: scales are f32 (else f16)
  const uint8_t* w;        // weight bytes (f32 for kF32)
  const uint8_t* scales;   // kInt8 / group formats
  const uint8_t* zeros;    // asymmetric group formats, else null
  const float* x;          // [m, k] row-major
  int64_t m;
  float* y;                // [m, n] row-major
  // dot 'int8' only (else null / 0): x quantized by binding.cc per row in kb = ceil(k / 32) blocks of
  // 32 (the last zero-padded): xq [m, kb * 32] int8, xd [m, kb] f32 scales, xs [m, kb] block sums of xq.
  const int8_t* xq = nullptr;
  const float* xd = nullptr;
  const int32_t* xs = nullptr;
  const float* xds = nullptr;  // [m, kb] xd * xs (Q4_K only: its min terms)
  int64_t kb = 0;
};

// The formats with an integer-dot kernel (dot 'int8'); the others keep the float kernels.
inline bool has_int8_dot(int format) {
  return format == kInt8 || format == kInt8Group || format == kInt4Group || format == kQ8_0 || format == kQ4_0 ||
         format == kQ4_K || format == kQ6_K;
}

// One entry point per ISA; rows n0..n1 of the output for all m rows of x.
using QgemvFn = void (*)(const QgemvArgs&, int64_t n0, int64_t n1);
void qgemv_scalar(const QgemvArgs&, int64_t n0, int64_t n1);
void qgemv_avx2(const QgemvArgs&, int64_t n0, int64_t n1);
void qgemv_avx512(const QgemvArgs&, int64_t n0, int64_t n1);
// The integer-dot kernels (qdot_impl.h; args.xq set): scalar, AVX2 (maddubs / madd), AVX-512 VNNI
// (vpdpbusd: two blocks per 512-bit vector where the format allows, else one per 256-bit AVX512-VL).
void qdot_scalar(const QgemvArgs&, int64_t n0, int64_t n1);
void qdot_avx2(const QgemvArgs&, int64_t n0, int64_t n1);
void qdot_avx512vnni(const QgemvArgs&, int64_t n0, int64_t n1);

// Scaled dot-product attention in f32 (attention_impl.h, compiled by each ISA file beside qgemv_impl.h):
// q [B, Hq, S, D] against T keys and values of Hkv heads, output contiguous [B, Hq, S, Dv]. Strides
// in elements; keys and values unit-stride along d.
struct AttendArgs {
  const float* q;
  int64_t qb, qh, qs, qd;
  const float* k;
  int64_t kb, kh, kt;
  const float* v;
  int64_t vb, vh, vt;
  const uint8_t* mask;  // null: no mask
  int64_t mb, mh, ms, mt;
  int64_t B, Hq, Hkv, S, T, D, Dv;
  int causal;
  float scale;
  float* out;
};

// Rows r0..r1 of the flattened [B, Hq, S] query rows; scratch holds D + T floats.
using AttendFn = void (*)(const AttendArgs&, int64_t r0, int64_t r1, float* scratch);
void attend_scalar(const AttendArgs&, int64_t r0, int64_t r1, float* scratch);
void attend_avx2(const AttendArgs&, int64_t r0, int64_t r1, float* scratch);
void attend_avx512(const AttendArgs&, int64_t r0, int64_t r1, float* scratch);

}  // namespace hasten_cpu
