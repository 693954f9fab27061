// The AVX-512 VNNI integer-dot kernels (configureCpuKernels({ dot: 'int8' })): qdot_impl.h with one
// block of 32 codes per 256-bit register (AVX512-VL encodings), dotted with 32 int8 codes of x by
// one vpdpbusd (u8 x s8, four products summed into each int32 lane, no intermediate saturation).
// Unsigned codes (nibbles, asymmetric int8 0..255) go in as they are; signed codes by the sign trick
// |q| x sign(xq, q), as llama.cpp's x86 kernels (ggml-cpu/arch/x86/quants.c). Compiled with these
// features for this file's functions only; binding.cc calls it only where __builtin_cpu_supports
// reports avx512f, avx512bw, avx512vl and avx512vnni.
#include <cstdint>

#include "../kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")
#endif

namespace hasten_cpu {
namespace qdot_vnni_isa {

#include "../qdot_x86_256.h"

struct D : Base256 {
  static constexpr bool U8_FULL = true;
  static inline Acc sum4(__m256i w, __m256i x, int32_t off, float s, Acc acc) {
    const __m256i p32 = _mm256_dpbusd_epi32(_mm256_zextsi128_si256(_mm_cvtsi32_si128(off)), w, x);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_set1_ps(s), acc);
  }
  static inline Acc dot_s8(Wb w, const int8_t* x, int32_t off, float s, Acc acc) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    return sum4(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w), off, s, acc);
  }
  static inline Acc dot_u8(Wb w, const int8_t* x, int32_t off, float s, Acc acc) {  // codes 0..255
    return sum4(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)), off, s, acc);
  }
  // Pairs of blocks in 512-bit vectors.
  static constexpr bool PAIR = true;
  using W2 = __m512i;
  using F2 = __m512;
  using Acc2 = __m512;
  static inline W2 join(Wb lo, Wb hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
  static inline W2 ld2(const uint8_t* p) { return _mm512_loadu_si512(p); }
  // The 32 nibbles of p0 (16 bytes) then of p1: [p0 low, p0 high, p1 low, p1 high] by 16 bytes.
  static inline W2 nib2(const uint8_t* p0, const uint8_t* p1) {
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0))),
                                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1);
    const __m512i t = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, 4), 1),
                                       _mm512_set1_epi8(15));
    return _mm512_shuffle_i64x2(t, t, _MM_SHUFFLE(3, 1, 2, 0));
  }
  static inline W2 subz2(W2 w, int z0, int z1) {
    const __m512i z = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(z0)), _mm256_set1_epi8(static_cast<char>(z1)), 1);
    return _mm512_sub_epi8(w, z);
  }
  static inline W2 nib_pair(const uint8_t* p) {
    const __m256i v = ld(p), m = _mm256_set1_epi8(15);
    return join(_mm256_and_si256(v, m), _mm256_and_si256(_mm256_srli_epi16(v, 4), m));
  }
  static inline W2 q6_pair(const uint8_t* ql, const uint8_t* qh, int sl, int sh) {  // codes - 32
    const __m512i lo = _mm512_and_si512(_mm512_srl_epi16(_mm512_loadu_si512(ql), _mm_cvtsi32_si128(sl)), _mm512_set1_epi8(15));
    const __m256i h = ld(qh);
    const __m512i hh = join(_mm256_srl_epi16(h, _mm_cvtsi32_si128(sh)), _mm256_srl_epi16(h, _mm_cvtsi32_si128(sh + 2)));
    const __m512i hi = _mm512_slli_epi16(_mm512_and_si512(hh, _mm512_set1_epi8(3)), 4);
    return _mm512_sub_epi8(_mm512_or_si512(lo, hi), _mm512_set1_epi8(32));
  }
  static inline F2 scales4(const float* s) {  // s[0..3], one per 16 weights (4 int32 lanes)
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                 _mm512_castps128_ps512(_mm_loadu_ps(s)));
  }
  static inline W2 zvec(int z) { return _mm512_set1_epi8(static_cast<char>(z)); }
  static inline W2 subz(W2 w, W2 z) { return _mm512_sub_epi8(w, z); }
  static inline F2 scales2f(float s0, float s1) {
    return _mm512_castsi512_ps(_mm512_inserti64x4(_mm512_castsi256_si512(_mm256_castps_si256(_mm256_set1_ps(s0))),
                                                  _mm256_castps_si256(_mm256_set1_ps(s1)), 1));
  }
  static inline F2 scales2(const uint8_t* h0, const uint8_t* h1) {  // two f16 scales
    const __m128i h = _mm_insert_epi16(_mm_cvtsi32_si128(h0[0] | (h0[1] << 8)), h1[0] | (h1[1] << 8), 1);
    const __m512 s = _mm512_castps128_ps512(_mm_cvtph_ps(h));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), s);
  }
  // acc + (s · dx) · (codes · x by lanes): |c| x sign(x, c), c in [-128, 127]; dx the two blocks' scales.
  static inline Acc2 dot2(W2 w, const int8_t* x, const float* dx, F2 s, Acc2 acc) {
    const __m512i xv = _mm512_loadu_si512(x);
    const __m512i xs = _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(w), _mm512_setzero_si512(), xv);
    const __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w), xs);
    const __m512 dx2 = _mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
        _mm512_castps128_ps512(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(dx)))));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(s, dx2), acc);
  }
  static inline Acc2 zero2() { return _mm512_setzero_ps(); }
  static inline float hsum2(Acc2 v) {
    return hsum(_mm256_add_ps(_mm512_castps512_ps256(v),
                              _mm256_castsi256_ps(_mm512_extracti64x4_epi64(_mm512_castps_si512(v), 1))));
  }
  static inline Acc dot_s8h(Wb w, const int8_t* x, float s0, float s1, Acc acc) {  // lanes 0..3: elements 0..15
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    const __m256i p32 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), halves(s0, s1), acc);
  }
};

#include "../qdot_impl.h"

}  // namespace qdot_vnni_isa

void qdot_avx512vnni(const QgemvArgs& a, int64_t n0, int64_t n1) { qdot_vnni_isa::Qdot<qdot_vnni_isa::D>::run(a, n0, n1); }

}  // namespace hasten_cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else  // not x86: never selected (binding.cc offers only 'scalar' there)
namespace hasten_cpu {
void qdot_avx512vnni(const QgemvArgs& a, int64_t n0, int64_t n1) { qdot_scalar(a, n0, n1); }
}  // namespace hasten_cpu
#endif
