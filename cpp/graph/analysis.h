// Entry point of graph analysis: decoded model + options -> per-node costs, totals and memory.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "graph/ops/attrs.h"
#include "onnx/ir.h"

namespace netscore::graph {

class LayerObserver;

struct Options {
  // Shapes for graph inputs by name; they override the dims stored in the model.
  std::vector<std::pair<std::string, std::vector<int64_t>>> input_shapes;
  // Value for a symbolic leading (batch) dim of a graph input not named in input_shapes.
  int64_t batch_size = 1;
  // false: compute totals, memory and the unsupported/unknown lists only; Profile::layers stays empty
  // (bulk profiling keeps totals, and building one row per node is most of the walk's allocations).
  bool want_layers = true;
  // Values of graph inputs by name (scalars or small 1-D lists), for conditions that depend on an input's
  // value rather than its shape (silero-vad picks its If branch from the sample rate `sr`). The input stays
  // a computed (non-constant) value whose data is known.
  std::vector<std::pair<std::string, std::vector<double>>> input_values;
  // With want_layers false: shown every top-level layer as the walk counts it (see LayerObserver).
  LayerObserver* observer = nullptr;
  // Read the stored weights: initializers holding the same elements (the same bytes, or the same elements
  // in another order: a transposed copy) count as one weight, and one holding a single value repeated (a
  // zero bias, a mask) is none. Off by default (weights are never read).
  bool dedupe_weights = false;
};

// -1 marks an unknown dim or an unknown count throughout.
struct Layer {
  size_t node_index = 0;                          // index into Model::graph.nodes
  std::string name;
  std::string op_type;
  std::string domain;
  std::string name_scopes;                        // the node's "pkg.torch.onnx.name_scopes" metadata, "" if none
  std::vector<std::vector<int64_t>> input_shapes; // one per node input; empty vector for an omitted input
  std::vector<std::vector<int64_t>> output_shapes;
  std::vector<int8_t> input_ranks;                // per input / output: 1 rank known (an empty shape is a
  std::vector<int8_t> output_ranks;               // scalar), 0 rank unknown, -1 omitted (optional, "")
  std::vector<int32_t> output_dtypes;
  bool supported = true;                          // op type known to the registry
  bool folded = false;                            // all inputs constant: evaluated ahead of time (its costs count)
  int64_t params = 0;                             // elements of constant weights first read by this node
  int64_t weight_bytes = 0;
  int64_t macs = 0;                               // -1 unknown
  int64_t flops = 0;                              // -1 unknown
  int64_t activation_bytes = 0;                   // bytes of the node's non-constant outputs; -1 unknown
};

// Sees the layers of a walk without layer rows (Options::want_layers false), for callers that need more than
// the totals but not the rows (device-model features): one call per top-level node, in the walk's order,
// with the walker's scratch row: counts, flags, op type, domain, input and output shapes and output dtypes
// filled, no name (nor ranks); valid during the call only. The layers of If / Loop / Scan subgraphs and of
// inlined model-local functions are not shown one by one (a node of a function shows under its node_index,
// the call node's): callers that need them analyse with layer rows.
class LayerObserver {
 public:
  virtual ~LayerObserver() = default;
  virtual void on_layer(const Layer& layer) = 0;
};

struct UnsupportedOp {
  std::string op_type;                            // "domain::Op" for non-default domains
  std::vector<std::string> node_names;
};

// A graph input left with an unknown dim (a symbol no override or batch size bound) or an unknown rank.
struct OpenInput {
  std::string name;
  bool rank_known = false;
  std::vector<int64_t> dims;                      // -1 unknown
  std::vector<std::string> symbols;               // per dim: the model's symbol ("seq_len"), "" none
};

// An If, Loop or Scan counted as a bound, not exactly (docs/counting.md, "Control flow").
struct BoundNode {
  std::string node;                               // layer name of the If / Loop / Scan
  std::string reason;                             // why, e.g. "condition depends on input 'sr'"
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
  // Per layer row (want_layers only): activation bytes alive while its node runs, graph inputs and outputs
  // included (its outputs and every earlier activation still to be read); rows of a subgraph take the value
  // of their If/Loop/Scan node. The maximum is peak_activation_bytes.
  std::vector<int64_t> live_bytes;
  std::vector<UnsupportedOp> unsupported_ops;
  std::vector<std::string> unknown_cost_nodes;    // names of nodes whose cost could not be determined
  std::vector<OpenInput> open_inputs;             // graph inputs with an unknown dim (for hints)
  // If with a condition unknown at analysis time (the more expensive branch is counted), Loop that may stop
  // before its trip count: the totals are at most the true cost.
  std::vector<BoundNode> upper_bound_nodes;
  // Loop / Scan with a trip count unknown at analysis time (one iteration is counted): at least the true cost.
  std::vector<BoundNode> lower_bound_nodes;
};

// Analyse a decoded model. Throws ModelError (cycle, contradiction, missing input, ...) naming the node.
Profile analyze(const onnx::Model& model, const Options& options);

// Decode + analyse in one call; error messages are prefixed with `source_name`.
Profile profile_bytes(const uint8_t* data, size_t size, const std::string& source_name, const Options& options);
Profile profile_file(const std::string& path, const Options& options);

// ---- Analysed nodes: the one reading of a model that timing (cpp/measure) consumes --------------------------
// An activation that inference runtimes run in a conv / GEMM epilogue, or on its own.
struct ActivationAttrs {
  enum class Kind : uint8_t { relu, sigmoid, hardswish, gelu, clip };
  Kind kind = Kind::relu;
  float lo = -std::numeric_limits<float>::infinity();  // Clip bounds (attributes before opset 11, constant
  float hi = std::numeric_limits<float>::infinity();   // inputs after)
};

// ReduceMean's axes: the attribute, or the constant second input (opset 18); empty when not known.
struct ReduceAttrs {
  std::vector<int64_t> axes;
};

// Typed attributes of a node, for the ops timing maps to kernels; std::monostate for the others (and for a
// Gelu with tanh approximation or a Clip whose bounds are not constants: no kernel activation matches them).
using NodeAttrs = std::variant<std::monostate, ConvAttrs, PoolAttrs, GemmAttrs, ActivationAttrs, ReduceAttrs>;

// Nodes that inference runtimes (ONNX Runtime, TFLite, OpenVINO) fold or fuse into the conv / GEMM before them,
// as indices into Profile::layers (-1: none), in chain order; each link is the sole consumer of the previous
// one's output and not a graph output.
struct Fusion {
  long batch_norm = -1;    // Conv: BatchNormalization folded into the weights
  long residual_add = -1;  // Conv: two-input Add / Sum of same-shaped operands, the other computed earlier
  long bias_add = -1;      // MatMul (2-D weight): Add of a bias vector with N parameters (= Gemm)
  long activation = -1;    // Conv, Gemm, MatMul: a following activation (ActivationAttrs)
};

// The kind of kernel a runtime runs a layer with, for device models (docs/counting.md, "Op classes"):
// convolutions by their weight (depthwise: one input channel per group and as many groups as input
// channels; pointwise: 1x1 kernel, one group; grouped: any other group > 1), GEMM (Gemm, MatMul), pooling
// (and reductions), elementwise (activations, arithmetic, normalisations), data movement (reshapes, copies,
// gathers), and everything else.
enum class OpClass : uint8_t {
  conv_dense, conv_depthwise, conv_pointwise, conv_grouped, gemm, pool, elementwise, data_movement, other
};
constexpr int kNumOpClasses = 9;
const char* op_class_name(OpClass c);  // "conv_dense", ... as in the enum
// The class of `layer`; `node` is its node (the call node for a layer of an inlined function), or null.
// analysed_nodes() sets AnalysedNode::op_class with it; callers that need the class alone use it directly.
OpClass op_class(const Layer& layer, const onnx::Node* node, int64_t opset);

// One analysed layer with its node, typed attributes and fusion decisions.
struct AnalysedNode {
  const Layer* layer = nullptr;      // the counted row: name, op type, shapes, params, folded, supported
  const onnx::Node* node = nullptr;  // Model::graph.nodes[layer->node_index] (the call node of an inlined function)
  bool default_domain = true;        // node's domain is "" or "ai.onnx"
  NodeAttrs attrs;
  Fusion fusion;                     // Conv, Gemm, and MatMul with a 2-D second input only
  OpClass op_class = OpClass::other;
};

// The analysed layers of `profile` (analysed with want_layers) in its order, each with the same attribute
// parsers the shape and cost rules use. The result points into `model` and `profile`.
std::vector<AnalysedNode> analysed_nodes(const onnx::Model& model, const Profile& profile);

// "1x64x56x56" ("?" for an unknown dim, "scalar" for rank 0): how layer shapes are shown.
std::string dims_text(const std::vector<int64_t>& dims);

}  // namespace netscore::graph
