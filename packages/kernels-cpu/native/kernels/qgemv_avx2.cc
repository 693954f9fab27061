// The AVX2 + FMA + F16C variant of the CPU kernels (8 floats per vector): qgemv_impl.h compiled with
// these features switched on for every function of this file only (a target attribute per function,
// through the pragma), so the addon still loads on any x86-64; binding.cc calls it only where
// __builtin_cpu_supports says the CPU has them.
#include <cstdint>
#include <cstdlib>

#include "../kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

namespace hasten_cpu {
namespace avx2_isa {

struct V {
  using F = __m256;
  using I = __m256i;
  static constexpr int W = 8;
  static constexpr int REGS = 16;
  static inline F load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static inline F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static inline F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static inline float half(const uint8_t* p) { return _cvtsh_ss(static_cast<unsigned short>(p[0] | (p[1] << 8))); }
  static constexpr bool LUT16 = false;  // no 16-entry permute: nibbles are converted
  static inline F lut16(F tab, I) { return tab; }
  static inline F iota() { return zero(); }
  static inline F add(F a, F b) { return _mm256_add_ps(a, b); }
  static inline F zero() { return _mm256_setzero_ps(); }
  static inline F set1(float v) { return _mm256_set1_ps(v); }
  static inline float hsum(F v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static inline I ld_i8(const uint8_t* p) {
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static inline I ld_u8(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static inline I ld_u16(const uint8_t* p) {
    return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static inline I and_(I a, int c) { return _mm256_and_si256(a, _mm256_set1_epi32(c)); }
  static inline I or_(I a, I b) { return _mm256_or_si256(a, b); }
  static inline I srli(I a, int n) { return _mm256_srli_epi32(a, n); }
  static inline I slli(I a, int n) { return _mm256_slli_epi32(a, n); }
  static inline F cvt(I a) { return _mm256_cvtepi32_ps(a); }
  static inline F bits(I a) { return _mm256_castsi256_ps(a); }
  static inline F ld_f16(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};

#include "../qgemv_impl.h"
#include "../attention_impl.h"

}  // namespace avx2_isa

void attend_avx2(const AttendArgs& a, int64_t r0, int64_t r1, float* scratch) {
  avx2_isa::attend_rows<avx2_isa::V>(a, r0, r1, scratch);
}

void qgemv_avx2(const QgemvArgs& a, int64_t n0, int64_t n1) {
  using K = avx2_isa::Qgemv<avx2_isa::V>;
  float* buf = static_cast<float*>(std::malloc(sizeof(float) * avx2_isa::row_buffer_floats(a.k)));
  if (!buf) return;
  K::run(a, n0, n1, buf);
  std::free(buf);
}

}  // namespace hasten_cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else  // not x86: never selected (binding.cc offers only 'scalar' there)
namespace hasten_cpu {
void qgemv_avx2(const QgemvArgs& a, int64_t n0, int64_t n1) { qgemv_scalar(a, n0, n1); }
void attend_avx2(const AttendArgs& a, int64_t r0, int64_t r1, float* scratch) { attend_scalar(a, r0, r1, scratch); }
}  // namespace hasten_cpu
#endif
