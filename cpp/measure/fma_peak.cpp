// Measured FP32 peak per kernel tier: independent FMA chains in inline assembly, timed on one thread.
//
// Why assembly: the loop must issue exactly the instructions counted (no spills, no unrolling surprises,
// no ISA flags needed for this file), and enough independent chains to hide the FMA latency on every core
// we know (latency 4 x 2 pipes on x86 needs 8; 14 are used; Arm cores up to 4 x 4 cycles: 24 are used).
#include "measure/fma_peak.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

namespace netscore::bench {
namespace {

using Loop = void (*)(uint64_t iterations);

struct LoopKind {
  Loop loop = nullptr;
  double flops_per_iteration = 0;
  int vector_bits = 0;
  int chains = 0;
  const char* instruction = "";
};

#define NS_REP14(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13)

#if defined(__x86_64__)
const float kA = 1e-3f, kB = 1e-3f, kOne = 1.0f;

// zmm0..13 += zmm14 * zmm15
void loop_avx512(uint64_t n) {
#define NS_ZERO(i) "vpxord %%zmm" #i ", %%zmm" #i ", %%zmm" #i "\n\t"
#define NS_FMA(i) "vfmadd231ps %%zmm14, %%zmm15, %%zmm" #i "\n\t"
  asm volatile(
      "vbroadcastss (%[a]), %%zmm14\n\t"
      "vbroadcastss (%[b]), %%zmm15\n\t" NS_REP14(NS_ZERO)
      "1:\n\t" NS_REP14(NS_FMA)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      : [a] "r"(&kA), [b] "r"(&kB)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef NS_ZERO
#undef NS_FMA
}

// ymm0..13 += ymm14 * ymm15
void loop_avx2(uint64_t n) {
#define NS_ZERO(i) "vxorps %%ymm" #i ", %%ymm" #i ", %%ymm" #i "\n\t"
#define NS_FMA(i) "vfmadd231ps %%ymm14, %%ymm15, %%ymm" #i "\n\t"
  asm volatile(
      "vbroadcastss (%[a]), %%ymm14\n\t"
      "vbroadcastss (%[b]), %%ymm15\n\t" NS_REP14(NS_ZERO)
      "1:\n\t" NS_REP14(NS_FMA)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      : [a] "r"(&kA), [b] "r"(&kB)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef NS_ZERO
#undef NS_FMA
}

// Baseline x86-64 (the scalar tier's flags): no FMA, so 7 chains of packed adds (xmm0..6 += xmm14) and 7
// of packed multiplies (xmm7..13 *= xmm15 = 1) keep the add and the multiply pipes busy at once.
void loop_sse2(uint64_t n) {
#define NS_ZERO(i) "xorps %%xmm" #i ", %%xmm" #i "\n\t"
#define NS_ONE(i) "movaps %%xmm15, %%xmm" #i "\n\t"
#define NS_ADD(i) "addps %%xmm14, %%xmm" #i "\n\t"
#define NS_MUL(i) "mulps %%xmm15, %%xmm" #i "\n\t"
  asm volatile(
      "movss (%[a]), %%xmm14\n\t"
      "shufps $0, %%xmm14, %%xmm14\n\t"
      "movss (%[one]), %%xmm15\n\t"
      "shufps $0, %%xmm15, %%xmm15\n\t" NS_ZERO(0) NS_ZERO(1) NS_ZERO(2) NS_ZERO(3) NS_ZERO(4) NS_ZERO(5)
      NS_ZERO(6) NS_ONE(7) NS_ONE(8) NS_ONE(9) NS_ONE(10) NS_ONE(11) NS_ONE(12) NS_ONE(13)
      "1:\n\t" NS_ADD(0) NS_MUL(7) NS_ADD(1) NS_MUL(8) NS_ADD(2) NS_MUL(9) NS_ADD(3) NS_MUL(10) NS_ADD(4)
      NS_MUL(11) NS_ADD(5) NS_MUL(12) NS_ADD(6) NS_MUL(13)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      : [n] "+r"(n)
      : [a] "r"(&kA), [one] "r"(&kOne)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef NS_ZERO
#undef NS_ONE
#undef NS_ADD
#undef NS_MUL
}
#endif

#if defined(__aarch64__)
const float kA = 1e-3f, kB = 1e-3f;

// v0..v23 += v24 * v25
void loop_neon(uint64_t n) {
#define NS_REP24(M) NS_REP14(M) M(14) M(15) M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23)
#define NS_ZERO(i) "eor v" #i ".16b, v" #i ".16b, v" #i ".16b\n\t"
#define NS_FMA(i) "fmla v" #i ".4s, v24.4s, v25.4s\n\t"
  asm volatile(
      "ld1r {v24.4s}, [%[a]]\n\t"
      "ld1r {v25.4s}, [%[b]]\n\t" NS_REP24(NS_ZERO)
      "1:\n\t" NS_REP24(NS_FMA)
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [n] "+r"(n)
      : [a] "r"(&kA), [b] "r"(&kB)
      : "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13",
        "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25");
#undef NS_REP24
#undef NS_ZERO
#undef NS_FMA
}
#endif

LoopKind loop_for(kernels::Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case kernels::Isa::avx512: return {loop_avx512, 14 * 16 * 2.0, 512, 14, "vfmadd231ps zmm"};
    case kernels::Isa::avx2: return {loop_avx2, 14 * 8 * 2.0, 256, 14, "vfmadd231ps ymm"};
    case kernels::Isa::scalar: return {loop_sse2, 14 * 4.0, 128, 14, "addps + mulps xmm (SSE2, no FMA)"};
#endif
#if defined(__aarch64__)
    case kernels::Isa::scalar:
    case kernels::Isa::neon:
    case kernels::Isa::neondot: return {loop_neon, 24 * 4 * 2.0, 128, 24, "fmla v.4s (NEON)"};
#endif
    default: return {};
  }
}

double seconds_of(Loop loop, uint64_t n) {
  const auto t0 = std::chrono::steady_clock::now();
  loop(n);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

MeasuredPeak measure(kernels::Isa isa) {
  MeasuredPeak p;
  const LoopKind kind = loop_for(isa);
  const std::vector<kernels::Isa> here = kernels::supported_isas();
  if (!kind.loop || std::find(here.begin(), here.end(), isa) == here.end()) return p;
  p.vector_bits = kind.vector_bits;
  p.chains = kind.chains;
  p.instruction = kind.instruction;
  // Grow the run to at least 0.5 ms (this also warms the vector unit up), then keep the best of 12 runs:
  // a run the scheduler preempted is slower, never faster, so the best one is the core's rate.
  // (each length is timed three times, the shortest kept, so one preemption does not stop the growth early)
  auto shortest = [&](uint64_t iterations) {
    double s = seconds_of(kind.loop, iterations);
    for (int k = 0; k < 2; ++k) s = std::min(s, seconds_of(kind.loop, iterations));
    return s;
  };
  uint64_t n = 4096;
  while (n < (uint64_t(1) << 32) && shortest(n) < 5e-4) n *= 2;
  double best = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const double s = seconds_of(kind.loop, n);
    if (s > 0 && double(n) * kind.flops_per_iteration / s > best) {
      best = double(n) * kind.flops_per_iteration / s;
      p.trial_ms = s * 1e3;
    }
    ++p.trials;
  }
  p.gflops = best * 1e-9;
  return p;
}

#undef NS_REP14

}  // namespace

const MeasuredPeak& measured_peak(kernels::Isa isa) {
#define NS_ISA_COUNT(name) +1
  constexpr int kTiers = 0 NS_ISA_TIERS(NS_ISA_COUNT);
#undef NS_ISA_COUNT
  static std::once_flag once[kTiers];
  static MeasuredPeak peaks[kTiers];
  const int i = static_cast<int>(isa);
  static const MeasuredPeak none;
  if (i < 0 || i >= kTiers) return none;
  std::call_once(once[i], [&] { peaks[i] = measure(isa); });
  return peaks[i];
}

}  // namespace netscore::bench
