// Layer plan: each analysed layer of the graph layer mapped to the kernel configuration that times it, the
// way inference runtimes execute it (folds and fusions decided by the graph layer), or why it takes no time.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "graph/analysis.h"
#include "measure/op_timing.h"

namespace netscore::bench {

// How a node's time was obtained.
enum class LayerStatus {
  measured,    // timed with a kernel (identical configurations share one timing)
  fused,       // activation (or MatMul bias) executed in the preceding kernel's epilogue: 0 s, counted there
  folded,      // BatchNormalization folded into the preceding conv, or a constant node: 0 s
  noop,        // Flatten/Reshape/Identity/Dropout/Squeeze/Unsqueeze: a view at inference, 0 s
  unmeasured,  // no kernel for this node (or its shape is unknown): time unknown, never a silent zero
};
const char* status_name(LayerStatus status);

struct PlannedLayer {
  size_t node_index = 0;          // into Model::graph.nodes
  std::string name;
  std::string op_type;            // "domain::Op" outside the default domain
  std::string shape;              // "1x64x56x56 -> 1x64x56x56": first present input -> first output
  LayerStatus status = LayerStatus::unmeasured;  // measured: to be timed with `spec`
  std::string note;               // why fused/folded/unmeasured, or what is timed beyond the node itself
  OpSpec spec;                    // status == measured only
};

// One entry per analysed node, in the same order. Without `describe`, only node_index, status and spec are
// filled (no name, op type, shape or note text: what a device profile's prediction of many models needs).
std::vector<PlannedLayer> plan_layers(const std::vector<graph::AnalysedNode>& nodes, bool describe = true);

}  // namespace netscore::bench
