// The AVX2 integer-dot kernels (configureCpuKernels({ dot: 'int8' })): qdot_impl.h with one block
// of 32 codes per 256-bit register, dotted with 32 int8 codes of x by vpmaddubsw (u8 x s8 pairs ->
// int16) and vpmaddwd (pairs -> int32), as llama.cpp's AVX2 kernels (ggml-cpu/arch/x86/quants.c,
// mul_sum_i8_pairs). Signed codes by the sign trick: |q| x sign(xq, q); |q| <= 128 and |xq| <= 127
// keep each int16 pair sum within 2 * 128 * 127 = 32512 (no saturation). Unsigned int8 codes
// (0..255) would not, so they arrive offset by -128 (ld_flip). Compiled with AVX2 + FMA + F16C for
// this file's functions only (see qgemv_avx2.cc); binding.cc calls it only where the CPU has them.
#include <cstdint>

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
namespace qdot_avx2_isa {

#include "../qdot_x86_256.h"

struct D : Base256 {
  static constexpr bool PAIR = false;  // one block at a time
  using W2 = int;
  using F2 = float;
  using Acc2 = float;
  static inline F2 scales2f(float, float) { return 0.0f; }
  static inline W2 zvec(int) { return 0; }
  static constexpr bool U8_FULL = false;
  static inline Acc sum_pairs(__m256i p16, int32_t off, float s, Acc acc) {
    const __m256i p32 = _mm256_add_epi32(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)), _mm256_zextsi128_si256(_mm_cvtsi32_si128(off)));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_set1_ps(s), acc);
  }
  static inline Acc dot_s8(Wb w, const int8_t* x, int32_t off, float s, Acc acc) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    return sum_pairs(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w)), off, s, acc);
  }
  static inline Acc dot_u8(Wb w, const int8_t* x, int32_t off, float s, Acc acc) {  // codes <= 127
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    return sum_pairs(_mm256_maddubs_epi16(w, xv), off, s, acc);
  }
  static inline Acc dot_s8h(Wb w, const int8_t* x, float s0, float s1, Acc acc) {  // lanes 0..3: elements 0..15
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    const __m256i p32 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w)), _mm256_set1_epi16(1));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), halves(s0, s1), acc);
  }
};

#include "../qdot_impl.h"

}  // namespace qdot_avx2_isa

void qdot_avx2(const QgemvArgs& a, int64_t n0, int64_t n1) { qdot_avx2_isa::Qdot<qdot_avx2_isa::D>::run(a, n0, n1); }

}  // namespace hasten_cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else  // not x86: never selected (binding.cc offers only 'scalar' there)
namespace hasten_cpu {
void qdot_avx2(const QgemvArgs& a, int64_t n0, int64_t n1) { qdot_scalar(a, n0, n1); }
}  // namespace hasten_cpu
#endif
