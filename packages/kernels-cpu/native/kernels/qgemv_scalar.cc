// The portable fallback of the CPU kernels: qgemv_impl.h over a one-lane "vector" (plain floats).
// Compiled with the build's baseline flags only, so it runs on any CPU.
#include <cstdint>
#include <cstdlib>

#include "../kernels.h"

namespace hasten_cpu {
namespace scalar_isa {

struct V {
  using F = float;
  using I = int32_t;
  static constexpr int W = 1;
  static constexpr int REGS = 16;
  static inline F load(const float* p) { return *p; }
  static inline void store(float* p, F v) { *p = v; }
  static inline F fmadd(F a, F b, F c) { return a * b + c; }
  static inline F mul(F a, F b) { return a * b; }
  static constexpr bool LUT16 = false;  // no 16-entry permute: nibbles are converted
  static inline F lut16(F tab, I) { return tab; }
  static inline F iota() { return zero(); }
  static inline F add(F a, F b) { return a + b; }
  static inline F zero() { return 0.0f; }
  static inline F set1(float v) { return v; }
  static inline float hsum(F v) { return v; }
  static inline I ld_i8(const uint8_t* p) { return static_cast<int8_t>(*p); }
  static inline I ld_u8(const uint8_t* p) { return *p; }
  static inline I ld_u16(const uint8_t* p) { return p[0] | (p[1] << 8); }
  static inline I and_(I a, int c) { return a & c; }
  static inline I or_(I a, I b) { return a | b; }
  static inline I srli(I a, int n) { return static_cast<I>(static_cast<uint32_t>(a) >> n); }
  static inline I slli(I a, int n) { return static_cast<I>(static_cast<uint32_t>(a) << n); }
  static inline F cvt(I a) { return static_cast<float>(a); }
  static inline F bits(I a) {
    float f;
    __builtin_memcpy(&f, &a, 4);
    return f;
  }
  static inline F ld_f16(const uint8_t* p);
  static inline float half(const uint8_t* p);
};

#include "../qgemv_impl.h"
#include "../attention_impl.h"

inline V::F V::ld_f16(const uint8_t* p) { return half_at(p); }
inline float V::half(const uint8_t* p) { return half_at(p); }

}  // namespace scalar_isa

void attend_scalar(const AttendArgs& a, int64_t r0, int64_t r1, float* scratch) {
  scalar_isa::attend_rows<scalar_isa::V>(a, r0, r1, scratch);
}

void qgemv_scalar(const QgemvArgs& a, int64_t n0, int64_t n1) {
  using K = scalar_isa::Qgemv<scalar_isa::V>;
  float* buf = static_cast<float*>(std::malloc(sizeof(float) * scalar_isa::row_buffer_floats(a.k)));
  if (!buf) return;
  K::run(a, n0, n1, buf);
  std::free(buf);
}

}  // namespace hasten_cpu
