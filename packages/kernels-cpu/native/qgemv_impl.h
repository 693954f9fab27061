// The matrix-vector / few-row product for every weight format, written once over a vector trait V
// and compiled three times (kernels/qgemv_{scalar,avx2,avx512}.cc), each time inside its own
// namespace and under its own target attributes. It includes nothing: the including file includes
// every header first, then switches the target on, so no inline function of a system header is
// compiled with AVX code (the linker keeps one copy of those, and a scalar caller could get it).
//
// Per output row n the weight row is decoded once into an L1-resident float buffer (the scale, and
// the zero point or min, applied: w = q s + b), then dotted with the up to 8 rows of x; a weight
// byte is read once per 8 rows of x. Formats without scales (f32) are dotted in place. Layouts:
// packages/core-tensor/src/ops/quant/*.ts (ggml-common.h block_q8_0 ... block_q6_K for GGUF).
//
// V provides: F (W floats), I (W int32 lanes), W, REGS (vector registers), load/store/fmadd/mul/add/
// zero/set1/hsum on F; ld_i8/ld_u8/ld_u16 (W bytes or u16 widened to int32 lanes), and_/or_/srli/
// slli on I, cvt (I -> F), bits (I -> F, same bits), ld_f16 (W f16 -> F), half (one f16 -> float);
// LUT16 / lut16 / iota: a 16-entry table lookup where the ISA has one (AVX-512 vpermps).

static inline float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 31;
  uint32_t man = h & 1023;
  uint32_t bits;
  if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: man * 2^-24
    float f = static_cast<float>(man) * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

static inline float half_at(const uint8_t* p) {
  return half_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

template <class V>
struct Qgemv {
  using F = typename V::F;
  using I = typename V::I;
  static constexpr int W = V::W;

  // out[0..cnt) = q * s + b for cnt (a multiple of W) weights given as int32 lanes by `ld`.
  static inline void put(float* out, I q, F s, F b) { V::store(out, V::fmadd(V::cvt(q), s, b)); }

  static void row_half(const uint8_t* p, int64_t k, float* out, bool bf16) {
    int64_t j = 0;
    if (bf16) {
      for (; j + W <= k; j += W) V::store(out + j, V::bits(V::slli(V::ld_u16(p + 2 * j), 16)));
      for (; j < k; j++) {
        uint32_t b = static_cast<uint32_t>(p[2 * j] | (p[2 * j + 1] << 8)) << 16;
        __builtin_memcpy(out + j, &b, 4);
      }
    } else {
      for (; j + W <= k; j += W) V::store(out + j, V::ld_f16(p + 2 * j));
      for (; j < k; j++) out[j] = half_at(p + 2 * j);
    }
  }

  static void row_int8(const uint8_t* p, int64_t k, float s, float* out) {
    const F vs = V::set1(s), vz = V::zero();
    int64_t j = 0;
    for (; j + W <= k; j += W) put(out + j, V::ld_i8(p + j), vs, vz);
    for (; j < k; j++) out[j] = static_cast<float>(static_cast<int8_t>(p[j])) * s;
  }

  // g weights of one group (g a multiple of 32): int8, or u8 with zero point z.
  static void group_int8(const uint8_t* p, int g, float s, int z, bool asym, float* out) {
    const F vs = V::set1(s);
    if (asym) {
      const F vb = V::set1(-static_cast<float>(z) * s);
      for (int j = 0; j < g; j += W) put(out + j, V::ld_u8(p + j), vs, vb);
    } else {
      const F vb = V::zero();
      for (int j = 0; j < g; j += W) put(out + j, V::ld_i8(p + j), vs, vb);
    }
  }

  // 32 weights from 16 bytes: byte j holds weight j (low nibble) and j + 16 (high); w = u s + b.
  static inline void run_int4(const uint8_t* p, F s, F b, float* out) {
    for (int j = 0; j < 16; j += W) {
      I u = V::ld_u8(p + j);
      put(out + j, V::and_(u, 15), s, b);
      put(out + 16 + j, V::srli(u, 4), s, b);
    }
  }

  // The weight row n decoded into buf (or, for f32, the row itself).
  static const float* decode_row(const QgemvArgs& a, int64_t n, float* buf) {
    const int64_t k = a.k;
    switch (a.format) {
      case kF32:
        return reinterpret_cast<const float*>(a.w) + n * k;
      case kF16:
      case kBf16:
        row_half(a.w + 2 * n * k, k, buf, a.format == kBf16);
        return buf;
      case kInt8: {
        float s = a.scale_f32 ? reinterpret_cast<const float*>(a.scales)[n] : half_at(a.scales + 2 * n);
        row_int8(a.w + n * k, k, s, buf);
        return buf;
      }
      case kInt8Group:
      case kInt4Group: {
        const int g = a.g;
        const int64_t G = (k + g - 1) / g;
        const bool int4 = a.format == kInt4Group;
        const uint8_t* row = a.w + n * G * g / (int4 ? 2 : 1);
        for (int64_t gi = 0; gi < G; gi++) {
          const float s = half_at(a.scales + 2 * (n * G + gi));
          const int z = a.zeros ? a.zeros[n * G + gi] : (int4 ? 8 : 0);
          if (int4) {
            const F vs = V::set1(s), vb = V::set1(-static_cast<float>(z) * s);
            for (int r = 0; r < g / 32; r++) run_int4(row + gi * g / 2 + 16 * r, vs, vb, buf + gi * g + 32 * r);
          } else {
            group_int8(row + gi * g, g, s, z, a.zeros != nullptr, buf + gi * g);
          }
        }
        return buf;
      }
      case kQ8_0: {
        const int64_t nb = k / 32;
        const uint8_t* blk = a.w + n * nb * 34;
        for (int64_t i = 0; i < nb; i++, blk += 34) {
          const F d = V::set1(half_at(blk)), zero = V::zero();
          for (int j = 0; j < 32; j += W) put(buf + 32 * i + j, V::ld_i8(blk + 2 + j), d, zero);
        }
        return buf;
      }
      case kQ4_0: {
        const int64_t nb = k / 32;
        const uint8_t* blk = a.w + n * nb * 18;
        for (int64_t i = 0; i < nb; i++, blk += 18) {
          const float d = half_at(blk);
          run_int4(blk + 2, V::set1(d), V::set1(-8.0f * d), buf + 32 * i);
        }
        return buf;
      }
      case kQ4_K: {
        const int64_t nb = k / 256;
        const uint8_t* blk = a.w + n * nb * 144;
        for (int64_t i = 0; i < nb; i++, blk += 144) {
          const float d = half_at(blk), dmin = half_at(blk + 2);
          const uint8_t* sc = blk + 4;
          float* out = buf + 256 * i;
          for (int c = 0; c < 4; c++) {
            float s[2], b[2];
            for (int h = 0; h < 2; h++) {
              const int is = 2 * c + h;
              int scv, mnv;
              if (is < 4) {
                scv = sc[is] & 63;
                mnv = sc[is + 4] & 63;
              } else {
                scv = (sc[is + 4] & 0xf) | ((sc[is - 4] >> 6) << 4);
                mnv = (sc[is + 4] >> 4) | ((sc[is] >> 6) << 4);
              }
              s[h] = d * static_cast<float>(scv);
              b[h] = -dmin * static_cast<float>(mnv);
            }
            const uint8_t* q = blk + 16 + 32 * c;
            const F s0 = V::set1(s[0]), b0 = V::set1(b[0]), s1 = V::set1(s[1]), b1 = V::set1(b[1]);
            for (int l = 0; l < 32; l += W) {
              I u = V::ld_u8(q + l);
              put(out + 64 * c + l, V::and_(u, 15), s0, b0);
              put(out + 64 * c + 32 + l, V::srli(u, 4), s1, b1);
            }
          }
        }
        return buf;
      }
      case kQ6_K: {
        const int64_t nb = k / 256;
        const uint8_t* blk = a.w + n * nb * 210;
        for (int64_t i = 0; i < nb; i++, blk += 210) {
          const float d = half_at(blk + 208);
          for (int h = 0; h < 2; h++) {
            const uint8_t* ql = blk + 64 * h;
            const uint8_t* qh = blk + 128 + 32 * h;
            const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192 + 8 * h);
            float* out = buf + 256 * i + 128 * h;
            for (int l = 0; l < 32; l += W) {
              const int is = l >> 4;
              I lo = V::ld_u8(ql + l), hi = V::ld_u8(ql + l + 32), hb = V::ld_u8(qh + l);
              I q1 = V::or_(V::and_(lo, 15), V::slli(V::and_(hb, 3), 4));
              I q2 = V::or_(V::and_(hi, 15), V::slli(V::and_(V::srli(hb, 2), 3), 4));
              I q3 = V::or_(V::srli(lo, 4), V::slli(V::and_(V::srli(hb, 4), 3), 4));
              I q4 = V::or_(V::srli(hi, 4), V::slli(V::srli(hb, 6), 4));
              const float s1 = d * sc[is], s2 = d * sc[is + 2], s3 = d * sc[is + 4], s4 = d * sc[is + 6];
              put(out + l, q1, V::set1(s1), V::set1(-32.0f * s1));
              put(out + l + 32, q2, V::set1(s2), V::set1(-32.0f * s2));
              put(out + l + 64, q3, V::set1(s3), V::set1(-32.0f * s3));
              put(out + l + 96, q4, V::set1(s4), V::set1(-32.0f * s4));
            }
          }
        }
        return buf;
      }
      default:
        return buf;
    }
  }

  // out[r] = sum_{j < len} w[j] x[r * ldx + j], r < M; U independent accumulators per row hide the
  // latency of the fused multiply-add when M is small.
  template <int M>
  static inline void dot(const float* w, const float* x, int64_t ldx, int64_t len, float* out) {
    constexpr int U0 = (V::REGS / 2) / M;
    constexpr int U = U0 < 1 ? 1 : (U0 > 4 ? 4 : U0);
    F acc[U][M];
    for (int u = 0; u < U; u++)
      for (int r = 0; r < M; r++) acc[u][r] = V::zero();
    int64_t j = 0;
    for (; j + U * W <= len; j += U * W) {
      for (int u = 0; u < U; u++) {
        const F wv = V::load(w + j + u * W);
        for (int r = 0; r < M; r++) acc[u][r] = V::fmadd(wv, V::load(x + r * ldx + j + u * W), acc[u][r]);
      }
    }
    for (; j + W <= len; j += W) {
      const F wv = V::load(w + j);
      for (int r = 0; r < M; r++) acc[0][r] = V::fmadd(wv, V::load(x + r * ldx + j), acc[0][r]);
    }
    for (int r = 0; r < M; r++) {
      F t = acc[0][r];
      for (int u = 1; u < U; u++) t = V::add(t, acc[u][r]);
      float s = V::hsum(t);
      for (int64_t q = j; q < len; q++) s += w[q] * x[r * ldx + q];
      out[r] = s;
    }
  }

  // ---- Fused path: each block of 32 weights is decoded into NV = 32 / W registers and used at
  // once by the M rows (no buffer round trip); the NV vectors of a block feed NV independent
  // accumulators per row. Used while the accumulators fit in the registers (M * NV <= REGS / 2).
  static constexpr int NV = 32 / W;

  // Weight j of row n, for the K % 32 tail of the formats whose rows are not whole 32-blocks.
  static float scalar_at(const QgemvArgs& a, int64_t n, int64_t j) {
    const int64_t k = a.k;
    switch (a.format) {
      case kF32:
        return reinterpret_cast<const float*>(a.w)[n * k + j];
      case kF16:
        return V::half(a.w + 2 * (n * k + j));
      case kBf16: {
        const uint8_t* p = a.w + 2 * (n * k + j);
        uint32_t b = static_cast<uint32_t>(p[0] | (p[1] << 8)) << 16;
        float f;
        __builtin_memcpy(&f, &b, 4);
        return f;
      }
      case kInt8: {
        float s = a.scale_f32 ? reinterpret_cast<const float*>(a.scales)[n] : V::half(a.scales + 2 * n);
        return s * static_cast<float>(static_cast<int8_t>(a.w[n * k + j]));
      }
      case kInt8Group:
      case kInt4Group: {
        const int g = a.g;
        const int64_t G = (k + g - 1) / g;
        const int64_t gi = n * G + j / g;
        const float s = V::half(a.scales + 2 * gi);
        if (a.format == kInt8Group) {
          const uint8_t byte = a.w[n * G * g + j];
          return a.zeros ? s * static_cast<float>(byte - a.zeros[gi]) : s * static_cast<float>(static_cast<int8_t>(byte));
        }
        const int t = static_cast<int>(j & 31);
        const uint8_t byte = a.w[n * G * g / 2 + (j >> 5) * 16 + (t & 15)];
        const int u = (byte >> (t < 16 ? 0 : 4)) & 15;
        return s * static_cast<float>(u - (a.zeros ? a.zeros[gi] : 8));
      }
      default:
        return 0.0f;
    }
  }

  // Per format: block b (32 weights, b < K / 32) of row n into v[0..NV). GGUF K-quants prepare
  // the 8 blocks of a super-block at once (their scales and mins, Ctx); the others need nothing.
  struct Simple {
    struct Ctx {};
    static constexpr int SUB = 1;
    static inline void prepare(const QgemvArgs&, int64_t, int64_t, Ctx&) {}
  };
  struct FmtF32 : Simple {
    static inline void block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, F* v) {
      const float* p = reinterpret_cast<const float*>(a.w) + n * a.k + 32 * b;
      for (int i = 0; i < NV; i++) v[i] = V::load(p + i * W);
    }
  };
  struct FmtF16 : Simple {
    static inline void block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, F* v) {
      const uint8_t* p = a.w + 2 * (n * a.k + 32 * b);
      for (int i = 0; i < NV; i++) v[i] = V::ld_f16(p + 2 * i * W);
    }
  };
  struct FmtBf16 : Simple {
    static inline void block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, F* v) {
      const uint8_t* p = a.w + 2 * (n * a.k + 32 * b);
      for (int i = 0; i < NV; i++) v[i] = V::bits(V::slli(V::ld_u16(p + 2 * i * W), 16));
    }
  };
  struct FmtInt8 : Simple {  // the per-channel scale is applied to the row's sums (scale_row)
    static inline void block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, F* v) {
      const uint8_t* p = a.w + n * a.k + 32 * b;
      for (int i = 0; i < NV; i++) v[i] = V::cvt(V::ld_i8(p + i * W));
    }
  };
  // Group formats, one type per group size G (a multiple of 32): the scale (and zero point) of a
  // group are read once for its G / 32 blocks.
  template <int G>
  struct FmtInt8Group {
    static constexpr int SUB = G / 32;
    struct Ctx {
      F s, b;
    };
    static inline void prepare(const QgemvArgs& a, int64_t n, int64_t b0, Ctx& c) {
      const int64_t groups = (a.k + G - 1) / G, gi = n * groups + b0 / SUB;
      const float s = V::half(a.scales + 2 * gi);
      c.s = V::set1(s);
      c.b = V::set1(a.zeros ? -static_cast<float>(a.zeros[gi]) * s : 0.0f);
    }
    static inline void block(const QgemvArgs& a, int64_t n, int64_t b, Ctx& c, F* v) {
      const int64_t groups = (a.k + G - 1) / G;
      const uint8_t* p = a.w + n * groups * G + 32 * b;
      if (a.zeros) {
        for (int i = 0; i < NV; i++) v[i] = V::fmadd(V::cvt(V::ld_u8(p + i * W)), c.s, c.b);
      } else {
        for (int i = 0; i < NV; i++) v[i] = V::mul(V::cvt(V::ld_i8(p + i * W)), c.s);
      }
    }
  };
  // 16 bytes of nibbles: weight j (< 16) low nibble of byte j, weight j + 16 high nibble.
  // With a 16-entry permute (AVX-512) the 16 possible values s u + bias are made once and looked up
  // (the permute ignores the bits above the nibble, so the low nibble needs no mask).
  static inline void nibbles(const uint8_t* p, F s, F bias, F* v) {
    if constexpr (V::LUT16) {
      const F tab = V::fmadd(V::iota(), s, bias);
      for (int i = 0; i < NV / 2; i++) {
        I u = V::ld_u8(p + i * W);
        v[i] = V::lut16(tab, u);
        v[NV / 2 + i] = V::lut16(tab, V::srli(u, 4));
      }
      return;
    }
    for (int i = 0; i < NV / 2; i++) {
      I u = V::ld_u8(p + i * W);
      v[i] = V::fmadd(V::cvt(V::and_(u, 15)), s, bias);
      v[NV / 2 + i] = V::fmadd(V::cvt(V::srli(u, 4)), s, bias);
    }
  }
  template <int G>
  struct FmtInt4Group {
    static constexpr int SUB = G / 32;
    struct Ctx {
      F s, b;
    };
    static inline void prepare(const QgemvArgs& a, int64_t n, int64_t b0, Ctx& c) {
      const int64_t groups = (a.k + G - 1) / G, gi = n * groups + b0 / SUB;
      const float s = V::half(a.scales + 2 * gi);
      c.s = V::set1(s);
      c.b = V::set1(-static_cast<float>(a.zeros ? a.zeros[gi] : 8) * s);
    }
    static inline void block(const QgemvArgs& a, int64_t n, int64_t b, Ctx& c, F* v) {
      const int64_t groups = (a.k + G - 1) / G;
      nibbles(a.w + n * groups * G / 2 + 16 * b, c.s, c.b, v);
    }
  };
  struct FmtQ8_0 : Simple {
    static inline void block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, F* v) {
      const uint8_t* blk = a.w + (n * (a.k / 32) + b) * 34;
      const F d = V::set1(V::half(blk));
      for (int i = 0; i < NV; i++) v[i] = V::mul(V::cvt(V::ld_i8(blk + 2 + i * W)), d);
    }
  };
  struct FmtQ4_0 : Simple {
    static inline void block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, F* v) {
      const uint8_t* blk = a.w + (n * (a.k / 32) + b) * 18;
      const float d = V::half(blk);
      nibbles(blk + 2, V::set1(d), V::set1(-8.0f * d), v);
    }
  };
  struct FmtQ4_K {
    static constexpr int SUB = 8;
    static constexpr bool KQUANT = true;
    struct Ctx {
      const uint8_t* q;
      float s[8], m[8];
    };
    static inline void prepare(const QgemvArgs& a, int64_t n, int64_t b0, Ctx& c) {
      const uint8_t* blk = a.w + (n * (a.k / 256) + b0 / 8) * 144;
      const float d = V::half(blk), dmin = V::half(blk + 2);
      const uint8_t* sc = blk + 4;
      for (int is = 0; is < 8; is++) {
        int scv, mnv;
        if (is < 4) {
          scv = sc[is] & 63;
          mnv = sc[is + 4] & 63;
        } else {
          scv = (sc[is + 4] & 0xf) | ((sc[is - 4] >> 6) << 4);
          mnv = (sc[is + 4] >> 4) | ((sc[is] >> 6) << 4);
        }
        c.s[is] = d * static_cast<float>(scv);
        c.m[is] = -dmin * static_cast<float>(mnv);
      }
      c.q = blk + 16;
    }
    static inline void block(const QgemvArgs&, int64_t, int64_t b, Ctx& c, F* v) {
      const int is = static_cast<int>(b & 7);  // chunk is / 2 of 32 bytes; low (even) or high nibbles
      const uint8_t* q = c.q + 32 * (is >> 1);
      const F s = V::set1(c.s[is]), bias = V::set1(c.m[is]);
      if constexpr (V::LUT16) {
        const F tab = V::fmadd(V::iota(), s, bias);
        const int shift = (is & 1) * 4;
        for (int i = 0; i < NV; i++) v[i] = V::lut16(tab, V::srli(V::ld_u8(q + i * W), shift));
        return;
      }
      if (is & 1) {
        for (int i = 0; i < NV; i++) v[i] = V::fmadd(V::cvt(V::srli(V::ld_u8(q + i * W), 4)), s, bias);
      } else {
        for (int i = 0; i < NV; i++) v[i] = V::fmadd(V::cvt(V::and_(V::ld_u8(q + i * W), 15)), s, bias);
      }
    }
    template <int T>  // block T of the super-block, the shifts known at compile time
    static inline void blockT(Ctx& c, F* v) {
      const uint8_t* q = c.q + 32 * (T >> 1);
      const F s = V::set1(c.s[T]), bias = V::set1(c.m[T]);
      if constexpr (V::LUT16) {
        const F tab = V::fmadd(V::iota(), s, bias);
        for (int i = 0; i < NV; i++) v[i] = V::lut16(tab, V::srli(V::ld_u8(q + i * W), (T & 1) * 4));
      } else {
        for (int i = 0; i < NV; i++)
          v[i] = V::fmadd(V::cvt(V::and_(V::srli(V::ld_u8(q + i * W), (T & 1) * 4), 15)), s, bias);
      }
    }
  };
  struct FmtQ6_K {
    static constexpr int SUB = 8;
    static constexpr bool KQUANT = true;
    struct Ctx {
      const uint8_t* blk;
      float s[16], b[16];
    };
    static inline void prepare(const QgemvArgs& a, int64_t n, int64_t b0, Ctx& c) {
      c.blk = a.w + (n * (a.k / 256) + b0 / 8) * 210;
      const float d = V::half(c.blk + 208);
      const int8_t* sc = reinterpret_cast<const int8_t*>(c.blk + 192);
      for (int i = 0; i < 16; i++) {
        c.s[i] = d * static_cast<float>(sc[i]);
        c.b[i] = -32.0f * c.s[i];
      }
    }
    template <int T>  // run qq = T % 4 of half h = T / 4, the shifts known at compile time
    static inline void blockT(Ctx& c, F* v) {
      constexpr int h = T >> 2, qq = T & 3;
      const uint8_t* ql = c.blk + 64 * h + 32 * (qq & 1);
      const uint8_t* qh = c.blk + 128 + 32 * h;
      for (int i = 0; i < NV; i++) {
        const int si = 8 * h + 2 * qq + (i * W) / 16;
        I lo = V::and_(V::srli(V::ld_u8(ql + i * W), (qq >> 1) * 4), 15);
        I hi = V::slli(V::and_(V::srli(V::ld_u8(qh + i * W), 2 * qq), 3), 4);
        v[i] = V::fmadd(V::cvt(V::or_(lo, hi)), V::set1(c.s[si]), V::set1(c.b[si]));
      }
    }
    static inline void block(const QgemvArgs&, int64_t, int64_t b, Ctx& c, F* v) {
      const int t = static_cast<int>(b & 7);
      const int h = t >> 2, qq = t & 3;  // half, and which of its 4 runs of 32
      const uint8_t* ql = c.blk + 64 * h + 32 * (qq & 1);
      const uint8_t* qh = c.blk + 128 + 32 * h;
      const float* s = c.s + 8 * h + 2 * qq;
      const int nshift = (qq >> 1) * 4, hshift = 2 * qq;
      for (int i = 0; i < NV; i++) {
        const float si = s[(i * W) / 16];
        I lo = V::and_(V::srli(V::ld_u8(ql + i * W), nshift), 15);
        I hi = V::slli(V::and_(V::srli(V::ld_u8(qh + i * W), hshift), 3), 4);
        v[i] = V::fmadd(V::cvt(V::or_(lo, hi)), V::set1(si), V::set1(-32.0f * si));
      }
    }
  };

  template <class Fmt, class = void>
  struct IsKQuant {
    static constexpr bool value = false;
  };
  template <class Fmt>
  struct IsKQuant<Fmt, decltype(void(Fmt::KQUANT))> {
    static constexpr bool value = Fmt::KQUANT;
  };

  // One block of a K-quant super-block, T known at compile time; acc stays in registers once inlined.
  template <int M, class Fmt, int T>
  static inline __attribute__((always_inline)) void kstep(const float* x, int64_t k, int64_t b0,
                                                          typename Fmt::Ctx& c, F (&acc)[NV][M]) {
    F v[NV];
    Fmt::template blockT<T>(c, v);
    for (int i = 0; i < NV; i++)
      for (int r = 0; r < M; r++) acc[i][r] = V::fmadd(v[i], V::load(x + r * k + 32 * (b0 + T) + i * W), acc[i][r]);
  }

  template <int M, class Fmt>
  static void fused(const QgemvArgs& a, int64_t r0, int64_t n0, int64_t n1) {
    const int64_t k = a.k, nb = k / 32;
    const float* x = a.x + r0 * k;
    for (int64_t n = n0; n < n1; n++) {
      F acc[NV][M];
      for (int i = 0; i < NV; i++)
        for (int r = 0; r < M; r++) acc[i][r] = V::zero();
      int64_t b0 = 0;
      if constexpr (IsKQuant<Fmt>::value) {  // nb is whole super-blocks
        for (; b0 < nb; b0 += 8) {
          typename Fmt::Ctx c;
          Fmt::prepare(a, n, b0, c);
          kstep<M, Fmt, 0>(x, k, b0, c, acc);
          kstep<M, Fmt, 1>(x, k, b0, c, acc);
          kstep<M, Fmt, 2>(x, k, b0, c, acc);
          kstep<M, Fmt, 3>(x, k, b0, c, acc);
          kstep<M, Fmt, 4>(x, k, b0, c, acc);
          kstep<M, Fmt, 5>(x, k, b0, c, acc);
          kstep<M, Fmt, 6>(x, k, b0, c, acc);
          kstep<M, Fmt, 7>(x, k, b0, c, acc);
        }
      }
      for (; b0 < nb; b0 += Fmt::SUB) {
        typename Fmt::Ctx c;
        Fmt::prepare(a, n, b0, c);
        const int64_t b1 = b0 + Fmt::SUB < nb ? b0 + Fmt::SUB : nb;  // a group may end past K
        for (int64_t b = b0; b < b1; b++) {
          F v[NV];
          Fmt::block(a, n, b, c, v);
          for (int i = 0; i < NV; i++)
            for (int r = 0; r < M; r++) acc[i][r] = V::fmadd(v[i], V::load(x + r * k + 32 * b + i * W), acc[i][r]);
        }
      }
      float scale = 1.0f;
      if (a.format == kInt8) scale = a.scale_f32 ? reinterpret_cast<const float*>(a.scales)[n] : V::half(a.scales + 2 * n);
      for (int r = 0; r < M; r++) {
        F t = acc[0][r];
        for (int i = 1; i < NV; i++) t = V::add(t, acc[i][r]);
        float s = V::hsum(t) * scale;
        for (int64_t j = 32 * nb; j < k; j++) s += scalar_at(a, n, j) * x[r * k + j];
        a.y[(r0 + r) * a.n + n] = s;
      }
    }
  }

  template <int M>
  static void fused_rows(const QgemvArgs& a, int64_t r0, int64_t n0, int64_t n1) {
    switch (a.format) {
      case kF32: fused<M, FmtF32>(a, r0, n0, n1); break;
      case kF16: fused<M, FmtF16>(a, r0, n0, n1); break;
      case kBf16: fused<M, FmtBf16>(a, r0, n0, n1); break;
      case kInt8: fused<M, FmtInt8>(a, r0, n0, n1); break;
      case kInt8Group:
        if (a.g == 32) fused<M, FmtInt8Group<32>>(a, r0, n0, n1);
        else if (a.g == 64) fused<M, FmtInt8Group<64>>(a, r0, n0, n1);
        else fused<M, FmtInt8Group<128>>(a, r0, n0, n1);
        break;
      case kInt4Group:
        if (a.g == 32) fused<M, FmtInt4Group<32>>(a, r0, n0, n1);
        else if (a.g == 64) fused<M, FmtInt4Group<64>>(a, r0, n0, n1);
        else fused<M, FmtInt4Group<128>>(a, r0, n0, n1);
        break;
      case kQ8_0: fused<M, FmtQ8_0>(a, r0, n0, n1); break;
      case kQ4_0: fused<M, FmtQ4_0>(a, r0, n0, n1); break;
      case kQ4_K: fused<M, FmtQ4_K>(a, r0, n0, n1); break;
      case kQ6_K: fused<M, FmtQ6_K>(a, r0, n0, n1); break;
      default: break;
    }
  }

  // ---- Buffered path (many rows, or a one-lane "vector"): the weight row decoded once into buf.
  template <int M>
  static void rows(const QgemvArgs& a, int64_t r0, int64_t n0, int64_t n1, float* buf) {
    float t[M];
    const float* x = a.x + r0 * a.k;
    for (int64_t n = n0; n < n1; n++) {
      const float* w = decode_row(a, n, buf);
      dot<M>(w, x, a.k, a.k, t);
      for (int r = 0; r < M; r++) a.y[(r0 + r) * a.n + n] = t[r];
    }
  }

  static void run(const QgemvArgs& a, int64_t n0, int64_t n1, float* buf) {
    for (int64_t r0 = 0; r0 < a.m; r0 += 8) {
      const int64_t mc = a.m - r0 < 8 ? a.m - r0 : 8;
      if constexpr (W > 1) {
        if (mc * NV <= V::REGS / 2) switch (mc) {
          case 1: fused_rows<1>(a, r0, n0, n1); continue;
          case 2: fused_rows<2>(a, r0, n0, n1); continue;
          case 3: fused_rows<3>(a, r0, n0, n1); continue;
          case 4: fused_rows<4>(a, r0, n0, n1); continue;
          case 5: if constexpr (NV * 5 <= V::REGS / 2) { fused_rows<5>(a, r0, n0, n1); continue; } break;
          case 6: if constexpr (NV * 6 <= V::REGS / 2) { fused_rows<6>(a, r0, n0, n1); continue; } break;
          case 7: if constexpr (NV * 7 <= V::REGS / 2) { fused_rows<7>(a, r0, n0, n1); continue; } break;
          default: if constexpr (NV * 8 <= V::REGS / 2) { fused_rows<8>(a, r0, n0, n1); continue; } break;
        }
      }
      switch (mc) {
        case 1: rows<1>(a, r0, n0, n1, buf); break;
        case 2: rows<2>(a, r0, n0, n1, buf); break;
        case 3: rows<3>(a, r0, n0, n1, buf); break;
        case 4: rows<4>(a, r0, n0, n1, buf); break;
        case 5: rows<5>(a, r0, n0, n1, buf); break;
        case 6: rows<6>(a, r0, n0, n1, buf); break;
        case 7: rows<7>(a, r0, n0, n1, buf); break;
        default: rows<8>(a, r0, n0, n1, buf); break;
      }
    }
  }
};

// Floats a decoded row may take: K, rounded up to whole groups (<= 128) or super-blocks (256).
static inline int64_t row_buffer_floats(int64_t k) { return (k + 255) / 256 * 256 + 256; }
