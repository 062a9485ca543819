// The graph walker's class, shared by its parts: walker.cpp (the walk), walk_inputs.cpp (graph inputs,
// value_info), control_flow_walk.cpp (If / Loop / Scan subgraphs). Internal: not part of any public API.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "graph/analysis.h"
#include "graph/inline_functions.h"
#include "graph/name_map.h"
#include "graph/op_registry.h"
#include "graph/ops/shape_util.h"
#include "graph/params.h"
#include "graph/walk_util.h"
#include "netscore/errors.h"
#include "onnx/ir.h"

namespace netscore::graph::walk {

// Values are kept for integer tensors the decoder decoded and for floating-point tensors up to this size:
// shape arithmetic never needs the values of a large float weight, and copying them would dominate the walk.
constexpr int64_t kMaxFloatValues = 64;

// Subgraphs nest at most this deep (each level is a walker on the stack).
constexpr int kMaxSubgraphDepth = 32;

inline bool is_control_flow(const onnx::Node& n) {
  return is_default_domain(n.domain) && (n.op_type == "If" || n.op_type == "Loop" || n.op_type == "Scan");
}

// Names a graph reads from its outer scope: read by its nodes (or by their own subgraphs) or listed as
// outputs, and defined by none of its inputs, initializers or nodes. In first-read order.
void free_names(const onnx::Graph& g, std::vector<std::string_view>& out, int depth);

// What a walked subgraph gives the node that holds it.
struct SubgraphResult {
  Profile profile;
  std::vector<Value> outputs;             // the graph's outputs, in order
  std::vector<uint32_t> counted_outer;    // outer constants (ids in the outer walk) whose weights it counted
  std::vector<uint32_t> read_outer;       // every outer value it reads (ids in the outer walk)
};

class Walker {
  struct OpCacheEntry {
    std::string_view domain, op_type;
    const OpDef* def = nullptr;      // nullptr: unsupported (not registered, or a subgraph op)
    bool makes_root = false;         // Constant / ConstantOfShape: roots unless shape-derived (params.h)
    int64_t opset = 0;               // version imported for the domain (by the model, not by a function)
    uint32_t unsupported_row = kNone;  // its row in profile_.unsupported_ops, once a node of it was listed
  };

 public:
  Walker(const onnx::Model& model, const Options& options)
      : model_(model),
        graph_(model.graph),
        options_(options),
        registry_(default_registry()),
        own_index_(model),
        model_index_(own_index_),
        inlined_(model, registry_, model_index_) {}

  // A walker for `graph`, a subgraph of a node `parent` is walking; `formals` bind the graph's inputs
  // (nullptr, or fewer: taken from the graph's declarations).
  Walker(Walker& parent, const onnx::Graph& graph, std::vector<Value> formals)
      : model_(parent.model_),
        graph_(graph),
        options_(parent.options_),
        registry_(parent.registry_),
        own_index_(parent.model_),
        model_index_(parent.model_index_),
        inlined_(parent.model_, parent.registry_, model_index_),
        parent_(&parent),
        depth_(parent.depth_ + 1),
        formals_(std::move(formals)),
        values_(owned_values_) {
    if (depth_ > kMaxSubgraphDepth) throw ModelError("subgraphs nest deeper than " + std::to_string(kMaxSubgraphDepth));
  }

  static constexpr size_t kMaxKeptValues = 1 << 16;

  static std::vector<Value>& thread_values() {
    thread_local std::vector<Value> values;
    return values;
  }

  // Empty the value while keeping its buffers' capacity.
  static void reset_value(Value& v) {
    v.dtype = 0;
    v.rank_known = false;
    v.dims.clear();
    v.is_const = false;
    v.values_known = false;
    v.ints.clear();
    v.floats.clear();
  }

  Profile run();

  SubgraphResult run_subgraph();

 private:
  const std::vector<onnx::Node>& nodes() const { return inlined_.nodes(); }

  // ---- value table ---------------------------------------------------------------------------------
  // A new value named `name`; kNone (and nothing added) when the name is already taken.
  uint32_t add_value(std::string_view name) {
    const uint32_t id = static_cast<uint32_t>(num_values_);
    if (!index_.insert(name, id)) return kNone;
    if (num_values_ == values_.size()) values_.emplace_back();
    else reset_value(values_[num_values_]);
    ++num_values_;  // producer_ and params_ were sized for every value index_values adds
    return id;
  }

  void index_values();
  // Input value ids per node, flattened (output ids come from index_values); a missing input is an error.
  void resolve_node_edges();
  // The walk's order. A control-flow node also reads what its subgraphs read from this graph: it comes after
  // those values' producers too.
  void order_nodes();

  // ---- graph inputs, symbolic dims --------------------------------------------------------------------
  int64_t resolve_dim(const onnx::Dim& d) const {
    if (d.value >= 0) return d.value;
    if (!d.param.empty()) {
      auto it = symbols_.find(d.param);
      if (it != symbols_.end()) return it->second;
    }
    return -1;
  }

  void bind_inputs();
  // A subgraph's inputs: the values its node passes (Loop / Scan), else the graph's declarations.
  void bind_formals();
  // options.input_values: known data of (non-constant) graph inputs.
  void bind_input_values();
  void index_value_info();

  // Fill what inference left unknown (rank, dims, dtype) from value_info / graph outputs.
  void fill_from_value_info(std::string_view name, Value& v) const {
    if (v.dtype != 0 && v.shape_known()) return;  // nothing left to fill: the usual case, checked inline
    fill_unknown_from_value_info(name, v);
  }
  void fill_unknown_from_value_info(std::string_view name, Value& v) const;

  // What the walk needs to know of a node's op type, looked up once per distinct (domain, op type) ("ai.onnx"
  // as ""): its position in op_cache_. Raises nothing: an opset <= 0 (domain not imported) is raised by
  // the walk at the first node of the type it reaches.
  uint32_t find_op(const onnx::Node& n);
  // Every node's op_cache_ position (node_ops_), before the walk, in one loop that does nothing else and
  // prefetches a few nodes ahead: with a million distinct types or domains each look-up is a cache miss,
  // and the misses of a tight loop overlap.
  void resolve_ops();

  // ---- the walk --------------------------------------------------------------------------------------
  int64_t opset_for(const onnx::Node& n, size_t index);
  // Without layer rows only the scratch row's name (when a list needed it) and counts were set: clear those,
  // keeping the name's buffer.
  static void reset_counts(Layer& layer);
  // The layer's name, built on first use: the node's name, or "<op type>_<node index>" when unnamed.
  static const std::string& set_layer_name(Layer& layer, const onnx::Node& n, size_t index);
  // Lists the node (by its layer name) under its op type. A type's row is kept in its op_cache_ entry: the
  // label ("domain::Op") is built once per distinct type, so a model of a million distinct types stays
  // linear. Types merged from subgraphs arrive as labels (mark_unsupported_label).
  void mark_unsupported(const onnx::Node& n, OpCacheEntry& op, const std::string& layer_name);
  void mark_unsupported_label(std::string label, const std::string& layer_name);
  // The row of `label`, added when new. Labels of (domain, op type) keys without a ':' in either part are
  // distinct for distinct keys, so rows of such keys are added without a look-up; the label index is built
  // (over every row so far) when a label that may equal another arrives: from a subgraph, or with a ':'.
  uint32_t unsupported_row(std::string label, bool may_repeat);
  void walk();

  // ---- control flow ----------------------------------------------------------------------------------
  SubgraphResult walk_subgraph(const onnx::Graph& g, std::vector<Value> formals);
  static const onnx::Graph* graph_attr(const onnx::Node& n, std::string_view name);
  static bool known_truth(const Value* v, bool& truth);
  static Value plain(const Value& v);  // shape and type only: not a constant, data unknown
  static Value scalar_of(int32_t dtype);
  // The shapes both branches agree on.
  static Value merge_values(const Value& a, const Value& b);
  // Graph inputs (of the model) behind value `id` whose data is not known, quoted and comma-separated.
  void unknown_inputs_behind(uint32_t id, std::string& names) const;
  mutable std::vector<uint32_t> seen_stamp_;   // unknown_inputs_behind's visited marks (epoch stamps)
  mutable uint32_t seen_epoch_ = 0;
  static void scale_costs(Profile& p, int64_t times);
  // If / Loop / Scan: walks the subgraph(s) into `sub` and sets the node's outputs. false: not handled
  // (a missing subgraph): the node is listed as unsupported.
  bool walk_control_flow(const onnx::Node& n, size_t ni, const std::string& name, const std::vector<const Value*>& ins,
                         const std::vector<Value*>& outs, SubgraphResult& sub);
  // The subgraph's layers and totals join this walk's, after the node that holds it.
  void merge_subgraph(const std::string& node_name, size_t node_index, SubgraphResult& sub);

  // Every dim an op infers must be -1 or within bounds, and the element count must not overflow.
  void validate_outputs(const OpContext& ctx, const std::vector<Value*>& outs) const;
  void finish_memory();

  const onnx::Model& model_;
  const onnx::Graph& graph_;
  const Options& options_;
  const OpRegistry& registry_;
  ModelIndex own_index_;                 // the main walk's; unused by a subgraph's walker
  ModelIndex& model_index_;              // the model's functions and opset imports (the main walk's index)
  InlinedNodes inlined_;  // the nodes walked: the graph's, with model-local function calls expanded

  // The value table lives in a per-thread workspace that the next walk on the thread reuses: its Values
  // keep the capacity of their dims/ints/floats, so steady-state (bulk) profiling allocates far less.
  // Entries [0, num_values_) belong to this walk.
  Walker* parent_ = nullptr;             // the walk of the graph that holds this subgraph
  int depth_ = 0;                        // subgraph nesting
  std::vector<Value> formals_;           // a subgraph's inputs as its node passes them
  std::vector<std::pair<uint32_t, uint32_t>> imports_;  // outer values a subgraph reads: (id here, id in parent_)
  std::vector<Value> owned_values_;      // a subgraph's value table (the per-thread workspace is the main walk's)
  std::vector<Value>& values_ = thread_values();
  size_t num_values_ = 0;
  std::vector<int32_t> producer_;               // node index, -1 for initializers and graph inputs
  ParamCounter params_;
  std::vector<uint32_t> scratch_roots_;  // the roots of a folded node's outputs
  NameMap index_;
  static constexpr size_t kScanOps = 8;   // up to this many types (or nodes) are found by a scan, not an index
  std::vector<uint32_t> node_ops_;        // per node: its position in op_cache_ (empty for a small graph)
  std::vector<OpCacheEntry> op_cache_;   // registry look-ups by (domain, op type), in first-use order
  HashIndex op_cache_index_;              // (domain, op type) -> position in op_cache_
  std::vector<uint32_t> graph_input_ids_;
  std::vector<const onnx::ValueInfo*> graph_input_infos_;
  std::vector<size_t> in_begin_, out_begin_;
  std::vector<uint32_t> in_ids_, out_ids_;
  std::vector<uint32_t> order_;
  std::unordered_map<std::string_view, int64_t> symbols_;
  NameMap info_;
  std::vector<const onnx::ValueInfo*> infos_;
  bool labels_indexed_ = false;           // unsupported_label_index_ holds every row (see unsupported_row)
  HashIndex unsupported_label_index_;     // "domain::Op" label -> row of profile_.unsupported_ops
  std::vector<int64_t> first_use_, last_use_, act_bytes_;
  std::vector<size_t> row_of_step_;  // with layer rows: the row of each step's node (subgraph rows follow it)
  Profile profile_;
};

}  // namespace netscore::graph::walk
