// Timing harness: see harness.h. Samples are timed with steady_clock; very short calls are batched.
#include "measure/harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "measure/cpu_info.h"
#include "netscore/cancel.h"

namespace netscore::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

double quantile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0.0;
  std::sort(samples.begin(), samples.end());
  const double pos = q * double(samples.size() - 1);
  const size_t lo = size_t(std::floor(pos));
  const size_t hi = std::min(lo + 1, samples.size() - 1);
  const double frac = pos - double(lo);
  return samples[lo] + (samples[hi] - samples[lo]) * frac;
}

int cold_cache_copies(int64_t working_set_bytes, int64_t max_total_bytes) {
  if (working_set_bytes <= 0) return 2;
  int64_t llc = cpu_info().llc_bytes;
  if (llc <= 0) llc = int64_t(32) << 20;  // unknown: assume a 32 MiB last-level cache
  const int64_t wanted = (2 * llc) / working_set_bytes + 1;
  const int64_t affordable = std::max<int64_t>(2, max_total_bytes / working_set_bytes);
  return int(std::clamp<int64_t>(std::min(wanted, affordable), 2, 4096));
}

Timing time_calls(const std::function<void(int copy)>& fn, int buffer_copies, int64_t flops, int64_t bytes,
                  const TimingOptions& options, const RunContext& context) {
  Timing t;
  t.flops = flops;
  t.bytes = bytes;
  t.context = context;
  t.cold_cache = options.cold_cache && buffer_copies > 1;
  t.buffer_copies = std::max(1, buffer_copies);
  int copy = 0;
  auto call = [&] {
    check_cancelled();   // Ctrl-C: between calls (one kernel call is short)
    fn(copy);
    if (++copy == t.buffer_copies) copy = 0;
  };

  // Warm-up: page in buffers, settle the clock and estimate one call's duration.
  int64_t warm_calls = 0;
  const Clock::time_point w0 = Clock::now();
  double warm = 0;
  do {
    call();
    ++warm_calls;
    warm = seconds_since(w0);
  } while (warm < options.warmup_time || warm_calls < std::min(t.buffer_copies, 1000));
  const double per_call = warm / double(warm_calls);

  // Batch calls so that a sample lasts about sample_time: the clock's overhead then stays negligible.
  int64_t batch = 1;
  if (per_call > 0 && per_call < options.sample_time)
    batch = std::max<int64_t>(1, int64_t(options.sample_time / per_call));
  t.calls_per_sample = batch;

  std::vector<double> samples;
  samples.reserve(64);
  const Clock::time_point start = Clock::now();
  while (int(samples.size()) < options.max_repeats) {
    const Clock::time_point s0 = Clock::now();
    for (int64_t i = 0; i < batch; ++i) call();
    samples.push_back(seconds_since(s0) / double(batch));
    if (int(samples.size()) >= options.min_repeats && seconds_since(start) >= options.min_time) break;
  }

  t.samples = int(samples.size());
  t.median_s = quantile(samples, 0.5);
  t.q1_s = quantile(samples, 0.25);
  t.q3_s = quantile(samples, 0.75);
  t.iqr_s = t.q3_s - t.q1_s;
  t.min_s = *std::min_element(samples.begin(), samples.end());
  if (t.median_s > 0) {
    if (flops > 0) t.gflops = double(flops) / t.median_s * 1e-9;
    if (bytes > 0) t.gbytes_per_s = double(bytes) / t.median_s * 1e-9;
  }
  return t;
}

}  // namespace netscore::bench
