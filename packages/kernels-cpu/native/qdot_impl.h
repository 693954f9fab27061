// The integer-dot path (configureCpuKernels({ dot: 'int8' })) for the formats whose weights are
// integer codes times a scale: int8 per channel, int8 / int4 groups (symmetric and asymmetric),
// GGUF Q8_0, Q4_0, Q4_K and Q6_K. Written once over a trait D and compiled three times
// (kernels/qdot_{scalar,avx2,avx512vnni}.cc), each inside its own namespace and target attributes;
// it includes nothing (see qgemv_impl.h).
//
// x arrives quantized (binding.cc, quantize_x): per row and block b of 32 along K, int8 codes xq,
// a scale dx_b and the sum S_b of the codes (llama.cpp's Q8_0 activations; ggml-quants.c
// quantize_row_q8_0, with the scale kept in f32). A weight block of 32 codes q with scale s and
// integer zero point z (w = s (q - z)) then contributes
//   s dx_b (sum_j q_j xq_j - z S_b)
// where the sum over j is an exact integer dot product: u8 x s8 -> int32 (AVX-512 VNNI vpdpbusd,
// two blocks per 512-bit vector where the format allows, see PAIR below), pairs of u8 x s8 -> int16
// -> int32 (AVX2 maddubs / madd), or plain int arithmetic (scalar). Signed weight codes use the sign trick of llama.cpp's
// AVX2 kernels (|q| x sign(xq, q)); unsigned int8 codes on AVX2, whose 16-bit pair sums could
// overflow, are offset by -128 (z by -128 too). The int32 lanes are converted to float and
// accumulated with the block's scale s dx_b in f32 (two accumulators per row); the zero-point term
// -z S_b is added to the block's integer sum first (one lane). int8 per channel applies its row
// scale at the end.
//
// D provides: Acc (f32 accumulator), Wb (one block of 32 codes in registers), U8_FULL (dot_u8 takes
// codes up to 255; else up to 127), ld(p) (32 bytes), ld_flip(p) (32 bytes ^ 0x80), nib(p) (the 32
// nibbles of 16 bytes: byte j holds code j (low) and j + 16 (high)), dot_s8 / dot_u8(w, xq, off,
// scale, acc) (acc + scale * (the block's integer products by lanes, off added to one lane)), zero(), add, hsum, half(p);
// for the K-quants nib_lo / nib_hi(p) (low / high nibbles of 32 bytes), scale8(v, mul, out) (out[j] = mul times
// byte j of v, 8 bytes), q6(ql, qh, shift_l, shift_h)
// (Q6_K codes - 32) and dot_s8h(w, xq, s_lo, s_hi, acc) (elements 0..15 scaled by s_lo, 16..31 by s_hi).
// PAIR (AVX-512 VNNI only): two blocks per 512-bit vector, for the formats whose codes minus zero point
// fit in int8 (all but asymmetric int8): W2 codes, F2 / Acc2 floats; join, ld2, nib2, subz2 / zvec + subz (codes -
// z per block), scales2 (two f16) / scales2f, dot2 (signed codes, the sign trick), zero2, hsum2;
// for the K-quants nib_pair (low then high nibbles of 32 bytes), q6_pair, scales4 (one per 16).

template <class D>
struct Qdot {
  using Acc = typename D::Acc;
  using Wb = typename D::Wb;

  // A weight block ready for the dot: codes, whether they are signed, scale s, zero point z.
  struct Blk {
    Wb w;
    float s;
    int z;
  };

  // Per format: Ctx is read once per group (SUB blocks); block() gives block b of row n.
  struct Simple {
    struct Ctx {};
    static constexpr int SUB = 1;
    static inline void prepare(const QgemvArgs&, int64_t, int64_t, Ctx&) {}
    static inline bool pair_ok(const QgemvArgs&, int64_t) { return true; }
  };
  // Pairs of blocks (D::PAIR: 512-bit vectors): blocks b, b + 1 as signed codes with the zero point
  // subtracted (|c - z| <= 128), and their scales.
  struct Pair {
    typename D::W2 w;
    typename D::F2 s;
  };
  struct FmtQ8_0 : Simple {
    static constexpr bool SIGNED = true, PAIR = true;
    static inline Blk block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&) {
      const uint8_t* blk = a.w + (n * (a.k / 32) + b) * 34;
      return {D::ld(blk + 2), D::half(blk), 0};
    }
    static inline Pair pair(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, typename Simple::Ctx&) {
      const uint8_t* blk = a.w + (n * (a.k / 32) + b) * 34;
      return {D::join(D::ld(blk + 2), D::ld(blk + 36)), D::scales2(blk, blk + 34)};
    }
  };
  struct FmtQ4_0 : Simple {
    static constexpr bool SIGNED = false, PAIR = true;
    static inline Blk block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&) {
      const uint8_t* blk = a.w + (n * (a.k / 32) + b) * 18;
      return {D::nib(blk + 2), D::half(blk), 8};
    }
    static inline Pair pair(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, typename Simple::Ctx&) {
      const uint8_t* blk = a.w + (n * (a.k / 32) + b) * 18;
      return {D::subz2(D::nib2(blk + 2, blk + 20), 8, 8), D::scales2(blk, blk + 18)};
    }
  };
  // int8 per channel (scale applied to the row's sums). The last block of a row whose K is not a
  // multiple of 32 is copied into a zero-padded block (the row has exactly K bytes).
  struct FmtInt8 : Simple {
    static constexpr bool SIGNED = true, PAIR = true;
    static inline bool pair_ok(const QgemvArgs& a, int64_t b) { return 32 * (b + 2) <= a.k; }
    static inline Pair pair(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&, typename Simple::Ctx&) {
      return {D::ld2(a.w + n * a.k + 32 * b), D::scales2f(1.0f, 1.0f)};
    }
    static inline Blk block(const QgemvArgs& a, int64_t n, int64_t b, typename Simple::Ctx&) {
      const uint8_t* p = a.w + n * a.k + 32 * b;
      const int64_t left = a.k - 32 * b;
      if (left >= 32) return {D::ld(p), 1.0f, 0};
      uint8_t tmp[32] = {0};
      for (int64_t j = 0; j < left; j++) tmp[j] = p[j];
      return {D::ld(tmp), 1.0f, 0};
    }
  };
  // Groups of G (a multiple of 32) along K; each row holds whole groups (the last zero-padded), so a
  // block that ends past K is read whole (its x codes there are 0).
  template <int G>
  struct FmtInt8Group {
    static constexpr int SUB = G / 32;
    // Unsigned codes (asymmetric) go to dot_u8 where it takes 0..255, else offset by -128.
    struct Ctx {
      float s;
      int z;
      typename D::F2 s2;  // pairs within a group (SUB >= 2): s in both halves
    };
    static inline void prepare(const QgemvArgs& a, int64_t n, int64_t b0, Ctx& c) {
      const int64_t groups = (a.k + G - 1) / G, gi = n * groups + b0 / SUB;
      c.s = D::half(a.scales + 2 * gi);
      c.z = a.zeros ? a.zeros[gi] : 0;
      if constexpr (D::PAIR && SUB >= 2) c.s2 = D::scales2f(c.s, c.s);
    }
    static inline bool pair_ok(const QgemvArgs&, int64_t) { return true; }
  };
  template <int G>
  struct FmtInt8GroupSym : FmtInt8Group<G> {
    static constexpr bool SIGNED = true, PAIR = true;
    using Ctx = typename FmtInt8Group<G>::Ctx;
    static inline Pair pair(const QgemvArgs& a, int64_t n, int64_t b, Ctx& c0, Ctx& c1) {
      const typename D::W2 w = D::ld2(a.w + n * ((a.k + G - 1) / G) * G + 32 * b);
      if constexpr (FmtInt8Group<G>::SUB >= 2) return {w, c0.s2};
      return {w, D::scales2f(c0.s, c1.s)};
    }
    static inline Blk block(const QgemvArgs& a, int64_t n, int64_t b, typename FmtInt8Group<G>::Ctx& c) {
      const int64_t groups = (a.k + G - 1) / G;
      return {D::ld(a.w + n * groups * G + 32 * b), c.s, 0};
    }
  };
  template <int G>
  struct FmtInt8GroupAsym : FmtInt8Group<G> {  // u - z may not fit in 8 bits: no pairs
    static constexpr bool SIGNED = !D::U8_FULL, PAIR = false;
    using Ctx = typename FmtInt8Group<G>::Ctx;
    static inline Pair pair(const QgemvArgs&, int64_t, int64_t, Ctx&, Ctx&) { return {}; }
    static inline Blk block(const QgemvArgs& a, int64_t n, int64_t b, typename FmtInt8Group<G>::Ctx& c) {
      const uint8_t* p = a.w + n * ((a.k + G - 1) / G) * G + 32 * b;
      if constexpr (D::U8_FULL) return {D::ld(p), c.s, c.z};
      return {D::ld_flip(p), c.s, c.z - 128};  // u - z = (u - 128) - (z - 128)
    }
  };
  template <int G>
  struct FmtInt4Group {
    static constexpr int SUB = G / 32;
    static constexpr bool SIGNED = false, PAIR = true;
    static inline bool pair_ok(const QgemvArgs&, int64_t) { return true; }
    struct Ctx {
      float s;
      int z;
      typename D::F2 s2;  // pairs within a group (SUB >= 2): s and z in both halves
      typename D::W2 z2;
    };
    static inline void prepare(const QgemvArgs& a, int64_t n, int64_t b0, Ctx& c) {
      const int64_t groups = (a.k + G - 1) / G, gi = n * groups + b0 / SUB;
      c.s = D::half(a.scales + 2 * gi);
      c.z = a.zeros ? a.zeros[gi] : 8;
      if constexpr (D::PAIR && SUB >= 2) {
        c.s2 = D::scales2f(c.s, c.s);
        c.z2 = D::zvec(c.z);
      }
    }
    static inline Blk block(const QgemvArgs& a, int64_t n, int64_t b, Ctx& c) {
      const int64_t groups = (a.k + G - 1) / G;
      return {D::nib(a.w + n * groups * G / 2 + 16 * b), c.s, c.z};
    }
    static inline Pair pair(const QgemvArgs& a, int64_t n, int64_t b, Ctx& c0, Ctx& c1) {
      const uint8_t* p = a.w + n * ((a.k + G - 1) / G) * G / 2 + 16 * b;
      if constexpr (SUB >= 2) return {D::subz(D::nib2(p, p + 16), c0.z2), c0.s2};
      // Groups of 32: the two blocks' f16 scales are adjacent, converted together as Q4_0's (the
      // scalar conversions of prepare() are then unused and dropped).
      const uint8_t* sp = a.scales + 2 * (n * ((a.k + G - 1) / G) + b);
      return {D::subz2(D::nib2(p, p + 16), c0.z, c1.z), D::scales2(sp, sp + 2)};
    }
  };

  // GGUF K-quants, one super-block of 256 (8 blocks of 32) per Ctx. Q4_K: w = d sc_j u - dmin m_j
  // (u the nibble): the block's integer sum times d sc_j dx, plus the min term -dmin m_j dx S
  // (float, MIN; binding.cc keeps dx S per block of x). Q6_K: w = d sc_i (q - 32), q 6 bits, one scale per 16 weights: signed codes q - 32
  // and two scales per block (HALVES: lanes of elements 0..15 and 16..31).
  struct FmtQ4_K {
    static constexpr int SUB = 8;
    static constexpr bool SIGNED = false, PAIR = true, MIN = true, HALVES = false;
    struct Ctx {
      const uint8_t* q;
      float s[8], m[8];
    };
    static inline bool pair_ok(const QgemvArgs&, int64_t) { return true; }
    static inline void prepare(const QgemvArgs& a, int64_t n, int64_t b0, Ctx& c) {
      const uint8_t* blk = a.w + (n * (a.k / 256) + b0 / 8) * 144;
      const float d = D::half(blk), dmin = D::half(blk + 2);
      // The 12 bytes of 6-bit scales and mins (ggml-quants.c get_scale_min_k4: sc_j = b[j] & 63 and
      // m_j = b[j + 4] & 63 for j < 4; for j >= 4 the low nibble / high nibble of b[j + 4] below
      // the top two bits of b[j - 4] / b[j]) unpacked four bytes at a time, without branches:
      // sc[0..7] then m[0..7] as bytes.
      uint32_t u[3];
      __builtin_memcpy(u, blk + 4, 12);
      const uint64_t sc = (u[0] & 0x3f3f3f3fu) |                                              // sc 0..3
                          (uint64_t{(u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4)} << 32);  // sc 4..7
      const uint64_t mn = (u[1] & 0x3f3f3f3fu) |                                              // m 0..3
                          (uint64_t{((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4)} << 32);  // m 4..7
      D::scale8(sc, d, c.s);
      D::scale8(mn, -dmin, c.m);
      c.q = blk + 16;
    }
    static inline Blk block(const QgemvArgs&, int64_t, int64_t b, Ctx& c) {
      const int is = static_cast<int>(b & 7);  // 32 bytes per pair of blocks: low nibbles, then high
      const uint8_t* q = c.q + 32 * (is >> 1);
      return {(is & 1) ? D::nib_hi(q) : D::nib_lo(q), c.s[is], 0};
    }
    static inline float min_term(const Ctx& c, int64_t b) { return c.m[b & 7]; }
    static inline float s_hi(const Ctx&, int64_t, const Blk& w) { return w.s; }
    // Blocks b, b + 1 (b even): the low, then the high nibbles of one run of 32 bytes.
    static inline Pair pair(const QgemvArgs&, int64_t, int64_t b, Ctx& c, Ctx&) {
      const int is = static_cast<int>(b & 7);
      return {D::nib_pair(c.q + 16 * is), D::scales2f(c.s[is], c.s[is + 1])};
    }
  };
  struct FmtQ6_K {
    static constexpr int SUB = 8;
    static constexpr bool SIGNED = true, PAIR = true, MIN = false, HALVES = true;
    struct Ctx {
      const uint8_t* blk;
      float s[16];
    };
    static inline bool pair_ok(const QgemvArgs&, int64_t) { return true; }
    static inline void prepare(const QgemvArgs& a, int64_t n, int64_t b0, Ctx& c) {
      c.blk = a.w + (n * (a.k / 256) + b0 / 8) * 210;
      const float d = D::half(c.blk + 208);
      const int8_t* sc = reinterpret_cast<const int8_t*>(c.blk + 192);
      for (int i = 0; i < 16; i++) c.s[i] = d * static_cast<float>(sc[i]);
    }
    static inline Blk block(const QgemvArgs&, int64_t, int64_t b, Ctx& c) {
      const int t = static_cast<int>(b & 7);
      const int h = t >> 2, qq = t & 3;  // half of the super-block, and which of its 4 runs of 32
      const uint8_t* ql = c.blk + 64 * h + 32 * (qq & 1);
      const uint8_t* qh = c.blk + 128 + 32 * h;
      return {D::q6(ql, qh, (qq >> 1) * 4, 2 * qq), c.s[8 * h + 2 * qq], 0};
    }
    static inline float min_term(const Ctx&, int64_t) { return 0.0f; }
    static inline float s_hi(const Ctx& c, int64_t b, const Blk&) {
      const int t = static_cast<int>(b & 7);
      return c.s[8 * (t >> 2) + 2 * (t & 3) + 1];
    }
    // Blocks b, b + 1 (b even, runs qq and qq + 1 of a half): 64 contiguous bytes of ql, one run of
    // qh shifted by 2 qq and 2 qq + 2; four scales, one per 16 weights.
    static inline Pair pair(const QgemvArgs&, int64_t, int64_t b, Ctx& c, Ctx&) {
      const int t = static_cast<int>(b & 7);
      const int h = t >> 2, qq = t & 3;
      return {D::q6_pair(c.blk + 64 * h, c.blk + 128 + 32 * h, (qq >> 1) * 4, 2 * qq), D::scales4(c.s + 8 * h + 2 * qq)};
    }
  };

  template <class Fmt, class = void>
  struct Traits {  // MIN / HALVES default to false for the formats above
    static constexpr bool MIN = false, HALVES = false;
  };
  template <class Fmt>
  struct Traits<Fmt, decltype(void(Fmt::HALVES))> {
    static constexpr bool MIN = Fmt::MIN, HALVES = Fmt::HALVES;
  };

  // Block b of row n into acc (M rows of x); the group's scale and zero point are read at its first block.
  template <int M, class Fmt>
  static inline __attribute__((always_inline)) void step(const QgemvArgs& a, int64_t n, int64_t b,
                                                         typename Fmt::Ctx& c, const int8_t* xq, const float* xd,
                                                         const int32_t* xs, const float* xds, int64_t kb,
                                                         Acc (&acc)[M], float (&mins)[M]) {
    if (b % Fmt::SUB == 0) Fmt::prepare(a, n, b, c);
    const Blk w = Fmt::block(a, n, b, c);
    for (int r = 0; r < M; r++) {
      const float sc = w.s * xd[r * kb + b];
      const int8_t* xr = xq + (r * kb + b) * 32;
      // The zero-point term -z S joins the block's integer sum (exact: |z S| < 2^20).
      const int32_t off = -w.z * xs[r * kb + b];
      if constexpr (Traits<Fmt>::HALVES) {
        acc[r] = D::dot_s8h(w.w, xr, sc, Fmt::s_hi(c, b, w) * xd[r * kb + b], acc[r]);
      } else if constexpr (Fmt::SIGNED) {
        acc[r] = D::dot_s8(w.w, xr, off, sc, acc[r]);
      } else {
        acc[r] = D::dot_u8(w.w, xr, off, sc, acc[r]);
      }
      if constexpr (Traits<Fmt>::MIN) mins[r] += Fmt::min_term(c, b) * xds[r * kb + b];
    }
  }

  template <int M, class Fmt>
  static void rows(const QgemvArgs& a, int64_t r0, int64_t n0, int64_t n1) {
    const int64_t kb = a.kb;
    const int8_t* xq = a.xq + r0 * kb * 32;
    const float* xd = a.xd + r0 * kb;
    const int32_t* xs = a.xs + r0 * kb;
    const float* xds = a.xds ? a.xds + r0 * kb : nullptr;  // Q4_K only
    for (int64_t n = n0; n < n1; n++) {
      Acc acc0[M], acc1[M];  // even and odd blocks: two independent chains per row
      for (int r = 0; r < M; r++) acc0[r] = acc1[r] = D::zero();
      typename Fmt::Ctx c;
      int64_t b = 0;
      float head[M], mins[M];  // the pairs' sums (D::PAIR); Q4_K's min terms
      for (int r = 0; r < M; r++) head[r] = mins[r] = 0.0f;
      if constexpr (D::PAIR && Fmt::PAIR) {
        typename D::Acc2 acc2[M];
        for (int r = 0; r < M; r++) acc2[r] = D::zero2();
        typename Fmt::Ctx c1;
        for (; b + 2 <= kb && Fmt::pair_ok(a, b); b += 2) {
          if constexpr (Fmt::SUB == 1) {
            Fmt::prepare(a, n, b, c);
            Fmt::prepare(a, n, b + 1, c1);
          } else {  // b is even, so b and b + 1 are in one group
            if (b % Fmt::SUB == 0) Fmt::prepare(a, n, b, c);
            c1 = c;
          }
          const Pair p = Fmt::pair(a, n, b, c, c1);
          for (int r = 0; r < M; r++) {
            acc2[r] = D::dot2(p.w, xq + (r * kb + b) * 32, xd + r * kb + b, p.s, acc2[r]);
            if constexpr (Traits<Fmt>::MIN) {
              const int64_t i = r * kb + b;
              mins[r] += Fmt::min_term(c, b) * xds[i] + Fmt::min_term(c, b + 1) * xds[i + 1];
            }
          }
        }
        for (int r = 0; r < M; r++) head[r] = D::hsum2(acc2[r]);
        if (b < kb && b % Fmt::SUB != 0) Fmt::prepare(a, n, b, c);  // the rest starts inside a group
      }
      for (; b + 2 <= kb; b += 2) {
        step<M, Fmt>(a, n, b, c, xq, xd, xs, xds, kb, acc0, mins);
        step<M, Fmt>(a, n, b + 1, c, xq, xd, xs, xds, kb, acc1, mins);
      }
      if (b < kb) step<M, Fmt>(a, n, b, c, xq, xd, xs, xds, kb, acc0, mins);
      float scale = 1.0f;
      if (a.format == kInt8) scale = a.scale_f32 ? reinterpret_cast<const float*>(a.scales)[n] : D::half(a.scales + 2 * n);
      for (int r = 0; r < M; r++) a.y[(r0 + r) * a.n + n] = (head[r] + D::hsum(D::add(acc0[r], acc1[r])) + mins[r]) * scale;
    }
  }

  template <int M>
  static void rows_fmt(const QgemvArgs& a, int64_t r0, int64_t n0, int64_t n1) {
    switch (a.format) {
      case kInt8: rows<M, FmtInt8>(a, r0, n0, n1); break;
      case kInt8Group:
        if (a.zeros) {
          if (a.g == 32) rows<M, FmtInt8GroupAsym<32>>(a, r0, n0, n1);
          else if (a.g == 64) rows<M, FmtInt8GroupAsym<64>>(a, r0, n0, n1);
          else rows<M, FmtInt8GroupAsym<128>>(a, r0, n0, n1);
        } else {
          if (a.g == 32) rows<M, FmtInt8GroupSym<32>>(a, r0, n0, n1);
          else if (a.g == 64) rows<M, FmtInt8GroupSym<64>>(a, r0, n0, n1);
          else rows<M, FmtInt8GroupSym<128>>(a, r0, n0, n1);
        }
        break;
      case kInt4Group:
        if (a.g == 32) rows<M, FmtInt4Group<32>>(a, r0, n0, n1);
        else if (a.g == 64) rows<M, FmtInt4Group<64>>(a, r0, n0, n1);
        else rows<M, FmtInt4Group<128>>(a, r0, n0, n1);
        break;
      case kQ8_0: rows<M, FmtQ8_0>(a, r0, n0, n1); break;
      case kQ4_0: rows<M, FmtQ4_0>(a, r0, n0, n1); break;
      case kQ4_K: rows<M, FmtQ4_K>(a, r0, n0, n1); break;
      case kQ6_K: rows<M, FmtQ6_K>(a, r0, n0, n1); break;
      default: break;
    }
  }

  // Up to 8 rows of x per pass over the weight (each weight block is loaded once per pass).
  static void run(const QgemvArgs& a, int64_t n0, int64_t n1) {
    for (int64_t r0 = 0; r0 < a.m; r0 += 8) {
      switch (a.m - r0 < 8 ? a.m - r0 : 8) {
        case 1: rows_fmt<1>(a, r0, n0, n1); break;
        case 2: rows_fmt<2>(a, r0, n0, n1); break;
        case 3: rows_fmt<3>(a, r0, n0, n1); break;
        case 4: rows_fmt<4>(a, r0, n0, n1); break;
        case 5: rows_fmt<5>(a, r0, n0, n1); break;
        case 6: rows_fmt<6>(a, r0, n0, n1); break;
        case 7: rows_fmt<7>(a, r0, n0, n1); break;
        default: rows_fmt<8>(a, r0, n0, n1); break;
      }
    }
  }
};
