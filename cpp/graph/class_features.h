// Per-op-class work of a model, of the whole graph and of its live part: the features device models
// (python/netscore_fast/device.py) are fitted on.
#pragma once
#include <array>
#include <vector>

#include "graph/analysis.h"

namespace netscore::graph {

// One op class's sums over the layers that run (folded layers do not): MACs, FLOPs, bytes moved (the
// layer's non-constant inputs and outputs plus its weights) and the number of layers. A count that is
// unknown for a layer adds 0 (the layer still counts).
struct ClassCosts {
  double macs = 0, flops = 0, bytes = 0, layers = 0;
};
constexpr int kClassCostFields = 4;                          // in the order above
inline constexpr const char* kClassCostNames[kClassCostFields] = {"macs", "flops", "bytes", "layers"};

struct ClassFeatures {
  std::array<ClassCosts, kNumOpClasses> full{};  // every layer that runs
  std::array<ClassCosts, kNumOpClasses> live{};  // the layers that can change the output (live_layers)
};

// Per layer of `profile`: true when it is live. A value is data-independent when it is a constant, the
// output of Shape / Size, a Sub or Xor of a tensor with itself (a zero: NAS-Bench-201 writes an all-`none`
// cell node so), a Mul by a known zero, or computed from data-independent values only; a layer is live
// when its node has a data-dependent input, a data-dependent output, and an output that a graph output
// needs through live nodes. Layers of an inlined function share their call node's answer.
std::vector<bool> live_layers(const onnx::Model& model, const Profile& profile);

// The features of an analysed model (`profile` analysed with want_layers).
ClassFeatures class_features(const onnx::Model& model, const Profile& profile);

}  // namespace netscore::graph
