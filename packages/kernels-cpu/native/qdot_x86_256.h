// The 256-bit helpers shared by the AVX2 and AVX-512 VNNI integer-dot traits (kernels/qdot_avx2.cc,
// kernels/qdot_avx512vnni.cc): one block of 32 codes per register, loads and nibble / Q6_K unpacking,
// and the f32 accumulator's add / horizontal sum. Like qdot_impl.h it includes nothing and is
// included inside each ISA's namespace, after that file switched its target features on; each trait
// D derives from Base256 and adds its dot products.

struct Base256 {
  using Acc = __m256;
  using Wb = __m256i;
  static inline Wb ld(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static inline Wb ld_flip(const uint8_t* p) { return _mm256_xor_si256(ld(p), _mm256_set1_epi8(static_cast<char>(0x80))); }
  static inline Wb nib(const uint8_t* p) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), m = _mm_set1_epi8(15);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
  }
  static inline Wb nib_lo(const uint8_t* p) { return _mm256_and_si256(ld(p), _mm256_set1_epi8(15)); }
  static inline Wb nib_hi(const uint8_t* p) { return _mm256_and_si256(_mm256_srli_epi16(ld(p), 4), _mm256_set1_epi8(15)); }
  static inline Wb q6(const uint8_t* ql, const uint8_t* qh, int sl, int sh) {  // codes - 32, signed
    const __m256i lo = _mm256_and_si256(_mm256_srl_epi16(ld(ql), _mm_cvtsi32_si128(sl)), _mm256_set1_epi8(15));
    const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(ld(qh), _mm_cvtsi32_si128(sh)), _mm256_set1_epi8(3));
    return _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)), _mm256_set1_epi8(32));
  }
  static inline __m256 halves(float s0, float s1) { return _mm256_setr_m128(_mm_set1_ps(s0), _mm_set1_ps(s1)); }
  static inline Acc zero() { return _mm256_setzero_ps(); }
  static inline Acc add(Acc a, Acc b) { return _mm256_add_ps(a, b); }
  static inline float hsum(Acc v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static inline float half(const uint8_t* p) { return _cvtsh_ss(static_cast<unsigned short>(p[0] | (p[1] << 8))); }
  // out[j] = mul * byte j of v (Q4_K's scales and mins: one vector conversion instead of eight
  // scalar ones, whose merges into one register serialise them).
  static inline void scale8(uint64_t v, float mul, float* out) {
    const __m256i i = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(v)));
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(i), _mm256_set1_ps(mul)));
  }
};
