// Entry point of graph analysis: decoded model + options -> per-node costs, totals and memory.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "onnx/ir.h"

namespace netscore::graph {

struct Options {
  // Shapes for graph inputs by name; they override the dims stored in the model.
  std::vector<std::pair<std::string, std::vector<int64_t>>> input_shapes;
  // Value for a symbolic leading (batch) dim of a graph input not named in input_shapes.
  int64_t batch_size = 1;
  // false: compute totals, memory and the unsupported/unknown lists only; Profile::layers stays empty
  // (bulk profiling keeps totals, and building one row per node is most of the walk's allocations).
  bool want_layers = true;
};

// -1 marks an unknown dim or an unknown count throughout.
struct Layer {
  size_t node_index = 0;                          // index into Model::graph.nodes
  std::string name;
  std::string op_type;
  std::string domain;
  std::vector<std::vector<int64_t>> input_shapes; // one per node input; empty vector for an omitted input
  std::vector<std::vector<int64_t>> output_shapes;
  std::vector<int32_t> output_dtypes;
  bool supported = true;                          // op type known to the registry
  bool folded = false;                            // all inputs constant: evaluated ahead of time, costs 0
  int64_t params = 0;                             // elements of constant weights first read by this node
  int64_t weight_bytes = 0;
  int64_t macs = 0;                               // -1 unknown
  int64_t flops = 0;                              // -1 unknown
  int64_t activation_bytes = 0;                   // bytes of the node's non-constant outputs; -1 unknown
};

struct UnsupportedOp {
  std::string op_type;                            // "domain::Op" for non-default domains
  std::vector<std::string> node_names;
};

struct Profile {
  int64_t params = 0;
  int64_t bn_stat_params = 0;                     // BatchNormalization running mean + variance (in params too)
  int64_t macs = 0;                               // sums of known layer values
  int64_t flops = 0;
  int64_t weight_bytes = 0;
  int64_t activation_bytes = 0;                   // all non-constant node outputs
  int64_t peak_activation_bytes = 0;              // max live bytes under the node order, inputs/outputs included
  int64_t num_nodes = 0;                          // nodes analysed (model-local functions inlined)
  std::vector<Layer> layers;                      // execution (topological) order; empty unless want_layers
  std::vector<UnsupportedOp> unsupported_ops;
  std::vector<std::string> unknown_cost_nodes;    // names of nodes whose cost could not be determined
};

// Analyse a decoded model. Throws ModelError (cycle, contradiction, missing input, ...) naming the node.
Profile analyze(const onnx::Model& model, const Options& options);

// Decode + analyse in one call; error messages are prefixed with `source_name`.
Profile profile_bytes(const uint8_t* data, size_t size, const std::string& source_name, const Options& options);
Profile profile_file(const std::string& path, const Options& options);

}  // namespace netscore::graph
