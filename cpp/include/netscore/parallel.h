// Threads, in the one place they are started: the persistent pool the kernels run on, a one-shot
// "fn on N workers" for bulk work, and the one "all cores" default. Header-only so every layer can use it.
//
// ThreadPool: persistent workers that spin briefly between jobs, then sleep; the caller works too and waits.
// Waking a sleeping thread costs tens of microseconds (a futex wake, more under a hypervisor), as much as a
// whole small op, and ops run back to back. So a worker that finishes a job keeps polling the job counter
// for a short while (kSpin) before it blocks, and the caller waits for the others by polling too. The
// condition variable is signalled only when some worker has actually gone to sleep.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace netscore {

// Logical CPUs of the machine (at least 1), whatever this process may use.
inline int hardware_threads() { return std::max(1, int(std::thread::hardware_concurrency())); }

// "All cores": the CPUs this process may run on (its affinity mask, as taskset or a container's cpuset
// limit it) where the OS says, else the machine's logical CPUs; at least 1.
inline int default_threads() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  return hardware_threads();
}

// Calls fn(i) for every i in [0, n) on `workers` threads (this one included); each claims the next index
// from an atomic counter, so uneven items balance. Threads are started per call and joined before it
// returns: nothing survives a fork. If some cannot be started (resource limits), the others do the work.
template <typename Fn>
void run_on_workers(size_t n, size_t workers, Fn fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next.fetch_add(1, std::memory_order_relaxed))
      fn(i);
  };
  workers = std::min(workers, n);
  if (workers <= 1) {
    work();
    return;
  }
  std::vector<std::thread> started;
  started.reserve(workers - 1);
  try {
    for (size_t w = 1; w < workers; ++w) started.emplace_back(work);
  } catch (...) {
    // could not start every thread: the ones running and this one finish the work
  }
  work();
  for (std::thread& t : started) t.join();
}

// Persistent workers; the calling thread takes part, so ThreadPool(1) runs everything inline.
class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int num_threads() const;
  // Calls fn(i) once for every i in [0, n), spread over the threads (dynamic, in index order per grab);
  // returns when all calls are done. fn(i) receives the worker number in [0, num_threads()) via `thread`.
  void parallel_for(int64_t n, const std::function<void(int64_t i, int thread)>& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace parallel_detail {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
constexpr auto kSpin = std::chrono::microseconds(200);  // polling time before a worker sleeps
}  // namespace parallel_detail

struct ThreadPool::Impl {
  int num_threads = 1;
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake;
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> stop{false};
  std::atomic<int> busy{0};
  int sleepers = 0;  // guarded by mutex
  // The current job, published by the release increment of `generation`.
  const std::function<void(int64_t, int)>* fn = nullptr;
  int64_t n = 0;
  std::atomic<int64_t> next{0};

  void work(int thread) {
    for (int64_t i = next.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next.fetch_add(1, std::memory_order_relaxed))
      (*fn)(i, thread);
  }

  // True when a new job (or stop) arrived within the polling time.
  bool poll(uint64_t seen) const {
    const auto until = std::chrono::steady_clock::now() + parallel_detail::kSpin;
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (generation.load(std::memory_order_acquire) != seen || stop.load(std::memory_order_acquire))
          return true;
        parallel_detail::cpu_relax();
      }
      if (std::chrono::steady_clock::now() > until) return false;
    }
  }

  void loop(int thread) {
    uint64_t seen = 0;
    for (;;) {
      if (!poll(seen)) {
        std::unique_lock<std::mutex> lock(mutex);
        ++sleepers;
        wake.wait(lock, [&] {
          return stop.load(std::memory_order_acquire) || generation.load(std::memory_order_acquire) != seen;
        });
        --sleepers;
      }
      if (stop.load(std::memory_order_acquire)) return;
      seen = generation.load(std::memory_order_acquire);
      work(thread);
      busy.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
};

inline ThreadPool::ThreadPool(int num_threads) : impl_(new Impl) {
  impl_->num_threads = num_threads < 1 ? 1 : num_threads;
  for (int t = 1; t < impl_->num_threads; ++t) impl_->workers.emplace_back([this, t] { impl_->loop(t); });
}

inline ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop.store(true, std::memory_order_release);
  }
  impl_->wake.notify_all();
  for (std::thread& t : impl_->workers) t.join();
}

inline int ThreadPool::num_threads() const { return impl_->num_threads; }

inline void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int)>& fn) {
  if (n <= 0) return;
  Impl& s = *impl_;
  if (s.workers.empty() || n == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  s.fn = &fn;
  s.n = n;
  s.next.store(0, std::memory_order_relaxed);
  s.busy.store(int(s.workers.size()), std::memory_order_relaxed);
  bool sleeping;
  {
    // Under the mutex, so a worker about to sleep either sees the new generation or is counted and woken.
    std::lock_guard<std::mutex> lock(s.mutex);
    s.generation.fetch_add(1, std::memory_order_release);
    sleeping = s.sleepers > 0;
  }
  if (sleeping) s.wake.notify_all();
  s.work(0);
  // The others finish within about one task; yield now and then in case a worker has lost its core.
  for (int i = 0; s.busy.load(std::memory_order_acquire) != 0; ++i) {
    parallel_detail::cpu_relax();
    if ((i & 1023) == 1023) std::this_thread::yield();
  }
  s.fn = nullptr;
}

}  // namespace netscore
