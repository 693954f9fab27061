// The Node binding (node-addon-api) of the Hasten CUDA kernels.
//
// - deviceInfo(): what cudaGetDeviceCount / cudaGetDeviceProperties report; never throws, so a machine
//   without a GPU or driver loads the addon and gets { count: 0, error } (cudart is linked statically
//   and opens the driver lazily).
// - class Context: one device, one stream. Device buffers live behind integer handles (no raw
//   pointers reach JavaScript); alloc/write/copy/free/launch only enqueue work on the stream; read()
//   and sync() are the waits and return Promises resolved by an AsyncWorker on the libuv pool (the
//   node-llama-cpp pattern: Napi::AsyncWorker + Promise::Deferred, Ref/Unref of the owner).
//   read() enqueues its device-to-host copy on the JS thread, so it is ordered after every launch
//   before it and before any later free; only the wait happens off-thread.
// - CUDA graphs: beginCapture() / endCapture() -> graph id / launchGraph(id) / destroyGraph(id).
//
// Launch argument layouts ("buffers" are [id, byteOffset] pairs, id -1 = null): see kLaunchers below
// and src/ops/*.ts, which check every shape, dtype and bound before calling.
#define NAPI_VERSION 8
#define NODE_ADDON_API_DISABLE_DEPRECATED
#define NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED
#include <napi.h>

#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels.h"

namespace {

std::string cuda_message(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + std::to_string(static_cast<int>(e)) + "): " + cudaGetErrorString(e);
}

void throw_if(Napi::Env env, cudaError_t e, const char* where) {
  if (e != cudaSuccess) throw Napi::Error::New(env, std::string("cuda ") + where + ": " + cuda_message(e));
}

Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);  // 0 when no driver is installed
  out.Set("runtimeVersion", runtime);
  out.Set("driverVersion", driver);
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  Napi::Array devices = Napi::Array::New(env);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    out.Set("count", 0);
    out.Set("error", cuda_message(e));
    out.Set("devices", devices);
    return out;
  }
  out.Set("count", count);
  for (int d = 0; d < count; d++) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d);
    o.Set("name", std::string(p.name));
    o.Set("major", p.major);
    o.Set("minor", p.minor);
    o.Set("totalMemory", static_cast<double>(p.totalGlobalMem));
    o.Set("multiProcessors", p.multiProcessorCount);
    devices.Set(static_cast<uint32_t>(devices.Length()), o);
  }
  out.Set("devices", devices);
  return out;
}

struct DeviceBuffer {
  char* ptr;
  size_t bytes;
};

class Context;

// Waits for an event off the JS thread, then resolves with a copy of the pinned staging buffer
// (an ArrayBuffer) or with undefined when there is none (sync()).
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, Napi::Reference<Napi::Object>* owner, int device, cudaEvent_t event, void* host, size_t bytes)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), owner_(owner), device_(device),
        event_(event), host_(host), bytes_(bytes) {
    owner_->Ref();  // the context outlives the wait
  }
  ~WaitWorker() override {
    cudaEventDestroy(event_);
    if (host_) cudaFreeHost(host_);
    owner_->Unref();
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    cudaSetDevice(device_);
    const cudaError_t e = cudaEventSynchronize(event_);
    if (e != cudaSuccess) SetError("cuda read/sync: an enqueued operation failed: " + cuda_message(e));
  }
  void OnOK() override {
    if (!host_) {
      deferred_.Resolve(Env().Undefined());
      return;
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(Env(), bytes_);
    if (bytes_) std::memcpy(ab.Data(), host_, bytes_);
    deferred_.Resolve(ab);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Object>* owner_;
  int device_;
  cudaEvent_t event_;
  void* host_;
  size_t bytes_;
};

using Ptrs = std::vector<char*>;
using Params = std::vector<double>;
using Launcher = std::function<cudaError_t(int version, const Ptrs&, const Params&, cudaStream_t)>;

inline int I(const Params& p, size_t i) { return static_cast<int>(p[i]); }
inline int64_t L(const Params& p, size_t i) { return static_cast<int64_t>(p[i]); }

hasten::AttentionArgs attention_args(const Ptrs& b, const Params& p) {
  // buffers: q, k, v, out, mask; params: dtype, B, Hq, Hkv, S, T, D, Dv, scale, causal, ms0..ms3
  hasten::AttentionArgs a{};
  a.q = b[0];
  a.k = b[1];
  a.v = b[2];
  a.out = b[3];
  a.mask = reinterpret_cast<const uint8_t*>(b[4]);
  a.B = I(p, 1);
  a.Hq = I(p, 2);
  a.Hkv = I(p, 3);
  a.S = I(p, 4);
  a.T = I(p, 5);
  a.D = I(p, 6);
  a.Dv = I(p, 7);
  a.scale = static_cast<float>(p[8]);
  a.causal = p[9] != 0;
  for (int j = 0; j < 4; j++) a.mask_strides[j] = L(p, 10 + j);
  return a;
}

// name -> (buffer count, param count, launcher). The layouts are mirrored in src/ops/*.ts.
struct LaunchSpec {
  size_t buffers;
  size_t params;
  Launcher run;
};

const std::unordered_map<std::string, LaunchSpec>& launchers() {
  static const std::unordered_map<std::string, LaunchSpec> table = {
      // buffers A, B, C; params dtype, batch, M, N, K, strideA, strideB, strideC, transB
      {"gemm", {3, 9, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                  return hasten::gemm(v, I(p, 0), b[0], b[1], b[2], I(p, 1), I(p, 2), I(p, 3), I(p, 4), L(p, 5),
                                      L(p, 6), L(p, 7), p[8] != 0, s);
                }}},
      // buffers x, W, scales, y; params actDtype, weightFormat, M, N, K, group
      {"matvec", {4, 6, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                    return hasten::matvec(v, I(p, 0), I(p, 1), b[0], b[1], b[2], b[3], I(p, 2), I(p, 3), I(p, 4),
                                          I(p, 5), s);
                  }}},
      // buffers x, y; params dtype, rows, N, log
      {"softmax", {2, 4, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                     return hasten::softmax(v, I(p, 0), b[0], b[1], L(p, 1), I(p, 2), p[3] != 0, s);
                   }}},
      // buffers x, w, y; params dtype, rows, D, eps
      {"rmsnorm", {3, 4, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                     return hasten::rmsnorm(v, I(p, 0), b[0], b[1], b[2], L(p, 1), I(p, 2), static_cast<float>(p[3]), s);
                   }}},
      // buffers x, w, b, y; params dtype, rows, D, eps
      {"layernorm", {4, 4, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                       return hasten::layernorm(v, I(p, 0), b[0], b[1], b[2], b[3], L(p, 1), I(p, 2),
                                                static_cast<float>(p[3]), s);
                     }}},
      // buffers x, positions (i32), invFreq (f64), y; params dtype, posBatchStride, B, H, S, D, rotaryDim, interleaved
      {"rope", {4, 8, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                  return hasten::rope(v, I(p, 0), b[0], reinterpret_cast<const int32_t*>(b[1]), I(p, 1),
                                      reinterpret_cast<const double*>(b[2]), b[3], I(p, 2), I(p, 3), I(p, 4), I(p, 5),
                                      I(p, 6), p[7] != 0, s);
                }}},
      // buffers a, b, out; params dtype, op (0 add, 1 mul, 2 silu_mul), n
      {"elementwise", {3, 3, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                         return hasten::elementwise(v, I(p, 0), I(p, 1), b[0], b[1], b[2], L(p, 2), s);
                       }}},
      // buffers q, k, v, out, mask; params as attention_args
      {"attention", {5, 14, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                       return hasten::flash_attention(v, I(p, 0), attention_args(b, p), s);
                     }}},
      // buffers q, k, v, out, mask, partials (f32); params as attention_args, then splits
      {"decodeAttention", {6, 15, [](int, const Ptrs& b, const Params& p, cudaStream_t s) {
                             return hasten::decode_attention(I(p, 0), attention_args(b, p), I(p, 14),
                                                             reinterpret_cast<float*>(b[5]), s);
                           }}},
      // buffers q, keyPool, valuePool, out, mask, blockTable (i32), partials (f32, v2 only);
      // params as attention_args, then ks0..ks3, vs0..vs3, maxBlocks, blockSize, splits
      {"pagedAttention", {7, 25, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                            hasten::PagedArgs a{};
                            a.attn = attention_args(b, p);
                            for (int j = 0; j < 4; j++) {
                              a.k_strides[j] = L(p, 14 + j);
                              a.v_strides[j] = L(p, 18 + j);
                            }
                            a.block_table = reinterpret_cast<const int32_t*>(b[5]);
                            a.max_blocks = I(p, 22);
                            a.block_size = I(p, 23);
                            return hasten::paged_attention(v, I(p, 0), a, I(p, 24), reinterpret_cast<float*>(b[6]),
                                                           s);
                          }}},
      // buffers x, values, indices (i32); params dtype, rows, V, k
      {"topk", {3, 4, [](int v, const Ptrs& b, const Params& p, cudaStream_t s) {
                  return hasten::topk(v, I(p, 0), b[0], b[1], reinterpret_cast<int32_t*>(b[2]), L(p, 1), I(p, 2),
                                      I(p, 3), s);
                }}},
      // buffers x, uniforms (f64 per row), out (i32 per row); params dtype, rows, V, temperature
      {"sample", {3, 4, [](int, const Ptrs& b, const Params& p, cudaStream_t s) {
                    return hasten::sample(I(p, 0), b[0], reinterpret_cast<const double*>(b[1]),
                                          reinterpret_cast<int32_t*>(b[2]), L(p, 1), I(p, 2), p[3], s);
                  }}},
  };
  return table;
}

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Context",
                       {
                           InstanceMethod<&Context::Alloc>("alloc"),
                           InstanceMethod<&Context::Write>("write"),
                           InstanceMethod<&Context::Copy>("copy"),
                           InstanceMethod<&Context::Read>("read"),
                           InstanceMethod<&Context::Free>("free"),
                           InstanceMethod<&Context::Sync>("sync"),
                           InstanceMethod<&Context::Launch>("launch"),
                           InstanceMethod<&Context::BeginCapture>("beginCapture"),
                           InstanceMethod<&Context::EndCapture>("endCapture"),
                           InstanceMethod<&Context::LaunchGraph>("launchGraph"),
                           InstanceMethod<&Context::DestroyGraph>("destroyGraph"),
                           InstanceMethod<&Context::Dispose>("dispose"),
                       });
  }

  explicit Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {
    Napi::Env env = info.Env();
    device_ = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    throw_if(env, cudaSetDevice(device_), "Context: cudaSetDevice");
    throw_if(env, cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "Context: cudaStreamCreate");
  }

  // Only collected when no wait is pending: each WaitWorker holds a strong reference (Ref/Unref).
  ~Context() override { Release(); }

 private:
  void Release() {
    if (!stream_) return;
    cudaSetDevice(device_);
    cudaStreamSynchronize(stream_);
    for (auto& [id, g] : graphs_) cudaGraphExecDestroy(g);
    graphs_.clear();
    for (auto& [id, b] : buffers_) cudaFreeAsync(b.ptr, stream_);
    buffers_.clear();
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
    stream_ = nullptr;
  }

  void CheckLive(Napi::Env env, const char* where) {
    if (!stream_) throw Napi::Error::New(env, std::string("cuda ") + where + ": the context was disposed");
  }
  void CheckNotCapturing(Napi::Env env, const char* where) {
    if (capturing_)
      throw Napi::Error::New(env, std::string("cuda ") + where +
                                      ": not allowed while a CUDA graph is being captured (only launches are)");
  }

  DeviceBuffer& Get(Napi::Env env, const Napi::Value& v, const char* where) {
    const uint32_t id = v.As<Napi::Number>().Uint32Value();
    auto it = buffers_.find(id);
    if (it == buffers_.end())
      throw Napi::Error::New(env, std::string("cuda ") + where + ": unknown or freed buffer handle " + std::to_string(id));
    return it->second;
  }

  // alloc(bytes) -> handle id; the buffer is zero-filled (the core-tensor Backend contract).
  Napi::Value Alloc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "alloc");
    CheckNotCapturing(env, "alloc");
    const double req = info[0].As<Napi::Number>().DoubleValue();
    const size_t bytes = static_cast<size_t>(req);
    void* p = nullptr;
    throw_if(env, cudaMallocAsync(&p, bytes ? bytes : 1, stream_), "alloc: cudaMallocAsync");
    throw_if(env, cudaMemsetAsync(p, 0, bytes ? bytes : 1, stream_), "alloc: cudaMemsetAsync");
    const uint32_t id = next_id_++;
    buffers_[id] = DeviceBuffer{static_cast<char*>(p), bytes};
    return Napi::Number::New(env, id);
  }

  // write(id, byteOffset, typedArray): host-to-device on the stream. From pageable memory the call
  // returns once the source is staged, so the caller may reuse its array at once.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "write");
    CheckNotCapturing(env, "write");
    DeviceBuffer& b = Get(env, info[0], "write");
    const size_t off = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
    Napi::TypedArray ta = info[2].As<Napi::TypedArray>();
    const size_t n = ta.ByteLength();
    if (off > b.bytes || n > b.bytes - off) throw Napi::RangeError::New(env, "cuda write: range outside the buffer");
    const char* src = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (n) throw_if(env, cudaMemcpyAsync(b.ptr + off, src, n, cudaMemcpyHostToDevice, stream_), "write: cudaMemcpyAsync");
    return env.Undefined();
  }

  // copy(dst, dstOffset, src, srcOffset, bytes): device-to-device on the stream.
  Napi::Value Copy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "copy");
    DeviceBuffer& d = Get(env, info[0], "copy");
    const size_t doff = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
    DeviceBuffer& s = Get(env, info[2], "copy");
    const size_t soff = static_cast<size_t>(info[3].As<Napi::Number>().DoubleValue());
    const size_t n = static_cast<size_t>(info[4].As<Napi::Number>().DoubleValue());
    if (doff > d.bytes || n > d.bytes - doff || soff > s.bytes || n > s.bytes - soff)
      throw Napi::RangeError::New(env, "cuda copy: range outside a buffer");
    if (n) throw_if(env, cudaMemcpyAsync(d.ptr + doff, s.ptr + soff, n, cudaMemcpyDeviceToDevice, stream_), "copy");
    return env.Undefined();
  }

  // read(id, byteOffset, bytes) -> Promise<ArrayBuffer>, after all work enqueued before it.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "read");
    CheckNotCapturing(env, "read");
    DeviceBuffer& b = Get(env, info[0], "read");
    const size_t off = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
    const size_t n = static_cast<size_t>(info[2].As<Napi::Number>().DoubleValue());
    if (off > b.bytes || n > b.bytes - off) throw Napi::RangeError::New(env, "cuda read: range outside the buffer");
    void* host = nullptr;
    if (n) {
      throw_if(env, cudaMallocHost(&host, n), "read: cudaMallocHost");
      const cudaError_t e = cudaMemcpyAsync(host, b.ptr + off, n, cudaMemcpyDeviceToHost, stream_);
      if (e != cudaSuccess) {
        cudaFreeHost(host);
        throw_if(env, e, "read: cudaMemcpyAsync");
      }
    }
    return Wait(env, host, n);
  }

  // sync() -> Promise<void> once every enqueued operation has completed.
  Napi::Value Sync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "sync");
    CheckNotCapturing(env, "sync");
    return Wait(env, nullptr, 0);
  }

  Napi::Value Wait(Napi::Env env, void* host, size_t bytes) {
    cudaEvent_t ev;
    cudaError_t e = cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
    if (e == cudaSuccess) e = cudaEventRecord(ev, stream_);
    if (e != cudaSuccess) {
      if (host) cudaFreeHost(host);
      throw_if(env, e, "read/sync: cudaEventRecord");
    }
    auto* w = new WaitWorker(env, this, device_, ev, host, bytes);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  // free(id): stream-ordered, so work already enqueued on the buffer still sees it.
  Napi::Value Free(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "free");
    CheckNotCapturing(env, "free");
    DeviceBuffer& b = Get(env, info[0], "free");
    throw_if(env, cudaFreeAsync(b.ptr, stream_), "free: cudaFreeAsync");
    buffers_.erase(info[0].As<Napi::Number>().Uint32Value());
    return env.Undefined();
  }

  // launch(kernel, version, buffers: number[] ([id, byteOffset] pairs, id -1 = null), params: number[])
  Napi::Value Launch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "launch");
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    const int version = info[1].As<Napi::Number>().Int32Value();
    Napi::Array bufs = info[2].As<Napi::Array>();
    Napi::Array prms = info[3].As<Napi::Array>();
    auto it = launchers().find(name);
    if (it == launchers().end()) throw Napi::Error::New(env, "cuda launch: unknown kernel '" + name + "'");
    const LaunchSpec& spec = it->second;
    if (bufs.Length() != 2 * spec.buffers || prms.Length() != spec.params)
      throw Napi::Error::New(env, "cuda launch " + name + ": expected " + std::to_string(spec.buffers) +
                                      " buffers and " + std::to_string(spec.params) + " params");
    Ptrs ptrs(spec.buffers, nullptr);
    for (size_t i = 0; i < spec.buffers; i++) {
      const double id = bufs.Get(2 * i).As<Napi::Number>().DoubleValue();
      if (id < 0) continue;
      DeviceBuffer& b = Get(env, bufs.Get(2 * i), "launch");
      const size_t off = static_cast<size_t>(bufs.Get(2 * i + 1).As<Napi::Number>().DoubleValue());
      if (off > b.bytes) throw Napi::RangeError::New(env, "cuda launch " + name + ": offset outside a buffer");
      ptrs[i] = b.ptr + off;
    }
    Params params(spec.params);
    for (size_t i = 0; i < spec.params; i++) params[i] = prms.Get(i).As<Napi::Number>().DoubleValue();
    cudaSetDevice(device_);
    throw_if(env, spec.run(version, ptrs, params, stream_), ("launch " + name).c_str());
    return env.Undefined();
  }

  Napi::Value BeginCapture(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "beginCapture");
    CheckNotCapturing(env, "beginCapture");
    // Thread-local mode: the wait workers' calls on other threads do not invalidate the capture.
    throw_if(env, cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "beginCapture");
    capturing_ = true;
    return env.Undefined();
  }

  Napi::Value EndCapture(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "endCapture");
    if (!capturing_) throw Napi::Error::New(env, "cuda endCapture: no capture in progress");
    capturing_ = false;
    cudaGraph_t graph = nullptr;
    throw_if(env, cudaStreamEndCapture(stream_, &graph), "endCapture: cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    throw_if(env, e, "endCapture: cudaGraphInstantiate");
    const uint32_t id = next_id_++;
    graphs_[id] = exec;
    return Napi::Number::New(env, id);
  }

  Napi::Value LaunchGraph(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "launchGraph");
    CheckNotCapturing(env, "launchGraph");
    auto it = graphs_.find(info[0].As<Napi::Number>().Uint32Value());
    if (it == graphs_.end()) throw Napi::Error::New(env, "cuda launchGraph: unknown or destroyed graph handle");
    throw_if(env, cudaGraphLaunch(it->second, stream_), "launchGraph");
    return env.Undefined();
  }

  Napi::Value DestroyGraph(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckLive(env, "destroyGraph");
    auto it = graphs_.find(info[0].As<Napi::Number>().Uint32Value());
    if (it == graphs_.end()) throw Napi::Error::New(env, "cuda destroyGraph: unknown or destroyed graph handle");
    // A graph launch already enqueued keeps its own reference; destroying the exec is safe after sync.
    cudaStreamSynchronize(stream_);
    cudaGraphExecDestroy(it->second);
    graphs_.erase(it);
    return env.Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (capturing_) {
      cudaGraph_t g = nullptr;
      cudaStreamEndCapture(stream_, &g);
      if (g) cudaGraphDestroy(g);
      capturing_ = false;
    }
    Release();
    return info.Env().Undefined();
  }

  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  bool capturing_ = false;
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, DeviceBuffer> buffers_;
  std::unordered_map<uint32_t, cudaGraphExec_t> graphs_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("deviceInfo", Napi::Function::New(env, DeviceInfo));
  exports.Set("Context", Context::Define(env));
  exports.Set("kernels", [&] {
    Napi::Array a = Napi::Array::New(env);
    uint32_t i = 0;
    for (auto& [name, spec] : launchers()) a.Set(i++, name);
    return a;
  }());
  return exports;
}

}  // namespace

NODE_API_MODULE(hasten_cuda, Init)
