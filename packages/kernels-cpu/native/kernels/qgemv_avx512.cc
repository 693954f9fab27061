// The AVX-512 (F) variant of the CPU kernels (16 floats per vector, 32 registers): qgemv_impl.h compiled with
// these features switched on for every function of this file only (a target attribute per function,
// through the pragma), so the addon still loads on any x86-64; binding.cc calls it only where
// __builtin_cpu_supports says the CPU has them.
#include <cstdint>
#include <cstdlib>

#include "../kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma,f16c")
#endif

namespace hasten_cpu {
namespace avx512_isa {

struct V {
  using F = __m512;
  using I = __m512i;
  static constexpr int W = 16;
  static constexpr int REGS = 32;
  static inline F load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static inline F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static inline F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static inline float half(const uint8_t* p) { return _cvtsh_ss(static_cast<unsigned short>(p[0] | (p[1] << 8))); }
  // 16-entry table lookup: lane j gets tab[idx_j & 15] (vpermps reads the low 4 bits only).
  static constexpr bool LUT16 = true;
  static inline F lut16(F tab, I idx) { return _mm512_permutexvar_ps(idx, tab); }
  static inline F iota() { return _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  static inline F add(F a, F b) { return _mm512_add_ps(a, b); }
  static inline F zero() { return _mm512_setzero_ps(); }
  static inline F set1(float v) { return _mm512_set1_ps(v); }
  static inline float hsum(F v) {  // within registers (_mm512_reduce_add_ps: GCC 12 warns inside it)
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4e));  // + the other 256-bit half
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xb1));  // + the neighbouring 128-bit lane
    __m128 s = _mm512_castps512_ps128(v);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static inline I ld_i8(const uint8_t* p) {
    return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static inline I ld_u8(const uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static inline I ld_u16(const uint8_t* p) {
    return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static inline I and_(I a, int c) { return _mm512_and_si512(a, _mm512_set1_epi32(c)); }
  static inline I or_(I a, I b) { return _mm512_or_si512(a, b); }
  static inline I srli(I a, int n) { return _mm512_srli_epi32(a, n); }
  static inline I slli(I a, int n) { return _mm512_slli_epi32(a, n); }
  static inline F cvt(I a) { return _mm512_cvtepi32_ps(a); }
  static inline F bits(I a) { return _mm512_castsi512_ps(a); }
  static inline F ld_f16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
};

#include "../qgemv_impl.h"
#include "../attention_impl.h"

}  // namespace avx512_isa

void attend_avx512(const AttendArgs& a, int64_t r0, int64_t r1, float* scratch) {
  avx512_isa::attend_rows<avx512_isa::V>(a, r0, r1, scratch);
}

void qgemv_avx512(const QgemvArgs& a, int64_t n0, int64_t n1) {
  using K = avx512_isa::Qgemv<avx512_isa::V>;
  float* buf = static_cast<float*>(std::malloc(sizeof(float) * avx512_isa::row_buffer_floats(a.k)));
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
void qgemv_avx512(const QgemvArgs& a, int64_t n0, int64_t n1) { qgemv_scalar(a, n0, n1); }
void attend_avx512(const AttendArgs& a, int64_t r0, int64_t r1, float* scratch) { attend_scalar(a, r0, r1, scratch); }
}  // namespace hasten_cpu
#endif
