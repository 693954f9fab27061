// The portable integer-dot kernels (configureCpuKernels({ dot: 'int8' })): qdot_impl.h over plain
// int arithmetic, one block of 32 codes at a time. Compiled with the build's baseline flags only, so
// it runs on any CPU; it is also the C reference the SIMD versions are tested against (with
// src/int8-dot-reference.ts).
#include <cstdint>

#include "../kernels.h"

namespace hasten_cpu {
namespace qdot_scalar_isa {

#include "../qgemv_impl.h"  // half_at

struct D {
  using Acc = float;
  struct Wb {
    int16_t v[32];
  };
  static constexpr bool PAIR = false;  // one block at a time
  using W2 = int;
  using F2 = float;
  using Acc2 = float;
  static inline F2 scales2f(float, float) { return 0.0f; }
  static inline W2 zvec(int) { return 0; }
  static constexpr bool U8_FULL = true;
  static inline Wb ld(const uint8_t* p) {  // signed or unsigned: the format says (SIGNED)
    Wb w;
    for (int j = 0; j < 32; j++) w.v[j] = p[j];
    return w;
  }
  static inline Wb ld_flip(const uint8_t* p) { return ld(p); }  // not used (U8_FULL)
  static inline Wb nib(const uint8_t* p) {
    Wb w;
    for (int j = 0; j < 16; j++) {
      w.v[j] = p[j] & 15;
      w.v[j + 16] = p[j] >> 4;
    }
    return w;
  }
  static inline Acc dot_s8(const Wb& w, const int8_t* x, int32_t off, float s, Acc acc) {
    int32_t t = off;
    for (int j = 0; j < 32; j++) t += static_cast<int8_t>(static_cast<uint8_t>(w.v[j])) * x[j];
    return acc + s * static_cast<float>(t);
  }
  static inline Acc dot_u8(const Wb& w, const int8_t* x, int32_t off, float s, Acc acc) {
    int32_t t = off;
    for (int j = 0; j < 32; j++) t += w.v[j] * x[j];
    return acc + s * static_cast<float>(t);
  }
  static inline Wb nib_lo(const uint8_t* p) {
    Wb w;
    for (int j = 0; j < 32; j++) w.v[j] = p[j] & 15;
    return w;
  }
  static inline Wb nib_hi(const uint8_t* p) {
    Wb w;
    for (int j = 0; j < 32; j++) w.v[j] = p[j] >> 4;
    return w;
  }
  static inline Wb q6(const uint8_t* ql, const uint8_t* qh, int sl, int sh) {  // stored as int8 bytes
    Wb w;
    for (int j = 0; j < 32; j++) w.v[j] = static_cast<uint8_t>((((ql[j] >> sl) & 15) | (((qh[j] >> sh) & 3) << 4)) - 32);
    return w;
  }
  static inline Acc dot_s8h(const Wb& w, const int8_t* x, float s0, float s1, Acc acc) {
    int32_t t0 = 0, t1 = 0;
    for (int j = 0; j < 16; j++) t0 += static_cast<int8_t>(static_cast<uint8_t>(w.v[j])) * x[j];
    for (int j = 16; j < 32; j++) t1 += static_cast<int8_t>(static_cast<uint8_t>(w.v[j])) * x[j];
    return acc + (s0 * static_cast<float>(t0) + s1 * static_cast<float>(t1));
  }
  static inline Acc zero() { return 0.0f; }
  static inline Acc add(Acc a, Acc b) { return a + b; }
  static inline float hsum(Acc a) { return a; }
  static inline float half(const uint8_t* p) { return half_at(p); }
  static inline void scale8(uint64_t v, float mul, float* out) {
    for (int j = 0; j < 8; j++) out[j] = mul * static_cast<float>((v >> (8 * j)) & 255);
  }
};

#include "../qdot_impl.h"

}  // namespace qdot_scalar_isa

void qdot_scalar(const QgemvArgs& a, int64_t n0, int64_t n1) { qdot_scalar_isa::Qdot<qdot_scalar_isa::D>::run(a, n0, n1); }

}  // namespace hasten_cpu
