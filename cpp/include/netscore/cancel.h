// Cancellation (Ctrl-C): one process-wide flag that long loops poll, and the exception that unwinds them.
//
// The flag is set from a signal handler (the bindings install one for SIGINT while a call runs with the
// GIL released) or by request_cancel(); check_cancelled() is a relaxed atomic load, cheap enough for a
// per-node loop. Kernels need no check (one call is short): their callers check between calls.
// Cancelled derives from no std::exception on purpose: the `catch (const std::exception&)` that turn a
// failure into an error row or message must let it through.
#pragma once
#include <atomic>

namespace netscore {

struct Cancelled {};

inline std::atomic<bool>& cancel_flag() {
  static std::atomic<bool> flag{false};   // lock-free: safe to set from a signal handler
  return flag;
}

inline bool cancel_requested() noexcept { return cancel_flag().load(std::memory_order_relaxed); }
inline void request_cancel() noexcept { cancel_flag().store(true, std::memory_order_relaxed); }
inline void clear_cancel() noexcept { cancel_flag().store(false, std::memory_order_relaxed); }

// Throws Cancelled once cancellation was requested.
inline void check_cancelled() {
  if (cancel_requested()) throw Cancelled{};
}

}  // namespace netscore
