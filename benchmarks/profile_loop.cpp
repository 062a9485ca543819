// Decode + analyse one model (or several in turn) N times in a warm process (one thread) and print the median
// wall time per model: the driver for instruction counts of the graph layer under callgrind, which stay
// repeatable on a loaded machine.
//
// Build against the C++ core (no Python), e.g. with -O2 -g for callgrind:
//   cmake -S . -B build-core -G Ninja -DNETSCORE_BUILD_PYTHON=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
//   ninja -C build-core netscore_core
//   g++ -O2 -g -std=c++17 -Icpp -Icpp/include benchmarks/profile_loop.cpp build-core/libnetscore_core.a
//       -lpthread -o profile_loop
// Run:      profile_loop MODEL.onnx[,MODEL2.onnx,...] [N=100] [mode=layers|totals|decode|decode-reuse]
// (decode: a fresh Model per call, freed after it; decode-reuse: one Model refilled by decode_model_into,
// as profile_bytes does with its per-thread Model). Several comma-separated models are profiled in turn in
// every round, as bulk profiling of NAS candidates does: the per-thread workspaces then see models of
// different sizes.
// Per-call instructions: the difference of two callgrind runs, (Ir(N=11) - Ir(N=1)) / 10, which removes
// start-up (registry construction, file mapping); with K models, divide by 10 * K for a model:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null profile_loop MODEL.onnx 11 totals
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "graph/analysis.h"
#include "onnx/decode.h"
#include "onnx/loader.h"

int main(int argc, char** argv) {
  using namespace netscore;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.onnx[,MODEL2.onnx,...] [N] [layers|totals|decode|decode-reuse]\n", argv[0]);
    return 2;
  }
  const int n = argc > 2 ? std::max(1, std::atoi(argv[2])) : 100;
  const char* mode = argc > 3 ? argv[3] : "layers";
  const bool decode_only = std::strcmp(mode, "decode") == 0;
  const bool decode_reuse = std::strcmp(mode, "decode-reuse") == 0;
  onnx::Model reused;
  graph::Options options;
  options.want_layers = std::strcmp(mode, "totals") != 0;

  std::vector<std::string> paths;
  for (const char* p = argv[1];;) {
    const char* comma = std::strchr(p, ',');
    paths.emplace_back(p, comma ? static_cast<size_t>(comma - p) : std::strlen(p));
    if (!comma) break;
    p = comma + 1;
  }
  std::vector<onnx::MappedFile> files;
  for (const std::string& path : paths) files.emplace_back(path);

  std::vector<double> us;  // per model, one entry per round
  int64_t sink = 0;        // keeps the work observable
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t f = 0; f < files.size(); ++f) {
      const onnx::MappedFile& file = files[f];
      if (decode_reuse) {
        onnx::decode_model_into(file.data(), file.size(), reused);
        sink += static_cast<int64_t>(reused.graph.nodes.size());
      } else if (decode_only) {
        sink += static_cast<int64_t>(onnx::decode_model(file.data(), file.size()).graph.nodes.size());
      } else {
        const graph::Profile p = graph::profile_bytes(file.data(), file.size(), paths[f], options);
        sink += p.macs + static_cast<int64_t>(p.layers.size());
      }
    }
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / static_cast<double>(files.size()));
  }
  std::sort(us.begin(), us.end());
  const std::string label = files.size() == 1 ? paths[0] : std::to_string(files.size()) + " models";
  std::printf("%s %s: median %.1f us, min %.1f us, max %.1f us per model over %d runs (check %lld)\n", label.c_str(),
              mode, us[us.size() / 2], us.front(), us.back(), n, static_cast<long long>(sink));
  return 0;
}
