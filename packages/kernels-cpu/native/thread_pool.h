// A pool of one helper thread kept alive between calls (spawning a thread per product would cost
// more than a small matrix-vector product). run(fn, args, split) runs rows [split, n) on the helper
// and [0, split) on the caller, and returns when both are done. The helper spins ~200 us after each
// job (decode issues products back to back), then sleeps on a condition variable.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernels.h"

namespace hasten_cpu {

class ThreadPool {
 public:
  // The process-wide pool, started on first use and never destroyed (a detached helper; Node's
  // worker threads may share it: busy() callers run single-threaded instead of waiting).
  static ThreadPool& get() {
    static ThreadPool* pool = new ThreadPool();
    return *pool;
  }

  // False when another thread is using the pool right now (the caller then runs alone).
  bool run2(QgemvFn fn, const QgemvArgs& args, int64_t split) {
    std::unique_lock<std::mutex> use(use_, std::try_to_lock);
    if (!use.owns_lock()) return false;
    uint64_t g;
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = fn;
      args_ = &args;
      n0_ = split;
      n1_ = args.n;
      g = gen_.load(std::memory_order_relaxed) + 1;
      gen_.store(g, std::memory_order_release);
    }
    cv_.notify_one();
    fn(args, 0, split);
    while (done_.load(std::memory_order_acquire) != g) pause();
    return true;
  }

 private:
  ThreadPool() { std::thread([this] { loop(); }).detach(); }

  static inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      auto since = std::chrono::steady_clock::now();
      while (gen_.load(std::memory_order_acquire) == seen) {
        if (std::chrono::steady_clock::now() - since < std::chrono::microseconds(200)) {
          for (int i = 0; i < 64; i++) pause();
          continue;
        }
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
      }
      QgemvFn fn;
      const QgemvArgs* args;
      int64_t n0, n1;
      {
        std::lock_guard<std::mutex> lk(mu_);
        seen = gen_.load(std::memory_order_acquire);
        fn = fn_;
        args = args_;
        n0 = n0_;
        n1 = n1_;
      }
      fn(*args, n0, n1);
      done_.store(seen, std::memory_order_release);
    }
  }

  std::mutex use_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<uint64_t> done_{0};
  QgemvFn fn_ = nullptr;
  const QgemvArgs* args_ = nullptr;
  int64_t n0_ = 0, n1_ = 0;
};

}  // namespace hasten_cpu
