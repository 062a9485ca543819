// Machine description for benchmark results: /proc and /sys on Linux, a clock loop, and the kernel tiers.
#include "measure/cpu_info.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "kernels/kernels.h"
#include "measure/fma_peak.h"
#include "netscore/parallel.h"

namespace netscore::bench {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
  return trim(s);
}

// "key : value" lines of /proc/cpuinfo; the first occurrence of each key, plus the max "cpu MHz".
struct ProcCpuinfo {
  std::map<std::string, std::string> first;
  double max_mhz = 0;
};

ProcCpuinfo parse_proc_cpuinfo(std::istream& f) {
  ProcCpuinfo info;
  std::string line;
  while (std::getline(f, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "cpu MHz") info.max_mhz = std::max(info.max_mhz, std::atof(value.c_str()));
    info.first.emplace(key, value);
  }
  return info;
}

ProcCpuinfo read_proc_cpuinfo() {
  std::ifstream f("/proc/cpuinfo");
  return parse_proc_cpuinfo(f);
}

std::string lookup(const ProcCpuinfo& info, const std::string& key) {
  auto it = info.first.find(key);
  return it == info.first.end() ? "" : it->second;
}

// ARM "CPU part" numbers of Arm Ltd. cores (implementer 0x41), from Arm's technical reference manuals.
std::string arm_part_name(const std::string& implementer, const std::string& part) {
  if (implementer != "0x41") return "";
  static const std::map<std::string, std::string> parts = {
      {"0xd03", "Cortex-A53"}, {"0xd04", "Cortex-A35"}, {"0xd05", "Cortex-A55"}, {"0xd07", "Cortex-A57"},
      {"0xd08", "Cortex-A72"}, {"0xd09", "Cortex-A73"}, {"0xd0a", "Cortex-A75"}, {"0xd0b", "Cortex-A76"},
      {"0xd0c", "Neoverse-N1"}, {"0xd0d", "Cortex-A77"}, {"0xd40", "Neoverse-V1"}, {"0xd41", "Cortex-A78"},
      {"0xd44", "Cortex-X1"}, {"0xd46", "Cortex-A510"}, {"0xd47", "Cortex-A710"}, {"0xd48", "Cortex-X2"},
      {"0xd49", "Neoverse-N2"}, {"0xd4b", "Cortex-A78C"}, {"0xd4d", "Cortex-A715"}, {"0xd4e", "Cortex-X3"},
      {"0xd4f", "Neoverse-V2"}, {"0xd80", "Cortex-A520"}, {"0xd81", "Cortex-A720"}, {"0xd82", "Cortex-X4"}};
  auto it = parts.find(part);
  return it == parts.end() ? "" : it->second;
}

// x86: "model name". ARM: the board ("Model" line, else the device-tree model) and the core named by
// "CPU implementer"/"CPU part", e.g. "Raspberry Pi 4 Model B Rev 1.4 (Cortex-A72)".
std::string model_from_proc(const ProcCpuinfo& proc, const std::string& device_tree_model) {
  std::string model = lookup(proc, "model name");
  if (model.empty()) {
    std::string dt = device_tree_model;  // device-tree strings end in NUL
    dt.erase(std::remove(dt.begin(), dt.end(), '\0'), dt.end());
    const std::string board = !lookup(proc, "Model").empty() ? lookup(proc, "Model") : trim(dt);
    const std::string implementer = lookup(proc, "CPU implementer");
    const std::string part = lookup(proc, "CPU part");
    std::string core = arm_part_name(implementer, part);
    if (core.empty() && !part.empty()) core = "CPU implementer " + implementer + " part " + part;
    model = board.empty() ? core : (core.empty() ? board : board + " (" + core + ")");
  }
  return model.empty() ? "unknown" : model;
}

int64_t parse_cache_size(const std::string& text) {  // "491520K", "32M"
  if (text.empty()) return 0;
  int64_t v = std::atoll(text.c_str());
  const char unit = text.back();
  if (unit == 'K' || unit == 'k') v <<= 10;
  else if (unit == 'M' || unit == 'm') v <<= 20;
  else if (unit == 'G' || unit == 'g') v <<= 30;
  return v;
}

int64_t last_level_cache_bytes() {
  int best_level = 0;
  int64_t best_size = 0;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    const std::string level = read_text(dir + "level");
    if (level.empty()) break;
    const std::string type = read_text(dir + "type");
    if (type == "Instruction") continue;
    const int l = std::atoi(level.c_str());
    const int64_t size = parse_cache_size(read_text(dir + "size"));
    if (l > best_level || (l == best_level && size > best_size)) {
      best_level = l;
      best_size = size;
    }
  }
  return best_size;
}

// Clock from a chain of dependent register adds: each waits for the previous, one per cycle on every
// core we know. Register-register adds are used because some cores fold immediate adds at rename.
double measure_clock_mhz() {
#if defined(__x86_64__) || defined(__aarch64__)
  // Short runs, the fastest kept: on a loaded machine most runs lose time to other processes, and a run
  // can only be slowed by that, never sped up.
  double best = 0;
  for (int attempt = 0; attempt < 48; ++attempt) {
    uint64_t x = 1, n = uint64_t(1) << 16;  // 16 adds per iteration: ~1M cycles, ~0.3 ms at 3 GHz
    const uint64_t adds = n * 16;
    const auto t0 = std::chrono::steady_clock::now();
#if defined(__x86_64__)
    asm volatile(
        "1:\n\t"
        "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
        "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
        "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
        "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
        "dec %1\n\tjnz 1b\n"
        : "+r"(x), "+r"(n)
        :
        : "cc");
#else
    asm volatile(
        "1:\n\t"
        "add %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\t"
        "add %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\t"
        "add %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\t"
        "add %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\t"
        "subs %1, %1, #1\n\tb.ne 1b\n"
        : "+r"(x), "+r"(n)
        :
        : "cc");
#endif
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) best = std::max(best, double(adds) / s * 1e-6);
  }
  return best;
#else
  return 0;
#endif
}

// FP32 FMA pipes per core and their width for the active kernel tier. An assumption by CPU family
// (vendor optimisation manuals), stated in CpuInfo::peak_assumption; unknown parts get the common case.
void assume_fma_units(CpuInfo& c, const ProcCpuinfo& proc) {
  const std::string& isa = c.isa_active;
  const int family = std::atoi(lookup(proc, "cpu family").c_str());
  const int model = std::atoi(lookup(proc, "model").c_str());
  const bool amd = c.vendor == "AuthenticAMD" || c.vendor == "HygonGenuine";
  if (isa.find("avx512") != std::string::npos) {
    if (amd && family == 0x19) {
      c.fma_units = 2; c.vector_bits = 256;
      c.peak_assumption = "AMD Zen 4: two 256-bit FMA pipes (512-bit FMAs issue as two halves)";
    } else if (amd) {
      c.fma_units = 2; c.vector_bits = 512;
      c.peak_assumption = "AMD Zen 5 or later: two 512-bit FMA pipes";
    } else if (c.model.find("Xeon") != std::string::npos) {
      c.fma_units = 2; c.vector_bits = 512;
      c.peak_assumption = "Intel Xeon with AVX-512: two 512-bit FMA units (ports 0+1 fused and port 5; "
                          "some Silver/Bronze parts have one)";
    } else {
      c.fma_units = 1; c.vector_bits = 512;
      c.peak_assumption = "Intel client core with AVX-512: one 512-bit FMA unit (ports 0+1 fused)";
    }
  } else if (isa.find("avx") != std::string::npos || isa.find("fma") != std::string::npos) {
    if (amd && family == 0x17 && model < 0x30) {
      c.fma_units = 2; c.vector_bits = 128;
      c.peak_assumption = "AMD Zen 1: two 128-bit FMA pipes (256-bit ops issue as two halves)";
    } else {
      c.fma_units = 2; c.vector_bits = 256;
      c.peak_assumption = "AVX2+FMA core: two 256-bit FMA units (Intel Haswell and later, AMD Zen 2 and later)";
    }
  } else if (isa.find("neon") != std::string::npos || isa.find("asimd") != std::string::npos) {
    const std::string part = lookup(proc, "CPU part");
    if (part == "0xd03" || part == "0xd04" || part == "0xd05") {
      c.fma_units = 1; c.vector_bits = 128;
      c.peak_assumption = "in-order Cortex-A53/A35/A55: one 128-bit NEON FMA per cycle";
    } else {
      c.fma_units = 2; c.vector_bits = 128;
      c.peak_assumption = "out-of-order Arm core: two 128-bit NEON FMA pipes (Cortex-A72 and later)";
    }
  } else {
    c.fma_units = 2; c.vector_bits = 32;
    c.peak_assumption = "scalar kernels: two scalar FMA pipes";
  }
  c.peak_assumption += "; peak = FMA units x (vector bits / 32) x 2 FLOP x clock (" + c.clock_source + ")";
}

CpuInfo detect() {
  CpuInfo c;
#if defined(__x86_64__) || defined(_M_X64)
  c.arch = "x86_64";
#elif defined(__aarch64__)
  c.arch = "aarch64";
#elif defined(__arm__)
  c.arch = "arm";
#else
  c.arch = "unknown";
#endif
  const ProcCpuinfo proc = read_proc_cpuinfo();
  c.model = model_from_proc(proc, read_text("/proc/device-tree/model"));
  c.vendor = lookup(proc, "vendor_id");
  if (c.vendor.empty()) c.vendor = lookup(proc, "CPU implementer");
  c.logical_cores = hardware_threads();
  c.llc_bytes = last_level_cache_bytes();

  const std::string khz = read_text("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
  if (!khz.empty()) {
    c.nominal_mhz = std::atof(khz.c_str()) / 1000.0;
    c.clock_source = "cpufreq cpuinfo_max_freq";
  } else if (proc.max_mhz > 0) {
    c.nominal_mhz = proc.max_mhz;
    c.clock_source = "/proc/cpuinfo cpu MHz (max over cores)";
  }
  c.measured_mhz = measure_clock_mhz();
  // Peak is an upper bound, so take the faster clock: virtual machines report the nominal (base) clock
  // in /proc/cpuinfo while the core runs at its boost clock, which the dependent-add loop sees.
  c.clock_mhz = c.nominal_mhz;
  if (c.measured_mhz > 1.05 * c.nominal_mhz) {
    c.clock_mhz = c.measured_mhz;
    c.clock_source = "measured dependent-add loop (above the reported " + std::to_string(int(c.nominal_mhz)) +
                     " MHz)";
  }

  const std::vector<kernels::Isa> tiers = kernels::supported_isas();  // scalar first, best last
  for (auto it = tiers.rbegin(); it != tiers.rend(); ++it) c.isa_supported.push_back(kernels::isa_name(*it));
  c.isa_active = kernels::isa_name(kernels::active_isa());
  assume_fma_units(c, proc);
  if (c.clock_mhz > 0)
    c.model_peak_gflops_per_core = double(c.fma_units) * (c.vector_bits / 32) * 2.0 * c.clock_mhz * 1e-3;
  // The peak efficiency is measured against: the FMA loop of the active tier on this core, now. A clock and
  // an FMA-unit count assumed per CPU family overstate or understate it (turbo, VMs, 256-bit datapaths).
  for (auto it = tiers.rbegin(); it != tiers.rend(); ++it)
    c.peak_gflops_by_isa.emplace_back(kernels::isa_name(*it), measured_peak(*it).gflops);
  const MeasuredPeak& m = measured_peak(kernels::active_isa());
  if (m.gflops > 0) {
    c.peak_gflops_per_core = m.gflops;
    const double clock = c.measured_mhz > 0 ? c.measured_mhz : c.clock_mhz;
    if (clock > 0) c.fma_per_cycle = m.gflops / ((m.vector_bits / 32) * 2.0 * clock * 1e-3);
    char line[200];
    std::snprintf(line, sizeof line,
                  "peak measured on this core: %d independent %s chains on one thread, best of %d runs of "
                  "%.1f ms: %.2f per cycle at %.0f MHz",
                  m.chains, m.instruction.c_str(), m.trials, m.trial_ms, c.fma_per_cycle, clock);
    char model[64];
    std::snprintf(model, sizeof model, "; the CPU-family model: %.1f GFLOP/s (", c.model_peak_gflops_per_core);
    const std::string family = c.peak_assumption.substr(0, c.peak_assumption.find("; peak = "));
    c.peak_assumption = line + std::string(model) + family + ")";
  } else {
    c.peak_gflops_per_core = c.model_peak_gflops_per_core;
    c.peak_assumption = "peak not measured (no loop for this tier): " + c.peak_assumption;
  }
  c.compiler = compiler_version();
  return c;
}

}  // namespace

std::string compiler_version() {
#if defined(__clang__)
  return std::string("clang ") + __VERSION__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#elif defined(_MSC_VER)
  return "msvc " + std::to_string(_MSC_VER);
#else
  return "unknown";
#endif
}

std::string cpu_model_from_cpuinfo(const std::string& proc_cpuinfo_text, const std::string& device_tree_model) {
  std::istringstream in(proc_cpuinfo_text);
  return model_from_proc(parse_proc_cpuinfo(in), device_tree_model);
}

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

}  // namespace netscore::bench
