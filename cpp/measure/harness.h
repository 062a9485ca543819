// Timing harness: warm-up, repeats until a minimum time, median and interquartile range, throughput,
// optional cold cache; every result carries the machine description it was measured on.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace netscore::bench {

struct TimingOptions {
  double min_time = 0.1;        // seconds of timed calls (after warm-up) before stopping
  double warmup_time = 0.01;    // seconds of untimed calls first (at least one call)
  int min_repeats = 5;          // samples taken even when min_time is already spent
  int max_repeats = 100000;     // upper bound on samples
  double sample_time = 1e-3;    // calls shorter than this are batched so one sample lasts about this long
  bool cold_cache = false;      // rotate through buffer copies that together exceed the last-level cache
  int threads = 1;              // recorded with the result; the timed function runs on the caller's pool
};

// What a measurement ran on. Filled once per process (cpu_info()) plus the ISA/threads of the call.
struct RunContext {
  std::string cpu_model;
  std::string isa;              // kernel tier used, e.g. "avx512f", "avx2", "neon", "scalar"
  int threads = 1;
  std::string compiler;         // __VERSION__ of the compiler that built the library
};

struct Timing {
  double median_s = 0;          // median seconds per call
  double q1_s = 0, q3_s = 0;    // first and third quartiles, seconds per call
  double iqr_s = 0;             // q3 - q1
  double min_s = 0;
  int samples = 0;              // samples the statistics are over
  int64_t calls_per_sample = 1;
  int64_t flops = 0;            // per call, as given by the caller (-1 unknown)
  int64_t bytes = 0;            // per call: bytes a perfect cache would move (inputs + weights + outputs)
  double gflops = 0;            // flops / median / 1e9 (0 when flops unknown)
  double gbytes_per_s = 0;      // bytes / median / 1e9
  bool cold_cache = false;
  int buffer_copies = 1;        // copies rotated through (1 = warm cache)
  RunContext context;
};

// Time `fn(copy)`: copy cycles through [0, buffer_copies) so a caller holding that many copies of its
// buffers reads a different one each call (cold cache); with one copy every call reuses the same data.
Timing time_calls(const std::function<void(int copy)>& fn, int buffer_copies, int64_t flops, int64_t bytes,
                  const TimingOptions& options, const RunContext& context);

// Copies of a working set needed so that consecutive calls find none of it in the last-level cache:
// enough to exceed twice the LLC size, capped by `max_total_bytes` of copies (at least 2 when cold).
int cold_cache_copies(int64_t working_set_bytes, int64_t max_total_bytes = int64_t(1) << 30);

// Median / quartiles of samples (linear interpolation between order statistics, like numpy's default).
double quantile(std::vector<double> samples, double q);

}  // namespace netscore::bench
