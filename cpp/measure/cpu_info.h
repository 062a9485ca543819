// Description of the machine a measurement ran on: CPU model, cores, caches, clock, ISA tiers, peak.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace netscore::bench {

struct CpuInfo {
  std::string arch;                     // "x86_64", "aarch64", ...
  std::string model;                    // /proc/cpuinfo "model name" (x86); "CPU part"/"Model" or device-tree (ARM)
  std::string vendor;                   // "GenuineIntel", "AuthenticAMD", ARM implementer, ... ("" unknown)
  int logical_cores = 0;                // online CPUs
  int64_t llc_bytes = 0;                // last-level cache size (0 unknown)
  double nominal_mhz = 0;               // cpufreq max if exposed, else the max "cpu MHz" in /proc/cpuinfo (0 unknown)
  double measured_mhz = 0;              // from a loop of dependent adds (one per cycle); 0 if not measured
  double clock_mhz = 0;                 // the clock used for the peak: nominal, else measured
  std::string clock_source;             // where clock_mhz came from
  std::vector<std::string> isa_supported;  // kernel tiers this CPU and OS can run, best first
  std::string isa_active;               // tier the kernels dispatch to
  int fma_units = 0;                    // FP32 FMA pipes per core for the active tier, by CPU family (a model)
  int vector_bits = 0;                  // their width in bits
  double model_peak_gflops_per_core = 0;  // fma_units * (vector_bits/32) * 2 * clock: the model's figure
  double peak_gflops_per_core = 0;      // MEASURED FP32 peak of one core for the active tier (fma_peak.h);
                                        // the model's figure only if the tier's loop cannot run here
  double fma_per_cycle = 0;             // measured peak / (lanes x 2 FLOP x clock): FMA pipes seen busy
  std::vector<std::pair<std::string, double>> peak_gflops_by_isa;  // measured peak per supported tier
  std::string peak_assumption;          // one line on how the peak was obtained (and the model's figure)
  std::string compiler;                 // __VERSION__
};

// The description of this machine (computed once; the clock loop takes a few milliseconds).
const CpuInfo& cpu_info();

// The CPU model named by a /proc/cpuinfo text (and the device-tree model string on ARM boards);
// "unknown" when neither names it. Used by cpu_info(); exposed so the parsing is testable anywhere.
std::string cpu_model_from_cpuinfo(const std::string& proc_cpuinfo_text, const std::string& device_tree_model);

// The compiler that built this library.
std::string compiler_version();

}  // namespace netscore::bench
