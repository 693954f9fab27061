// The Node binding (node-addon-api) of the Hasten CPU kernels.
//
// - info(): the ISAs this CPU runs ('scalar', and 'avx2' / 'avx512' where __builtin_cpu_supports
//   reports AVX2+FMA+F16C / AVX-512F), the best one, the compiler.
// - qgemv(format, n, k, g, scaleF32, w, scales, zeros, x, m, y, isa, threads, dot): y[m, n] = x[m, k] W^T
//   synchronously on the calling thread (and the pool's helper when threads == 2), reading the
//   weight's typed arrays in place. dot == 1 (configureCpuKernels({ dot: 'int8' })) quantizes x to
//   int8 per block of 32 (quantize_x) and runs the integer-dot kernels (qdot_impl.h) for the formats
//   that have them (has_int8_dot); the others keep the float kernels.
// - attend(q, k, v, mask, out, params, isa): f32 scaled dot-product attention (attention_impl.h) with
//   the shapes, element offsets and strides in params (a Float64Array, order of kAttendParams);
//   every element it will read or write is checked to lie inside its array first.
// - silu(x, out): out[i] = x[i] sigmoid(x[i]) for contiguous f32 arrays, sigmoid computed as
//   core-tensor's reference does (exp of -|x| only, never of a large positive number). The 'avx512' ISA runs the
//   AVX-512 VNNI integer-dot kernels where the CPU has VNNI (+ BW, VL), else the AVX2 ones. src/qgemv.ts validates every argument; the sizes are checked
//   again here so that a wrong call throws instead of reading out of bounds.
#define NAPI_VERSION 8
#define NODE_ADDON_API_DISABLE_DEPRECATED
#define NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels.h"
#include "thread_pool.h"

namespace {

using namespace hasten_cpu;

enum Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

bool isa_supported(int isa) {
  if (isa == kScalar) return true;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (isa == kAvx2)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  if (isa == kAvx512) return isa_supported(kAvx2) && __builtin_cpu_supports("avx512f");
#endif
  return false;
}

const char* kIsaNames[] = {"scalar", "avx2", "avx512"};
const QgemvFn kIsaFns[] = {qgemv_scalar, qgemv_avx2, qgemv_avx512};

bool vnni_supported() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return isa_supported(kAvx512) && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

// The integer-dot kernel an ISA runs, and its name.
QgemvFn dot_fn(int isa) {
  if (isa == kAvx512 && vnni_supported()) return qdot_avx512vnni;
  return isa == kScalar ? qdot_scalar : qdot_avx2;
}
const char* dot_name(int isa) {
  if (isa == kAvx512 && vnni_supported()) return "avx512vnni";
  return isa == kScalar ? "scalar" : "avx2";
}

// x [m, k] to int8 per row in kb = ceil(k / 32) blocks of 32 (the last zero-padded), as ggml's
// quantize_row_q8_0_ref (ggml-quants.c) but with the scale kept in f32: d = max|x| / 127, q =
// round-half-away-from-zero(x * (1 / d)), |q| <= 127; sums[b] = sum of the block's q. A block with
// a NaN or infinity gets d = NaN (its output row is NaN, as on the float path); a block whose max |x|
// is below 2^-100 (where 1 / d could overflow) is all zeros with d = 0. src/int8-dot-reference.ts
// does exactly this in TypeScript.
void quantize_x(const float* x, int64_t m, int64_t k, int64_t kb, int8_t* xq, float* xd, int32_t* xs) {
  for (int64_t r = 0; r < m; r++)
    for (int64_t b = 0; b < kb; b++) {
      const float* p = x + r * k + 32 * b;
      const int len = static_cast<int>(k - 32 * b < 32 ? k - 32 * b : 32);
      int8_t* q = xq + (r * kb + b) * 32;
      float amax = 0.0f;
      bool finite = true;
      for (int j = 0; j < len; j++) {
        const float a = std::fabs(p[j]);
        if (!(a <= 3.4028234663852886e38f)) finite = false;
        else if (a > amax) amax = a;
      }
      int32_t sum = 0;
      float d = 0.0f;
      if (!finite) {
        d = std::nanf("");
        for (int j = 0; j < 32; j++) q[j] = 0;
      } else if (amax < 0x1p-100f) {
        for (int j = 0; j < 32; j++) q[j] = 0;
      } else {
        d = amax / 127.0f;
        const float id = 1.0f / d;
        for (int j = 0; j < len; j++) {
          const float v = p[j] * id;
          int i = static_cast<int>(v);  // toward zero; v - i is exact (|v| < 2^23)
          const float f = v - static_cast<float>(i);
          i += (f >= 0.5f) - (f <= -0.5f);
          q[j] = static_cast<int8_t>(i);
          sum += i;
        }
        for (int j = len; j < 32; j++) q[j] = 0;
      }
      xd[r * kb + b] = d;
      xs[r * kb + b] = sum;
    }
}

int best_isa() {
  for (int i = 2; i >= 0; i--)
    if (isa_supported(i)) return i;
  return 0;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array isas = Napi::Array::New(env);
  uint32_t c = 0;
  for (int i = 0; i < 3; i++)
    if (isa_supported(i)) isas.Set(c++, Napi::String::New(env, kIsaNames[i]));
  out.Set("isas", isas);
  out.Set("best", Napi::String::New(env, kIsaNames[best_isa()]));
#if defined(__VERSION__)
  out.Set("compiler", Napi::String::New(env, __VERSION__));
#endif
  out.Set("maxThreads", Napi::Number::New(env, 2));
  Napi::Object dot = Napi::Object::New(env);  // the integer-dot kernel each ISA runs
  for (int i = 0; i < 3; i++)
    if (isa_supported(i)) dot.Set(kIsaNames[i], Napi::String::New(env, dot_name(i)));
  out.Set("int8Dot", dot);
  return out;
}

struct View {
  const uint8_t* data = nullptr;
  size_t bytes = 0;
};

View view_of(const Napi::Value& v, const char* name, bool optional, const char* op = "qgemv") {
  if (optional && (v.IsNull() || v.IsUndefined())) return {};
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string(op) + ": " + name + " must be a typed array");
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  const uint8_t* base = static_cast<const uint8_t*>(t.ArrayBuffer().Data());
  return {base + t.ByteOffset(), t.ByteLength()};
}

int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi, const char* op = "qgemv") {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(op) + ": " + name + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::RangeError::New(info.Env(), std::string(op) + ": " + name + " = " + std::to_string(d) +
                                                " is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int64_t>(d);
}

// Bytes of weight data, scales and zeros the format needs (core-tensor's expectedBytes).
void expected_bytes(int f, int64_t n, int64_t k, int g, bool scale_f32, int64_t out[3]) {
  out[0] = out[1] = out[2] = 0;
  const int64_t G = g > 0 ? (k + g - 1) / g : 0;
  switch (f) {
    case kF32: out[0] = 4 * n * k; break;
    case kF16: case kBf16: out[0] = 2 * n * k; break;
    case kInt8: out[0] = n * k; out[1] = n * (scale_f32 ? 4 : 2); break;
    case kInt8Group: out[0] = n * G * g; out[1] = 2 * n * G; out[2] = n * G; break;
    case kInt4Group: out[0] = n * G * g / 2; out[1] = 2 * n * G; out[2] = n * G; break;
    case kQ8_0: out[0] = n * (k / 32) * 34; break;
    case kQ4_0: out[0] = n * (k / 32) * 18; break;
    case kQ4_K: out[0] = n * (k / 256) * 144; break;
    case kQ6_K: out[0] = n * (k / 256) * 210; break;
  }
}

Napi::Value Qgemv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 14) throw Napi::TypeError::New(env, "qgemv: expected 14 arguments");
  QgemvArgs a{};
  a.format = static_cast<int>(int_arg(info, 0, "format", 0, kFormatCount - 1));
  a.n = int_arg(info, 1, "n", 1, INT64_C(1) << 40);
  a.k = int_arg(info, 2, "k", 1, INT64_C(1) << 40);
  a.g = static_cast<int>(int_arg(info, 3, "g", 0, 128));
  a.scale_f32 = static_cast<int>(int_arg(info, 4, "scaleF32", 0, 1));
  View w = view_of(info[5], "w", false), s = view_of(info[6], "scales", true), z = view_of(info[7], "zeros", true);
  View x = view_of(info[8], "x", false);
  a.m = int_arg(info, 9, "m", 0, INT64_C(1) << 40);
  View y = view_of(info[10], "y", false);
  const int isa = static_cast<int>(int_arg(info, 11, "isa", 0, 2));
  const int threads = static_cast<int>(int_arg(info, 12, "threads", 1, 2));
  const bool dot = int_arg(info, 13, "dot", 0, 1) == 1 && has_int8_dot(a.format);
  if (!isa_supported(isa)) throw Napi::Error::New(env, std::string("qgemv: this CPU does not run the '") + kIsaNames[isa] + "' kernels");
  const bool group = a.format == kInt8Group || a.format == kInt4Group;
  if (group && a.g != 32 && a.g != 64 && a.g != 128) throw Napi::RangeError::New(env, "qgemv: group size must be 32, 64 or 128");
  const int64_t block = a.format == kQ8_0 || a.format == kQ4_0 ? 32 : (a.format == kQ4_K || a.format == kQ6_K ? 256 : 1);
  if (a.k % block) throw Napi::RangeError::New(env, "qgemv: K must be a multiple of the format's block size");
  int64_t want[3];
  expected_bytes(a.format, a.n, a.k, a.g, a.scale_f32 != 0, want);
  if (static_cast<int64_t>(w.bytes) < want[0]) throw Napi::RangeError::New(env, "qgemv: w is too short for the format and shape");
  if ((a.format == kInt8 || group) && static_cast<int64_t>(s.bytes) < want[1]) throw Napi::RangeError::New(env, "qgemv: scales are too short");
  if (z.data && static_cast<int64_t>(z.bytes) < want[2]) throw Napi::RangeError::New(env, "qgemv: zeros are too short");
  if (z.data && !group) throw Napi::Error::New(env, "qgemv: zeros are only for the group formats");
  if (static_cast<int64_t>(x.bytes) < 4 * a.m * a.k) throw Napi::RangeError::New(env, "qgemv: x is too short (m * k f32 expected)");
  if (static_cast<int64_t>(y.bytes) < 4 * a.m * a.n) throw Napi::RangeError::New(env, "qgemv: y is too short (m * n f32 expected)");
  if (a.m == 0) return env.Undefined();
  a.w = w.data;
  a.scales = s.data;
  a.zeros = z.data;
  a.x = reinterpret_cast<const float*>(x.data);
  a.y = reinterpret_cast<float*>(const_cast<uint8_t*>(y.data));
  QgemvFn fn = kIsaFns[isa];
  // Per thread of the caller (Node's main thread, or a worker), reused between calls.
  thread_local std::vector<int8_t> xq;
  thread_local std::vector<float> xd;
  thread_local std::vector<int32_t> xs;
  thread_local std::vector<float> xds;
  if (dot) {
    a.kb = (a.k + 31) / 32;
    xq.resize(static_cast<size_t>(a.m * a.kb * 32));
    xd.resize(static_cast<size_t>(a.m * a.kb));
    xs.resize(static_cast<size_t>(a.m * a.kb));
    quantize_x(a.x, a.m, a.k, a.kb, xq.data(), xd.data(), xs.data());
    if (a.format == kQ4_K) {  // its min terms, once per call instead of once per output row
      xds.resize(static_cast<size_t>(a.m * a.kb));
      for (size_t i = 0; i < xds.size(); i++) xds[i] = xd[i] * static_cast<float>(xs[i]);
      a.xds = xds.data();
    }
    a.xq = xq.data();
    a.xd = xd.data();
    a.xs = xs.data();
    fn = dot_fn(isa);
  }
  const int64_t split = a.n / 2;
  if (threads == 2 && split > 0 && ThreadPool::get().run2(fn, a, split)) return env.Undefined();
  fn(a, 0, a.n);
  return env.Undefined();
}

const AttendFn kAttendFns[] = {attend_scalar, attend_avx2, attend_avx512};

// params of attend(), in this order (src/attention.ts writes them).
enum AttendParam {
  pB, pHq, pHkv, pS, pT, pD, pDv,
  pQo, pQb, pQh, pQs, pQd,
  pKo, pKb, pKh, pKt,
  pVo, pVb, pVh, pVt,
  pMo, pMb, pMh, pMs, pMt,
  pCausal, pScale,
  kAttendParams
};

Napi::Value Attend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string& what) { return Napi::RangeError::New(env, "attend: " + what); };
  if (info.Length() != 7) throw Napi::TypeError::New(env, "attend: expected 7 arguments");
  if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "attend: params must be a Float64Array");
  Napi::Float64Array pa = info[5].As<Napi::Float64Array>();
  if (pa.ElementLength() != kAttendParams) throw fail("params must hold " + std::to_string(kAttendParams) + " numbers");
  int64_t p[kAttendParams];
  for (int i = 0; i < kAttendParams; i++) {
    const double d = pa[i];
    if (i == pScale) continue;
    if (!(d >= 0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d)))
      throw fail("params[" + std::to_string(i) + "] = " + std::to_string(d) + " is not a non-negative integer");
    p[i] = static_cast<int64_t>(d);
  }
  const float scale = static_cast<float>(pa[pScale]);
  const int isa = static_cast<int>(int_arg(info, 6, "isa", 0, 2, "attend"));
  if (!isa_supported(isa)) throw Napi::Error::New(env, std::string("attend: this CPU does not run the '") + kIsaNames[isa] + "' kernels");
  for (int i = pB; i <= pDv; i++)
    if (p[i] < 1 && i != pT) throw fail("shape entry " + std::to_string(i) + " must be at least 1");
  if (p[pHq] % p[pHkv]) throw fail("Hq must be a multiple of Hkv");
  if (p[pCausal] > 1) throw fail("causal must be 0 or 1");
  View q = view_of(info[0], "q", false, "attend"), k = view_of(info[1], "k", false, "attend"),
       v = view_of(info[2], "v", false, "attend");
  View m = view_of(info[3], "mask", true, "attend"), o = view_of(info[4], "out", false, "attend");
  // Last element index each array is read at (strides are non-negative, so the extremes are the maxima).
  const int64_t T1 = p[pT] > 0 ? p[pT] - 1 : 0;
  const int64_t qLast = p[pQo] + (p[pB] - 1) * p[pQb] + (p[pHq] - 1) * p[pQh] + (p[pS] - 1) * p[pQs] + (p[pD] - 1) * p[pQd];
  const int64_t kLast = p[pKo] + (p[pB] - 1) * p[pKb] + (p[pHkv] - 1) * p[pKh] + T1 * p[pKt] + p[pD] - 1;
  const int64_t vLast = p[pVo] + (p[pB] - 1) * p[pVb] + (p[pHkv] - 1) * p[pVh] + T1 * p[pVt] + p[pDv] - 1;
  const int64_t mLast = p[pMo] + (p[pB] - 1) * p[pMb] + (p[pHq] - 1) * p[pMh] + (p[pS] - 1) * p[pMs] + T1 * p[pMt];
  if (4 * qLast + 4 > static_cast<int64_t>(q.bytes)) throw fail("q is too short for its offset, shape and strides");
  if (p[pT] > 0 && 4 * kLast + 4 > static_cast<int64_t>(k.bytes)) throw fail("k is too short for its offset, shape and strides");
  if (p[pT] > 0 && 4 * vLast + 4 > static_cast<int64_t>(v.bytes)) throw fail("v is too short for its offset, shape and strides");
  if (m.data && p[pT] > 0 && mLast + 1 > static_cast<int64_t>(m.bytes)) throw fail("mask is too short for its offset, shape and strides");
  const int64_t rows = p[pB] * p[pHq] * p[pS];
  if (static_cast<int64_t>(o.bytes) < 4 * rows * p[pDv]) throw fail("out is too short (B * Hq * S * Dv f32 expected)");
  AttendArgs a{};
  a.q = reinterpret_cast<const float*>(q.data) + p[pQo];
  a.qb = p[pQb], a.qh = p[pQh], a.qs = p[pQs], a.qd = p[pQd];
  a.k = reinterpret_cast<const float*>(k.data) + p[pKo];
  a.kb = p[pKb], a.kh = p[pKh], a.kt = p[pKt];
  a.v = reinterpret_cast<const float*>(v.data) + p[pVo];
  a.vb = p[pVb], a.vh = p[pVh], a.vt = p[pVt];
  a.mask = m.data ? m.data + p[pMo] : nullptr;
  a.mb = p[pMb], a.mh = p[pMh], a.ms = p[pMs], a.mt = p[pMt];
  a.B = p[pB], a.Hq = p[pHq], a.Hkv = p[pHkv], a.S = p[pS], a.T = p[pT], a.D = p[pD], a.Dv = p[pDv];
  a.causal = static_cast<int>(p[pCausal]);
  a.scale = scale;
  a.out = reinterpret_cast<float*>(const_cast<uint8_t*>(o.data));
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(a.D + a.T));
  kAttendFns[isa](a, 0, rows, scratch.data());
  return env.Undefined();
}

Napi::Value Silu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2) throw Napi::TypeError::New(env, "silu: expected 2 arguments");
  for (int i = 0; i < 2; i++)
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, i == 0 ? "silu: x must be a Float32Array" : "silu: out must be a Float32Array");
  Napi::Float32Array x = info[0].As<Napi::Float32Array>(), o = info[1].As<Napi::Float32Array>();
  if (o.ElementLength() != x.ElementLength()) throw Napi::RangeError::New(env, "silu: out must have x's length");
  const float* xp = x.Data();
  float* op = o.Data();
  const size_t n = x.ElementLength();
  for (size_t i = 0; i < n; i++) {
    const float v = xp[i];
    const float e = std::exp(-std::fabs(v));
    op[i] = v >= 0.0f ? v * (1.0f / (1.0f + e)) : v * (e / (1.0f + e));
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("qgemv", Napi::Function::New(env, Qgemv, "qgemv"));
  exports.Set("attend", Napi::Function::New(env, Attend, "attend"));
  exports.Set("silu", Napi::Function::New(env, Silu, "silu"));
  return exports;
}

}  // namespace

NODE_API_MODULE(hasten_cpu, Init)
