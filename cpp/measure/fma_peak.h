// The FP32 peak of one core per kernel tier, measured: a tight loop of independent FMAs timed at run time.
#pragma once
#include <string>

#include "kernels/kernels.h"

namespace netscore::bench {

struct MeasuredPeak {
  double gflops = 0;        // best rate over the trials, 1e9 FLOP/s (one FMA = 2 FLOP per lane); 0 if not run
  int vector_bits = 0;      // register width of the loop (128, 256, 512)
  int chains = 0;           // independent accumulator chains (cover FMA latency x pipes)
  int trials = 0;           // timed runs; the best one is kept (the others may have been preempted)
  double trial_ms = 0;      // length of the best run
  std::string instruction;  // what the loop issues, e.g. "vfmadd231ps zmm"
};

// The peak of `isa` on this core (one thread), measured once per process and tier (thread-safe; a few ms).
// The loop uses the instructions the tier is compiled for: AVX-512 and AVX2 tiers FMAs on zmm / ymm, the
// x86 scalar tier packed SSE2 multiplies and adds (the baseline ISA the compiler may auto-vectorise it to),
// AArch64 tiers NEON FMLA on 4 lanes. A tier this CPU cannot run, or of another architecture, gives gflops 0.
const MeasuredPeak& measured_peak(kernels::Isa isa);

}  // namespace netscore::bench
