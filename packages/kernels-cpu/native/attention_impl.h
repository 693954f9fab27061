// Scaled dot-product attention in f32 (arXiv:1706.03762; grouped-query heads, arXiv:2305.13245) over
// the vector traits V of one ISA file (kernels/qgemv_<isa>.cc, which includes this after
// qgemv_impl.h). The rule is core-tensor's sdpa reference (packages/core-tensor/src/ops/sdpa/
// reference.ts) and its fast 'cpu' kernel (attention-rows.ts): per query row (b, h, i), with kv head
// h / (Hq / Hkv) and the keys j <= T - S + i when causal (all T otherwise), masked keys (mask 0) left out,
//   s_j = (q · k_j) · scale,  w_j = exp(s_j - max s),  out = (Σ_j w_j v_j) / Σ_j w_j.
// Keys of weight exactly 0 are skipped in the weighted sum (a NaN value there stays out). A row whose
// allowed scores hold a NaN or +Inf, or are all -Inf, is NaN; a row that may see no key is 0.
// Arithmetic is f32 with fused multiply-adds (the weight sum in double), so results differ from the
// float64 'cpu' kernel by rounding only, which src/attention.test.ts bounds.
//
// Layout: element (b, h, i, d) of q at q[b*qb + h*qh + i*qs + d*qd]; key (b, g, j, d) at
// k[b*kb + g*kh + j*kt + d] (d unit-stride, as the KV caches store it), values alike; mask
// element (b, h, i, j) at mask[b*mb + h*mh + i*ms + j*mt] (strides 0 where it broadcasts); out
// contiguous [B, Hq, S, Dv]. binding.cc checks every offset against the arrays' lengths.

// s[j] = q · k_j for keys j in [0, n) at k + j * kt; four keys per pass so each q chunk is loaded once.
template <class V>
static inline void attend_scores(const float* q, const float* k, int64_t kt, int64_t D, int64_t n, float* s) {
  using F = typename V::F;
  constexpr int W = V::W;
  const int64_t dv = D - D % W;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* k0 = k + j * kt;
    const float* k1 = k0 + kt;
    const float* k2 = k1 + kt;
    const float* k3 = k2 + kt;
    F a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
    for (int64_t d = 0; d < dv; d += W) {
      const F x = V::load(q + d);
      a0 = V::fmadd(x, V::load(k0 + d), a0);
      a1 = V::fmadd(x, V::load(k1 + d), a1);
      a2 = V::fmadd(x, V::load(k2 + d), a2);
      a3 = V::fmadd(x, V::load(k3 + d), a3);
    }
    float s0 = V::hsum(a0), s1 = V::hsum(a1), s2 = V::hsum(a2), s3 = V::hsum(a3);
    for (int64_t d = dv; d < D; d++) {
      s0 += q[d] * k0[d];
      s1 += q[d] * k1[d];
      s2 += q[d] * k2[d];
      s3 += q[d] * k3[d];
    }
    s[j] = s0;
    s[j + 1] = s1;
    s[j + 2] = s2;
    s[j + 3] = s3;
  }
  for (; j < n; j++) {
    const float* kj = k + j * kt;
    F a = V::zero();
    for (int64_t d = 0; d < dv; d += W) a = V::fmadd(V::load(q + d), V::load(kj + d), a);
    float t = V::hsum(a);
    for (int64_t d = dv; d < D; d++) t += q[d] * kj[d];
    s[j] = t;
  }
}

// out[d] = Σ_j w[j] v_j[d] over keys with w[j] != 0, for d < Dv (values at v + j * vt).
template <class V>
static inline void attend_values(const float* w, const float* v, int64_t vt, int64_t Dv, int64_t n, float* out) {
  using F = typename V::F;
  constexpr int W = V::W;
  int64_t d = 0;
  for (; d + 2 * W <= Dv; d += 2 * W) {  // two vectors of the output per pass over the keys
    F a0 = V::zero(), a1 = V::zero();
    for (int64_t j = 0; j < n; j++) {
      if (w[j] == 0.0f) continue;
      const F p = V::set1(w[j]);
      const float* vj = v + j * vt + d;
      a0 = V::fmadd(p, V::load(vj), a0);
      a1 = V::fmadd(p, V::load(vj + W), a1);
    }
    V::store(out + d, a0);
    V::store(out + d + W, a1);
  }
  for (; d + W <= Dv; d += W) {
    F a = V::zero();
    for (int64_t j = 0; j < n; j++)
      if (w[j] != 0.0f) a = V::fmadd(V::set1(w[j]), V::load(v + j * vt + d), a);
    V::store(out + d, a);
  }
  for (; d < Dv; d++) {
    float a = 0.0f;
    for (int64_t j = 0; j < n; j++)
      if (w[j] != 0.0f) a += w[j] * v[j * vt + d];
    out[d] = a;
  }
}

// Rows r in [r0, r1) of the flattened [B, Hq, S] query rows; scratch holds D + T floats.
template <class V>
static void attend_rows(const AttendArgs& a, int64_t r0, int64_t r1, float* scratch) {
  const int64_t group = a.Hq / a.Hkv;
  float* qrow = scratch;       // the query row, contiguous
  float* s = scratch + a.D;    // scores, then weights
  for (int64_t r = r0; r < r1; r++) {
    const int64_t i = r % a.S;
    const int64_t h = (r / a.S) % a.Hq;
    const int64_t b = r / (a.S * a.Hq);
    const int64_t g = h / group;
    float* o = a.out + r * a.Dv;
    const int64_t n = a.causal ? a.T - a.S + i + 1 : a.T;  // keys 0..n-1 may be seen
    if (n <= 0) {
      for (int64_t d = 0; d < a.Dv; d++) o[d] = 0.0f;
      continue;
    }
    const float* qp = a.q + b * a.qb + h * a.qh + i * a.qs;
    for (int64_t d = 0; d < a.D; d++) qrow[d] = qp[d * a.qd];
    const float* k = a.k + b * a.kb + g * a.kh;
    const float* v = a.v + b * a.vb + g * a.vh;
    attend_scores<V>(qrow, k, a.kt, a.D, n, s);
    const uint8_t* m = a.mask ? a.mask + b * a.mb + h * a.mh + i * a.ms : nullptr;
    float max = -INFINITY;
    bool bad = false;
    int64_t allowed = 0;
    for (int64_t j = 0; j < n; j++) {
      if (m && !m[j * a.mt]) {
        s[j] = -INFINITY;  // masked: weight exactly 0 below
        continue;
      }
      allowed++;
      const float x = s[j] * a.scale;
      s[j] = x;
      if (x > max) max = x;
      else if (!(x <= max)) bad = true;  // NaN
    }
    if (allowed == 0) {
      for (int64_t d = 0; d < a.Dv; d++) o[d] = 0.0f;
      continue;
    }
    if (bad || max == INFINITY || max == -INFINITY) {
      for (int64_t d = 0; d < a.Dv; d++) o[d] = NAN;
      continue;
    }
    double sum = 0.0;
    for (int64_t j = 0; j < n; j++) {
      const float p = std::exp(s[j] - max);
      s[j] = p;
      sum += p;
    }
    attend_values<V>(s, v, a.vt, a.Dv, n, o);
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t d = 0; d < a.Dv; d++) o[d] *= inv;
  }
}
