// Which ISA tiers this CPU and OS can run, and which one is active: CPUID + OS state (XCR0, xgetbv) on x86-64,
// HWCAP on AArch64; the NETSCORE_ISA environment variable forces a tier.
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define NS_ARCH_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#define NS_ARCH_ARM 1
#endif

namespace netscore::kernels {
namespace {

std::vector<Isa> detect() {
  std::vector<Isa> isas{Isa::scalar};
#if defined(NS_ARCH_X86)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return isas;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!osxsave || !avx) return isas;
  unsigned xlo, xhi;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  const bool ymm_state = (xlo & 0x6u) == 0x6u;            // SSE + AVX state
  const bool zmm_state = (xlo & 0xE6u) == 0xE6u;          // + opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return isas;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5);
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31);
  if (avx2 && fma && ymm_state) isas.push_back(Isa::avx2);
  if (avx2 && fma && zmm_state && avx512f && avx512dq && avx512bw && avx512vl) isas.push_back(Isa::avx512);
#elif defined(NS_ARCH_ARM)
  isas.push_back(Isa::neon);  // Advanced SIMD is mandatory on AArch64
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
  if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) isas.push_back(Isa::neondot);
#endif
  return isas;
}

const std::vector<Isa>& detected() {
  static const std::vector<Isa> isas = detect();
  return isas;
}

std::mutex g_isa_mutex;
bool g_isa_set = false;
Isa g_isa = Isa::scalar;

constexpr Isa kAllTiers[] = {
#define NS_ISA_TIER(name) Isa::name,
    NS_ISA_TIERS(NS_ISA_TIER)
#undef NS_ISA_TIER
};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
#define NS_ISA_TIER(name) \
  case Isa::name: return #name;
    NS_ISA_TIERS(NS_ISA_TIER)
#undef NS_ISA_TIER
  }
  return "unknown";
}

bool parse_isa(std::string_view name, Isa* out) {
  for (Isa isa : kAllTiers)
    if (name == isa_name(isa)) {
      *out = isa;
      return true;
    }
  return false;
}

std::vector<Isa> supported_isas() { return detected(); }
Isa best_isa() { return detected().back(); }

void check_isa_supported(Isa isa) {
  for (Isa s : detected())
    if (s == isa) return;
  throw std::invalid_argument(std::string("ISA tier '") + isa_name(isa) + "' is not supported on this CPU");
}

Isa active_isa() {
  std::lock_guard<std::mutex> lock(g_isa_mutex);
  if (!g_isa_set) {
    g_isa = best_isa();
    if (const char* env = std::getenv("NETSCORE_ISA"); env && *env) {
      Isa forced;
      if (!parse_isa(env, &forced)) {
        std::string names;
        for (Isa isa : kAllTiers) names += std::string(names.empty() ? "" : "|") + isa_name(isa);
        throw std::invalid_argument(std::string("NETSCORE_ISA: unknown tier '") + env + "' (expected " + names + ")");
      }
      check_isa_supported(forced);
      g_isa = forced;
    }
    g_isa_set = true;
  }
  return g_isa;
}

void set_isa(Isa isa) {
  check_isa_supported(isa);
  std::lock_guard<std::mutex> lock(g_isa_mutex);
  g_isa = isa;
  g_isa_set = true;
}

}  // namespace netscore::kernels
