// Per-layer timing of a whole ONNX model with our kernels at each node's real shape (random weights), from
// the layer plan built on the graph layer's analysed nodes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/analysis.h"
#include "measure/harness.h"
#include "measure/layer_plan.h"
#include "onnx/ir.h"

namespace netscore::bench {

struct LayerTiming {
  size_t node_index = 0;         // into Model::graph.nodes
  std::string name;
  std::string op_type;
  std::string kernel;            // micro-kernel name; "" unless measured
  LayerStatus status = LayerStatus::unmeasured;
  std::string shape;             // "1x64x56x56 -> 1x64x56x56"
  std::string note;              // why fused/folded/unmeasured, or what was timed
  Timing timing;                 // all zero unless measured
  int64_t config_id = -1;        // rows with the same id share one timing (-1: none)
  bool timed = false;            // this row's configuration was timed here (first occurrence)
};

struct ModelTiming {
  std::vector<LayerTiming> layers;  // execution order
  int distinct_configs = 0;         // configurations actually timed
  double total_s = 0;               // sum of measured medians (unmeasured nodes excluded)
  // Every measured layer run back to back in model order, each with its own weights and buffers, so
  // caches hold what they would during inference (the per-layer medians above are warm-cache figures).
  Timing sequence;                  // sequence.samples == 0 when not run
};

// Time every node of an analysed model. `threads` kernel threads (one pool for the whole model).
// With `sequence`, also time all measured layers run back to back (ModelTiming::sequence).
ModelTiming time_model(const onnx::Model& model, const graph::Profile& profile, const TimingOptions& options,
                       bool sequence = true);

// Decode + analyse + time; errors (ModelError) are prefixed with `source_name`.
ModelTiming time_model_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                             const graph::Options& graph_options, const TimingOptions& options,
                             bool sequence = true);
ModelTiming time_model_file(const std::string& path, const graph::Options& graph_options,
                            const TimingOptions& options, bool sequence = true);

// Decode + analyse + plan, without timing: what time_model_bytes would time, and how (errors as there).
std::vector<PlannedLayer> plan_model_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                                           const graph::Options& graph_options);

}  // namespace netscore::bench
