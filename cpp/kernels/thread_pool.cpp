// ThreadPool: persistent workers that spin briefly between jobs, then sleep; the caller works too and waits.
//
// Waking a sleeping thread costs tens of microseconds (a futex wake, more under a hypervisor), as much as a
// whole small op, and ops run back to back. So a worker that finishes a job keeps polling the job counter
// for a short while (kSpin) before it blocks, and the caller waits for the others by polling too. The
// condition variable is signalled only when some worker has actually gone to sleep.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/kernels.h"

namespace netscore::kernels {

namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
constexpr auto kSpin = std::chrono::microseconds(200);  // polling time before a worker sleeps
}  // namespace

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
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (generation.load(std::memory_order_acquire) != seen || stop.load(std::memory_order_acquire))
          return true;
        cpu_relax();
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

ThreadPool::ThreadPool(int num_threads) : impl_(new Impl) {
  impl_->num_threads = num_threads < 1 ? 1 : num_threads;
  for (int t = 1; t < impl_->num_threads; ++t) impl_->workers.emplace_back([this, t] { impl_->loop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop.store(true, std::memory_order_release);
  }
  impl_->wake.notify_all();
  for (std::thread& t : impl_->workers) t.join();
}

int ThreadPool::num_threads() const { return impl_->num_threads; }

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int)>& fn) {
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
    cpu_relax();
    if ((i & 1023) == 1023) std::this_thread::yield();
  }
  s.fn = nullptr;
}

}  // namespace netscore::kernels
