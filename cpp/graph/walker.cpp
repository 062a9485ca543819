// Graph analysis: topological walk with shape inference, constant folding, per-node cost, params and memory.
//
// Counting rules implemented here (the per-op formulas live in the op families and cost.cpp):
// - Order: the model's node order when it is topological, else a stable topological order (Kahn's
//   algorithm, original index as priority). A cycle, a missing input, two producers of one tensor and a
//   node of a domain the model does not import are ModelErrors naming the node and its op type.
// - Constants: initializers (also when a graph input carries the same name: torch's
//   keep_initializers_as_inputs and IR < 4 models list weights as inputs), Constant and ConstantOfShape
//   outputs, and the outputs of every deterministic node whose inputs are all constant ("folded": cost 0,
//   not a compute node, no activation bytes). Shape/Size of a fully known shape fold the same way.
// - Params (constant weights, counted where first read): see params.h.
// - Model-local functions (FunctionProto) the registry does not know are inlined before the walk (see
//   inline_functions.h); their inner layers are named "<call>/<inner>".
// - Unsupported ops (not registered, SequenceMap, or an op that reports a construct it does not handle)
//   are listed by op type with node names, get macs/flops -1 and take output shapes from value_info.
// - Control flow (If, Loop, Scan; docs/counting.md "Control flow"): a subgraph is walked by a child walker
//   that sees the outer scope (outer values keep their shapes, outer weights read inside count once). If
//   walks the branch its known condition takes, else both and counts the more expensive one (an upper
//   bound). Loop and Scan count their body times a trip count known at analysis time, else one iteration
//   (a lower bound). Inner layers follow the control-flow node, named "<node>/<inner node>".
// - Activation bytes: non-constant outputs of compute nodes; -1 when a size is unknown (totals sum the
//   known ones). Peak: see memory.h; graph inputs live from the start, graph outputs to the end,
//   constants are weights (never activations), unknown sizes are skipped.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <exception>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "graph/analysis.h"
#include "graph/inline_functions.h"
#include "graph/memory.h"
#include "graph/name_map.h"
#include "netscore/cancel.h"
#include "graph/op_registry.h"
#include "graph/ops/shape_util.h"
#include "graph/order.h"
#include "graph/params.h"
#include "graph/walk_util.h"
#include "netscore/errors.h"
#include "onnx/decode.h"
#include "onnx/loader.h"

namespace netscore::graph {

namespace {

using namespace walk;

// Values are kept for integer tensors the decoder decoded and for floating-point tensors up to this size:
// shape arithmetic never needs the values of a large float weight, and copying them would dominate the walk.
constexpr int64_t kMaxFloatValues = 64;

// Subgraphs nest at most this deep (each level is a walker on the stack).
constexpr int kMaxSubgraphDepth = 32;

bool is_control_flow(const onnx::Node& n) {
  return is_default_domain(n.domain) && (n.op_type == "If" || n.op_type == "Loop" || n.op_type == "Scan");
}

// Names a graph reads from its outer scope: read by its nodes (or by their own subgraphs) or listed as
// outputs, and defined by none of its inputs, initializers or nodes. In first-read order.
void free_names(const onnx::Graph& g, std::vector<std::string_view>& out, int depth) {
  if (depth > kMaxSubgraphDepth) throw ModelError("subgraphs nest deeper than " + std::to_string(kMaxSubgraphDepth));
  std::unordered_set<std::string_view> defined, seen;
  for (const onnx::Tensor& t : g.initializers) defined.insert(t.name);
  for (const onnx::ValueInfo& in : g.inputs) defined.insert(in.name);
  for (const onnx::Node& n : g.nodes)
    for (std::string_view o : n.outputs) defined.insert(o);
  auto read = [&](std::string_view name) {
    if (!name.empty() && !defined.count(name) && seen.insert(name).second) out.push_back(name);
  };
  std::vector<std::string_view> inner;
  for (const onnx::Node& n : g.nodes) {
    for (std::string_view in : n.inputs) read(in);
    for (const onnx::Attribute& a : n.attributes)
      for (const onnx::Graph& sub : a.graphs) {
        inner.clear();
        free_names(sub, inner, depth + 1);
        for (std::string_view name : inner) read(name);
      }
  }
  for (const onnx::ValueInfo& o : g.outputs) read(o.name);
}

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
    bool makes_root = false;         // Constant / ConstantOfShape: folded outputs are root constants
    int64_t opset = 0;               // version imported for the domain (by the model, not by a function)
  };

 public:
  Walker(const onnx::Model& model, const Options& options)
      : model_(model),
        graph_(model.graph),
        options_(options),
        registry_(default_registry()),
        inlined_(model, registry_) {}

  // A walker for `graph`, a subgraph of a node `parent` is walking; `formals` bind the graph's inputs
  // (nullptr, or fewer: taken from the graph's declarations).
  Walker(Walker& parent, const onnx::Graph& graph, std::vector<Value> formals)
      : model_(parent.model_),
        graph_(graph),
        options_(parent.options_),
        registry_(parent.registry_),
        inlined_(parent.model_, parent.registry_),
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

  Profile run() {
    if (options_.batch_size < 1) throw ModelError("batch_size must be >= 1");
    struct TrimWorkspace {  // after a very large model, give its memory back instead of keeping it per thread
      std::vector<Value>& values;
      ~TrimWorkspace() {
        if (values.size() > kMaxKeptValues) std::vector<Value>().swap(values);
      }
    } trim{values_};
    inlined_.build();
    check_cancelled();   // Ctrl-C: each phase is linear in the nodes; the long loops check per node too
    index_values();
    resolve_node_edges();
    check_cancelled();
    order_nodes();
    bind_inputs();
    bind_input_values();
    index_value_info();
    walk();
    check_cancelled();
    finish_memory();
    return std::move(profile_);
  }

  SubgraphResult run_subgraph() {
    inlined_.build(graph_);
    index_values();
    resolve_node_edges();
    order_nodes();
    index_value_info();
    bind_formals();
    walk();
    finish_memory();
    SubgraphResult r;
    r.outputs.reserve(graph_.outputs.size());
    for (const onnx::ValueInfo& o : graph_.outputs) r.outputs.push_back(values_[index_.find(o.name)]);  // checked by finish_memory
    for (const auto& [id, outer] : imports_) {
      r.read_outer.push_back(outer);
      if (params_.counted(id)) r.counted_outer.push_back(outer);
    }
    r.profile = std::move(profile_);
    return r;
  }

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

  void index_values() {
    size_t total_outputs = 0;
    for (const onnx::Node& n : nodes()) total_outputs += n.outputs.size();
    std::vector<std::string_view> outer;  // a subgraph's reads of the outer scope
    if (parent_) free_names(graph_, outer, depth_);
    const size_t cap = graph_.initializers.size() + graph_.inputs.size() + total_outputs + outer.size();
    values_.reserve(cap);
    producer_.assign(cap, -1);
    params_.reserve(cap, graph_.initializers.size() + nodes().size());
    index_.reserve(cap);

    for (const onnx::Tensor& t : graph_.initializers) {
      if (t.name.empty()) throw ModelError("an initializer has no name");
      const uint32_t id = add_value(t.name);
      if (id == kNone) throw ModelError("initializer '" + std::string(t.name) + "' is defined twice");
      Value& v = values_[id];
      v.dtype = t.data_type;
      v.rank_known = true;
      if (t.dims.size() > static_cast<size_t>(kMaxRank))
        throw ModelError("initializer '" + std::string(t.name) + "' has rank " + std::to_string(t.dims.size()) +
                         ", above the limit of " + std::to_string(kMaxRank) + " dims");
      v.dims.assign(t.dims.begin(), t.dims.end());
      int64_t numel = 1;  // product(), in the same pass as the bounds check (every dim is >= 0 here)
      for (int64_t d : v.dims) {
        if (d < 0 || d > kMaxDim)
          throw ModelError("initializer '" + std::string(t.name) + "' has an invalid dim " + std::to_string(d));
        numel = mul_sat(numel, d);
      }
      if (numel == std::numeric_limits<int64_t>::max())
        throw ModelError("initializer '" + std::string(t.name) + "' has too many elements");
      v.is_const = true;
      if (t.values_known && (onnx::is_integer_type(t.data_type) || numel <= kMaxFloatValues)) {
        v.values_known = true;
        v.ints = t.ints;
        v.floats = t.floats;
      }
      params_.set_roots(id, &id, 1);
    }
    for (const onnx::ValueInfo& in : graph_.inputs) {
      if (in.name.empty()) throw ModelError("a graph input has no name");
      const uint32_t existing = index_.find(in.name);
      if (existing != kNone) {
        if (producer_[existing] == -1 && values_[existing].is_const) continue;  // initializer listed as input
        throw ModelError("graph input '" + std::string(in.name) + "' is listed twice");
      }
      const uint32_t id = add_value(in.name);
      graph_input_ids_.push_back(id);
      graph_input_infos_.push_back(&in);
    }
    out_ids_.clear();  // node outputs' ids, flattened in node order (kNone for an omitted output)
    out_ids_.reserve(total_outputs);
    for (size_t ni = 0; ni < nodes().size(); ++ni) {
      check_cancelled();
      const onnx::Node& n = nodes()[ni];
      for (std::string_view out : n.outputs) {
        if (out.empty()) {
          out_ids_.push_back(kNone);
          continue;
        }
        const uint32_t id = add_value(out);
        out_ids_.push_back(id);
        if (id == kNone) {
          const int32_t other = producer_[index_.find(out)];
          if (other >= 0)
            node_error(n, ni, "output '" + std::string(out) + "' is also produced by " +
                                  node_label(nodes()[static_cast<size_t>(other)], static_cast<size_t>(other)));
          node_error(n, ni, "output '" + std::string(out) + "' is also an initializer or graph input");
        }
        producer_[id] = static_cast<int32_t>(ni);
      }
    }
    // Outer values a subgraph reads: copied in with what the outer walk knows of them; an outer constant is
    // a root here, counted once across both walks (see ParamCounter::roots_counted).
    for (std::string_view name : outer) {
      const uint32_t from = parent_->index_.find(name);
      if (from == kNone) continue;  // left to resolve_node_edges' "not produced" error
      const uint32_t id = add_value(name);
      if (id == kNone) continue;
      values_[id] = parent_->values_[from];
      imports_.emplace_back(id, from);
      if (values_[id].is_const) params_.set_roots(id, &id, 1);
    }
  }

  // Input value ids per node, flattened (output ids come from index_values); a missing input is an error.
  void resolve_node_edges() {
    const size_t nn = nodes().size();
    in_begin_.resize(nn + 1);
    out_begin_.resize(nn + 1);
    size_t ni_total = 0, no_total = 0;
    for (size_t i = 0; i < nn; ++i) {
      in_begin_[i] = ni_total;
      out_begin_[i] = no_total;
      ni_total += nodes()[i].inputs.size();
      no_total += nodes()[i].outputs.size();
    }
    in_begin_[nn] = ni_total;
    out_begin_[nn] = no_total;
    in_ids_.resize(ni_total);  // out_ids_ was filled by index_values()
    for (size_t i = 0; i < nn; ++i) {
      check_cancelled();
      const onnx::Node& n = nodes()[i];
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        std::string_view name = n.inputs[k];
        uint32_t id = kNone;
        if (!name.empty()) {
          id = index_.find(name);
          if (id == kNone)
            node_error(n, i, "input '" + std::string(name) +
                                 "' is not produced by any node, initializer or graph input");
        }
        in_ids_[in_begin_[i] + k] = id;
      }
    }
  }

  // The walk's order. A control-flow node also reads what its subgraphs read from this graph: it comes after
  // those values' producers too.
  void order_nodes() {
    const size_t nn = nodes().size();
    bool any = false;
    for (size_t i = 0; i < nn && !any; ++i) any = is_control_flow(nodes()[i]);
    if (!any) return topological_order(nodes(), in_begin_, in_ids_, producer_, order_);
    std::vector<size_t> begin(nn + 1);
    std::vector<uint32_t> ids;
    ids.reserve(in_ids_.size());
    std::vector<std::string_view> outer;
    for (size_t i = 0; i < nn; ++i) {
      begin[i] = ids.size();
      ids.insert(ids.end(), in_ids_.begin() + static_cast<long>(in_begin_[i]), in_ids_.begin() + static_cast<long>(in_begin_[i + 1]));
      if (!is_control_flow(nodes()[i])) continue;
      for (const onnx::Attribute& a : nodes()[i].attributes)
        for (const onnx::Graph& g : a.graphs) {
          outer.clear();
          free_names(g, outer, depth_ + 1);
          for (std::string_view name : outer)
            if (const uint32_t id = index_.find(name); id != kNone) ids.push_back(id);
        }
    }
    begin[nn] = ids.size();
    topological_order(nodes(), begin, ids, producer_, order_);
  }

  // ---- graph inputs, symbolic dims --------------------------------------------------------------------
  int64_t resolve_dim(const onnx::Dim& d) const {
    if (d.value >= 0) return d.value;
    if (!d.param.empty()) {
      auto it = symbols_.find(d.param);
      if (it != symbols_.end()) return it->second;
    }
    return -1;
  }

  void bind_inputs() {
    const size_t ni = graph_input_ids_.size();
    std::vector<const std::vector<int64_t>*> override_of(ni, nullptr);
    for (const auto& [name, shape] : options_.input_shapes) {
      size_t k = 0;
      while (k < ni && graph_input_infos_[k]->name != name) ++k;
      if (k == ni) {
        std::string names;
        for (size_t j = 0; j < ni; ++j) {
          if (j) names += ", ";
          names += graph_input_infos_[j]->name;
        }
        throw ModelError("input_shapes names '" + name + "', which is not a graph input (inputs: " +
                         (names.empty() ? std::string("none") : names) + ")");
      }
      const onnx::ValueInfo& vi = *graph_input_infos_[k];
      if (vi.has_shape && vi.dims.size() != shape.size())
        throw ModelError("input_shapes gives '" + name + "' rank " + std::to_string(shape.size()) +
                         " but the model declares rank " + std::to_string(vi.dims.size()));
      for (int64_t d : shape)
        if (d < 0 || d > kMaxDim)
          throw ModelError("input_shapes gives '" + name + "' an invalid dim " + std::to_string(d));
      override_of[k] = &shape;
      if (vi.has_shape)
        for (size_t a = 0; a < shape.size(); ++a)
          if (!vi.dims[a].param.empty()) symbols_.emplace(vi.dims[a].param, shape[a]);
    }
    // A symbolic or unknown leading dim takes the batch size (a symbol already bound by an override wins).
    for (size_t k = 0; k < ni; ++k) {
      const onnx::ValueInfo& vi = *graph_input_infos_[k];
      if (override_of[k] || !vi.has_shape || vi.dims.empty() || vi.dims[0].value >= 0) continue;
      if (!vi.dims[0].param.empty()) symbols_.emplace(vi.dims[0].param, options_.batch_size);
    }
    for (size_t k = 0; k < ni; ++k) {
      const onnx::ValueInfo& vi = *graph_input_infos_[k];
      Value& v = values_[graph_input_ids_[k]];
      v.dtype = vi.elem_type;
      if (override_of[k]) {
        v.rank_known = true;
        v.dims = *override_of[k];
      } else if (vi.has_shape) {
        if (vi.dims.size() > static_cast<size_t>(kMaxRank))
          throw ModelError("graph input '" + std::string(vi.name) + "' has rank " + std::to_string(vi.dims.size()) +
                           ", above the limit of " + std::to_string(kMaxRank) + " dims");
        v.rank_known = true;
        v.dims.resize(vi.dims.size());
        for (size_t a = 0; a < vi.dims.size(); ++a) {
          int64_t d = resolve_dim(vi.dims[a]);
          if (a == 0 && d < 0) d = options_.batch_size;
          if (d > kMaxDim) throw ModelError("graph input '" + std::string(vi.name) + "' has an invalid dim");
          v.dims[a] = d;
        }
      }
      if (v.rank_known && product(v.dims) == std::numeric_limits<int64_t>::max())
        throw ModelError("graph input '" + std::string(vi.name) + "' has too many elements");
      if (!v.rank_known || product(v.dims) < 0) {  // an unknown dim left: say which (a hint for the caller)
        OpenInput& open = profile_.open_inputs.emplace_back();
        open.name.assign(vi.name);
        open.rank_known = v.rank_known;
        open.dims = v.dims;
        for (size_t a = 0; a < v.dims.size(); ++a)
          open.symbols.emplace_back(a < vi.dims.size() ? vi.dims[a].param : std::string_view());
      }
    }
  }

  // A subgraph's inputs: the values its node passes (Loop / Scan), else the graph's declarations.
  void bind_formals() {
    for (size_t k = 0; k < graph_input_ids_.size(); ++k) {
      Value& v = values_[graph_input_ids_[k]];
      if (k < formals_.size() && (formals_[k].dtype != 0 || formals_[k].rank_known)) v = formals_[k];
      fill_unknown_from_value_info(graph_input_infos_[k]->name, v);
    }
  }

  // options.input_values: known data of (non-constant) graph inputs.
  void bind_input_values() {
    for (const auto& [name, data] : options_.input_values) {
      size_t k = 0;
      while (k < graph_input_ids_.size() && graph_input_infos_[k]->name != name) ++k;
      if (k == graph_input_ids_.size())
        throw ModelError("input_values names '" + name + "', which is not a graph input");
      Value& v = values_[graph_input_ids_[k]];
      const int64_t n = static_cast<int64_t>(data.size());
      if (n == 0 || n > kMaxFloatValues) throw ModelError("input_values gives '" + name + "' " + std::to_string(n) +
                                                           " values (1 to " + std::to_string(kMaxFloatValues) + ")");
      if (!v.rank_known) {
        v.rank_known = true;
        v.dims.assign(n == 1 ? 0 : 1, n);
      } else if (!v.shape_known()) {
        for (int64_t& d : v.dims)
          if (d < 0) d = v.dims.size() == 1 ? n : 1;
      }
      if (v.numel() != n)
        throw ModelError("input_values gives '" + name + "' " + std::to_string(n) + " values for shape " +
                         dims_text(v.dims));
      v.values_known = true;
      v.ints.clear();
      v.floats.clear();
      if (onnx::is_integer_type(v.dtype)) {
        for (double x : data) v.ints.push_back(static_cast<int64_t>(x));
      } else {
        v.floats = data;
      }
    }
  }

  void index_value_info() {
    info_.reserve(graph_.value_info.size() + graph_.outputs.size());
    infos_.reserve(graph_.value_info.size() + graph_.outputs.size());
    for (const onnx::ValueInfo& vi : graph_.value_info) {
      infos_.push_back(&vi);
      info_.insert(vi.name, static_cast<uint32_t>(infos_.size() - 1));
    }
    for (const onnx::ValueInfo& vi : graph_.outputs) {  // graph outputs take precedence
      infos_.push_back(&vi);
      info_.insert(vi.name, static_cast<uint32_t>(infos_.size() - 1), true);
    }
  }

  // Fill what inference left unknown (rank, dims, dtype) from value_info / graph outputs.
  void fill_from_value_info(std::string_view name, Value& v) const {
    if (v.dtype != 0 && v.shape_known()) return;  // nothing left to fill: the usual case, checked inline
    fill_unknown_from_value_info(name, v);
  }
  void fill_unknown_from_value_info(std::string_view name, Value& v) const {
    const uint32_t at = info_.find(name);
    if (at == kNone) return;
    const onnx::ValueInfo& vi = *infos_[at];
    if (v.dtype == 0) v.dtype = vi.elem_type;
    if (!vi.has_shape || vi.dims.size() > static_cast<size_t>(kMaxRank)) return;  // no use for a hostile rank
    if (!v.rank_known) {
      v.rank_known = true;
      v.dims.assign(vi.dims.size(), -1);
    }
    if (v.dims.size() != vi.dims.size()) return;  // inference knows better than a stale annotation
    for (size_t a = 0; a < v.dims.size(); ++a)
      if (v.dims[a] < 0) {
        const int64_t d = resolve_dim(vi.dims[a]);
        if (d <= kMaxDim) v.dims[a] = d;
      }
  }


  // What the walk needs to know of a node's op type, looked up once per distinct (domain, op type).
  OpCacheEntry find_op(const onnx::Node& n, size_t index) {
    auto it = op_cache_.find({n.domain, n.op_type});
    if (it != op_cache_.end()) return it->second;
    OpCacheEntry e;
    e.domain = n.domain;
    e.op_type = n.op_type;
    e.opset = opset_for(n, index);  // throws for a domain the model does not import
    e.def = is_subgraph_op(n) ? nullptr : registry_.find(n.domain, n.op_type);
    e.makes_root = is_default_domain(n.domain) && (n.op_type == "Constant" || n.op_type == "ConstantOfShape");
    op_cache_.emplace(NamePair{n.domain, n.op_type}, e);
    return e;
  }

  // ---- the walk --------------------------------------------------------------------------------------
  int64_t opset_for(const onnx::Node& n, size_t index) {
    const std::string_view domain = is_default_domain(n.domain) ? std::string_view() : n.domain;
    const onnx::Function* fn = inlined_.node_function().empty() ? nullptr : inlined_.node_function()[index];
    if (fn) {  // a node inlined from a function body: the function's own opset imports come first
      for (const onnx::OpsetId& o : fn->opsets)
        if ((is_default_domain(o.domain) ? std::string_view() : o.domain) == domain && o.version > 0) return o.version;
    }
    if (opset_cache_.empty())  // the highest version imported per domain, as Model::opset, in one pass
      for (const onnx::OpsetId& o : model_.opsets) {
        int64_t& best = opset_cache_[is_default_domain(o.domain) ? std::string_view() : o.domain];
        best = std::max(best, o.version);
      }
    const auto it = opset_cache_.find(domain);
    int64_t v = it == opset_cache_.end() ? 0 : it->second;
    if (v <= 0 && domain.empty() && model_.opsets.empty()) v = 1;  // IR < 3 models predate opset_import
    if (v <= 0) node_error(n, index, "its domain '" + std::string(n.domain) + "' is not imported by the model");
    return v;
  }

  // Without layer rows only the scratch row's name (when a list needed it) and counts were set: clear those,
  // keeping the name's buffer.
  static void reset_counts(Layer& layer) {
    layer.name.clear();
    layer.supported = true;
    layer.folded = false;
    layer.params = layer.weight_bytes = layer.macs = layer.flops = layer.activation_bytes = 0;
  }

  // The layer's name, built on first use: the node's name, or "<op type>_<node index>" when unnamed.
  static const std::string& set_layer_name(Layer& layer, const onnx::Node& n, size_t index) {
    if (!layer.name.empty()) return layer.name;
    if (n.name.empty()) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, index).ptr;
      layer.name.reserve(n.op_type.size() + 1 + static_cast<size_t>(end - digits));
      layer.name.append(n.op_type).append(1, '_').append(digits, end);
    } else {
      layer.name.assign(n.name);
    }
    return layer.name;
  }

  // Unsupported op types of the walked nodes are keyed by views into the model (the label's parts, "ai.onnx"
  // as ""): one hash of two views per node, and the label is built once per distinct type, so a model of a
  // million distinct types stays linear. Types merged from subgraphs arrive as labels; both maps lead to the
  // same rows.
  void mark_unsupported(const onnx::Node& n, const std::string& layer_name) {
    const NamePair key{is_default_domain(n.domain) ? std::string_view() : n.domain, n.op_type};
    auto it = unsupported_index_.find(key);
    if (it != unsupported_index_.end()) {
      profile_.unsupported_ops[it->second].node_names.push_back(layer_name);
      return;
    }
    const size_t row = mark_unsupported(op_label(n), layer_name);
    unsupported_index_.emplace(key, row);
  }
  size_t mark_unsupported(std::string label, const std::string& layer_name) {
    auto it = unsupported_label_index_.find(label);
    if (it != unsupported_label_index_.end()) {
      profile_.unsupported_ops[it->second].node_names.push_back(layer_name);
      return it->second;
    }
    const size_t row = profile_.unsupported_ops.size();
    unsupported_label_index_.emplace(label, row);
    profile_.unsupported_ops.push_back(UnsupportedOp{std::move(label), {layer_name}});
    return row;
  }


  void walk() {
    const size_t nn = nodes().size();
    const size_t nv = num_values_;
    params_.start(nv);
    for (const auto& [id, outer] : imports_)  // outer weights the outer walk counted already
      if (values_[id].is_const && parent_->params_.roots_counted(outer)) params_.mark_counted(id);
    last_use_.assign(nv, -1);
    first_use_.assign(nv, -1);
    act_bytes_.assign(nv, -1);
    const bool want_layers = options_.want_layers;
    if (want_layers) profile_.layers.reserve(nn);
    profile_.num_nodes = static_cast<int64_t>(nn);
    Layer scratch_layer;
    SubgraphResult sub;
    std::vector<const Value*> ins;
    std::vector<Value*> outs;
    for (size_t step = 0; step < nn; ++step) {
      check_cancelled();
      const size_t ni = order_[step];
      const onnx::Node& n = nodes()[ni];
      // Without layer rows, one scratch row collects the node's counts; its name is built only when a list
      // (unsupported ops, unknown costs) needs it.
      if (!want_layers) reset_counts(scratch_layer);
      Layer& layer = want_layers ? profile_.layers.emplace_back()  // capacity reserved: the reference stays valid
                                 : scratch_layer;
      layer.node_index = inlined_.origin().empty() ? ni : inlined_.origin()[ni];
      if (want_layers) {
        set_layer_name(layer, n, ni);
        layer.op_type.assign(n.op_type);
        layer.domain.assign(n.domain);
        layer.name_scopes.assign(n.metadata_value("pkg.torch.onnx.name_scopes"));  // module path (torch dynamo)
      }

      const OpCacheEntry op = find_op(n, ni);
      const OpDef* def = op.def;
      // Nodes inlined from a function body take the function's opset imports: looked up per node.
      const int64_t opset = inlined_.node_function().empty() ? op.opset : opset_for(n, ni);
      ins.clear();
      outs.clear();
      bool all_const = true;
      for (size_t k = in_begin_[ni]; k < in_begin_[ni + 1]; ++k) {
        const uint32_t id = in_ids_[k];
        if (id == kNone) {
          ins.push_back(nullptr);
          continue;
        }
        ins.push_back(&values_[id]);
        if (!values_[id].is_const) all_const = false;
      }
      for (size_t k = out_begin_[ni]; k < out_begin_[ni + 1]; ++k) {
        const uint32_t id = out_ids_[k];
        if (id == kNone) {
          outs.push_back(nullptr);
          continue;
        }
        reset_value(values_[id]);
        outs.push_back(&values_[id]);
      }

      OpContext ctx(n, opset, ins, outs, std::string_view(), def);
      const bool control = def == nullptr && is_control_flow(n) && walk_control_flow(n, ni, set_layer_name(layer, n, ni), ins, outs, sub);
      bool supported = def != nullptr || control;
      if (def) {
        try {
          def->infer(ctx);
        } catch (const UnsupportedConstruct&) {
          supported = false;
        } catch (const ModelError&) {
          throw;
        } catch (const std::exception& e) {
          node_error(n, ni, std::string("shape inference failed: ") + e.what());
        }
      }
      bool folded = false;
      if (control) {  // outputs from the subgraph; costs are its layers'
        validate_outputs(ctx, outs);
        for (size_t k = 0; k < outs.size(); ++k)
          if (outs[k]) fill_from_value_info(n.outputs[k], *outs[k]);
      } else if (supported) {
        validate_outputs(ctx, outs);
        bool outputs_const = true, any_output = false;
        for (Value* v : outs)
          if (v) {
            any_output = true;
            if (!v->is_const) outputs_const = false;
          }
        folded = def->deterministic && (all_const || (any_output && outputs_const));
        for (size_t k = 0; k < outs.size(); ++k) {
          if (!outs[k]) continue;
          outs[k]->is_const = folded;
          fill_from_value_info(n.outputs[k], *outs[k]);
        }
      } else {
        for (size_t k = 0; k < outs.size(); ++k) {
          if (!outs[k]) continue;
          reset_value(*outs[k]);
          fill_from_value_info(n.outputs[k], *outs[k]);
        }
        mark_unsupported(n, set_layer_name(layer, n, ni));
      }
      layer.supported = supported;
      layer.folded = folded;

      if (folded) {
        const bool makes_root = op.makes_root;
        scratch_roots_.clear();
        if (!makes_root)
          params_.propagate_roots(def, &in_ids_[in_begin_[ni]], in_begin_[ni + 1] - in_begin_[ni], values_, scratch_roots_);
        for (size_t k = out_begin_[ni]; k < out_begin_[ni + 1]; ++k) {
          const uint32_t id = out_ids_[k];
          if (id == kNone) continue;
          if (makes_root) params_.set_roots(id, &id, 1);
          else params_.set_roots(id, scratch_roots_.data(), scratch_roots_.size());
        }
      } else {
        if (!control)
          params_.count_params(supported ? def : nullptr, &in_ids_[in_begin_[ni]], in_begin_[ni + 1] - in_begin_[ni], values_,
                               layer, profile_.bn_stat_params);
        // costs
        if (control) {
          layer.macs = layer.flops = 0;
        } else if (!supported) {
          layer.macs = layer.flops = -1;
          profile_.unknown_cost_nodes.push_back(set_layer_name(layer, n, ni));
        } else if (def->cost) {
          Cost c;
          try {
            c = def->cost(ctx);
          } catch (const UnsupportedConstruct&) {
            c.known = false;  // a construct the cost function does not handle: list the op as unsupported
            layer.supported = false;
            mark_unsupported(n, set_layer_name(layer, n, ni));
          } catch (const ModelError&) {
            throw;
          } catch (const std::exception& e) {
            node_error(n, ni, std::string("cost failed: ") + e.what());
          }
          if (c.known && c.macs >= 0 && c.flops >= 0) {
            layer.macs = c.macs;
            layer.flops = c.flops;
          } else {
            layer.macs = layer.flops = -1;
            profile_.unknown_cost_nodes.push_back(set_layer_name(layer, n, ni));
          }
        }
        // activations and liveness
        int64_t act = 0;
        for (size_t k = out_begin_[ni]; k < out_begin_[ni + 1]; ++k) {
          const uint32_t id = out_ids_[k];
          if (id == kNone || values_[id].is_const) continue;  // a constant a subgraph gave
          const int64_t b = bytes_of(values_[id].numel(), values_[id].dtype);
          act_bytes_[id] = b;
          first_use_[id] = static_cast<int64_t>(step);
          last_use_[id] = static_cast<int64_t>(step);
          act = (act < 0 || b < 0) ? -1 : add_sat(act, b);
        }
        layer.activation_bytes = act;
        for (size_t k = in_begin_[ni]; k < in_begin_[ni + 1]; ++k) {
          const uint32_t id = in_ids_[k];
          if (id != kNone && !values_[id].is_const) last_use_[id] = static_cast<int64_t>(step);
        }
      }

      if (want_layers) {
        layer.input_shapes.reserve(ins.size());
        for (const Value* v : ins) {
          layer.input_shapes.push_back(v ? v->dims : std::vector<int64_t>());
          layer.input_ranks.push_back(v ? int8_t(v->rank_known) : int8_t(-1));
        }
        layer.output_shapes.reserve(outs.size());
        layer.output_dtypes.reserve(outs.size());
        for (const Value* v : outs) {
          layer.output_shapes.push_back(v ? v->dims : std::vector<int64_t>());
          layer.output_ranks.push_back(v ? int8_t(v->rank_known) : int8_t(-1));
          layer.output_dtypes.push_back(v ? v->dtype : 0);
        }
      }

      profile_.params = add_sat(profile_.params, layer.params);
      profile_.weight_bytes = add_sat(profile_.weight_bytes, layer.weight_bytes);
      if (layer.macs > 0) profile_.macs = add_sat(profile_.macs, layer.macs);
      if (layer.flops > 0) profile_.flops = add_sat(profile_.flops, layer.flops);
      if (layer.activation_bytes > 0) profile_.activation_bytes = add_sat(profile_.activation_bytes, layer.activation_bytes);
      else if (layer.activation_bytes < 0) {
        // still add the outputs whose sizes are known
        for (size_t k = out_begin_[ni]; k < out_begin_[ni + 1]; ++k)
          if (out_ids_[k] != kNone && act_bytes_[out_ids_[k]] > 0)
            profile_.activation_bytes = add_sat(profile_.activation_bytes, act_bytes_[out_ids_[k]]);
      }
      if (control) {  // appends layers: `layer` is not used after this
        for (uint32_t id : sub.read_outer)  // outer activations a subgraph reads live until its node
          if (!values_[id].is_const) last_use_[id] = std::max<int64_t>(last_use_[id], static_cast<int64_t>(step));
        merge_subgraph(std::string(set_layer_name(layer, n, ni)), layer.node_index, sub);
      }
    }
  }

  // ---- control flow ----------------------------------------------------------------------------------
  SubgraphResult walk_subgraph(const onnx::Graph& g, std::vector<Value> formals) {
    Walker child(*this, g, std::move(formals));
    return child.run_subgraph();
  }

  static const onnx::Graph* graph_attr(const onnx::Node& n, std::string_view name) {
    const onnx::Attribute* a = n.attribute(name);
    return a && !a->graphs.empty() ? &a->graphs[0] : nullptr;
  }

  static bool known_truth(const Value* v, bool& truth) {
    if (!v || !v->values_known) return false;
    if (!v->ints.empty()) truth = v->ints[0] != 0;
    else if (!v->floats.empty()) truth = v->floats[0] != 0;
    else return false;
    return true;
  }

  static Value plain(const Value& v) {  // shape and type only: not a constant, data unknown
    Value c;
    c.dtype = v.dtype;
    c.rank_known = v.rank_known;
    c.dims = v.dims;
    return c;
  }

  static Value scalar_of(int32_t dtype) {
    Value c;
    c.dtype = dtype;
    c.rank_known = true;
    return c;
  }

  // The shapes both branches agree on.
  static Value merge_values(const Value& a, const Value& b) {
    Value m;
    m.dtype = a.dtype == b.dtype ? a.dtype : 0;
    if (a.rank_known && b.rank_known && a.dims.size() == b.dims.size()) {
      m.rank_known = true;
      m.dims = a.dims;
      for (size_t i = 0; i < m.dims.size(); ++i)
        if (a.dims[i] != b.dims[i]) m.dims[i] = -1;
    }
    return m;
  }

  // Graph inputs (of the model) behind value `id` whose data is not known, quoted and comma-separated.
  void unknown_inputs_behind(uint32_t id, std::string& names) const {
    std::vector<char> seen(num_values_, 0);
    std::vector<uint32_t> stack{id};
    while (!stack.empty()) {
      const uint32_t v = stack.back();
      stack.pop_back();
      if (v == kNone || v >= num_values_ || seen[v] || values_[v].is_const) continue;
      seen[v] = 1;
      if (producer_[v] >= 0) {
        const size_t p = static_cast<size_t>(producer_[v]);
        for (size_t k = in_begin_[p]; k < in_begin_[p + 1]; ++k) stack.push_back(in_ids_[k]);
        continue;
      }
      for (const auto& [inner, outer] : imports_)
        if (inner == v) parent_->unknown_inputs_behind(outer, names);
      if (parent_ || values_[v].values_known) continue;
      for (size_t k = 0; k < graph_input_ids_.size(); ++k)
        if (graph_input_ids_[k] == v) {
          const std::string quoted = "'" + std::string(graph_input_infos_[k]->name) + "'";
          if (names.find(quoted) != std::string::npos) break;
          if (!names.empty()) names += ", ";
          names += quoted;
        }
    }
  }

  static void scale_costs(Profile& p, int64_t times) {
    if (times == 1) return;
    p.macs = mul_sat(p.macs, times);
    p.flops = mul_sat(p.flops, times);
    for (Layer& l : p.layers) {
      if (l.macs > 0) l.macs = mul_sat(l.macs, times);
      if (l.flops > 0) l.flops = mul_sat(l.flops, times);
    }
  }

  // If / Loop / Scan: walks the subgraph(s) into `sub` and sets the node's outputs. false: not handled
  // (a missing subgraph): the node is listed as unsupported.
  bool walk_control_flow(const onnx::Node& n, size_t ni, const std::string& name, const std::vector<const Value*>& ins,
                         const std::vector<Value*>& outs, SubgraphResult& sub) {
    const int64_t opset = opset_for(n, ni);
    std::vector<Value> results;  // the node's outputs, in order
    if (n.op_type == "If") {
      const onnx::Graph* then_g = graph_attr(n, "then_branch");
      const onnx::Graph* else_g = graph_attr(n, "else_branch");
      if (!then_g || !else_g) return false;
      bool truth = false;
      if (known_truth(ins.empty() ? nullptr : ins[0], truth)) {
        sub = walk_subgraph(truth ? *then_g : *else_g, {});
        results = std::move(sub.outputs);
      } else {
        // A branch that cannot run with these shapes (a contradiction in it) is not the one taken.
        SubgraphResult a, b;
        bool a_ok = true, b_ok = true;
        try {
          a = walk_subgraph(*then_g, {});
        } catch (const ModelError&) {
          a_ok = false;
        }
        try {
          b = walk_subgraph(*else_g, {});
        } catch (const ModelError&) {
          if (!a_ok) throw;
          b_ok = false;
        }
        bool take_b;
        if (a_ok && b_ok) {
          if (a.outputs.size() != b.outputs.size()) node_error(n, ni, "its branches have different numbers of outputs");
          for (size_t k = 0; k < a.outputs.size(); ++k) results.push_back(merge_values(a.outputs[k], b.outputs[k]));
          take_b = b.profile.macs > a.profile.macs || (b.profile.macs == a.profile.macs && b.profile.flops > a.profile.flops);
        } else {
          take_b = b_ok;
          results = std::move(take_b ? b.outputs : a.outputs);
        }
        sub = std::move(take_b ? b : a);
        std::string inputs;
        if (!in_ids_.empty() && in_begin_[ni] < in_begin_[ni + 1]) unknown_inputs_behind(in_ids_[in_begin_[ni]], inputs);
        const std::string counted = a_ok && b_ok ? std::string("the more expensive branch (") + (take_b ? "else" : "then") +
                                                       ") is counted"
                                                 : std::string("the ") + (take_b ? "else" : "then") +
                                                       " branch is counted (the other cannot run with these shapes)";
        profile_.upper_bound_nodes.push_back(
            {name, inputs.empty() ? "condition unknown at analysis time: " + counted
                                  : "condition depends on input " + inputs +
                                        " (unknown at analysis time; give input_values): " + counted});
      }
    } else if (n.op_type == "Loop") {
      const onnx::Graph* body = graph_attr(n, "body");
      if (!body) return false;
      const Value* m = ins.size() > 0 ? ins[0] : nullptr;
      const Value* cond = ins.size() > 1 ? ins[1] : nullptr;
      std::vector<Value> formals;
      formals.push_back(scalar_of(onnx::DataType::kInt64));
      Value c = scalar_of(onnx::DataType::kBool);
      bool cond_true = false;
      if (!cond || (known_truth(cond, cond_true) && cond_true)) {  // the first iteration runs: the body sees true
        c.values_known = true;
        c.ints.assign(1, 1);
      }
      formals.push_back(std::move(c));
      const size_t carried = ins.size() > 2 ? ins.size() - 2 : 0;
      for (size_t k = 0; k < carried; ++k) formals.push_back(ins[2 + k] ? plain(*ins[2 + k]) : Value());
      sub = walk_subgraph(*body, std::move(formals));
      int64_t trips = -1;
      // Exporters write a while loop as M = INT64_MAX (or INT32_MAX) with a condition: no trip count.
      if (m && m->values_known && !m->ints.empty() && m->ints[0] < std::numeric_limits<int32_t>::max())
        trips = std::max<int64_t>(m->ints[0], 0);
      // With the first condition true, a body condition that stays known true keeps the loop to M iterations.
      bool stays_true = false;
      const bool runs_all = (!cond || cond_true) && (sub.outputs.empty() ? false : known_truth(&sub.outputs[0], stays_true)) && stays_true;
      if (trips < 0) {
        profile_.lower_bound_nodes.push_back({name, "trip count unknown at analysis time: one iteration is counted"});
      } else {
        scale_costs(sub.profile, trips);
        if (!runs_all)
          profile_.upper_bound_nodes.push_back({name, "may stop before its trip count of " + std::to_string(trips) +
                                                          " (a condition unknown at analysis time)"});
      }
      for (size_t k = 0; k + 1 < sub.outputs.size() && k < outs.size(); ++k) {
        if (k < carried) {
          results.push_back(plain(sub.outputs[k + 1]));
        } else {  // scan outputs: one slice per iteration, stacked on a new first axis
          Value v = plain(sub.outputs[k + 1]);
          if (v.rank_known) v.dims.insert(v.dims.begin(), trips);
          results.push_back(std::move(v));
        }
      }
    } else if (opset < 9) {  // Scan-8: a leading batch axis on every input, sequence_lens first
      const onnx::Graph* body = graph_attr(n, "body");
      if (!body) return false;
      const int64_t num_scan = n.attribute("num_scan_inputs") ? n.attribute("num_scan_inputs")->i : 0;
      if (ins.empty() || num_scan < 0 || static_cast<size_t>(num_scan) > ins.size() - 1)
        node_error(n, ni, "num_scan_inputs exceeds its inputs");
      const size_t states = ins.size() - 1 - static_cast<size_t>(num_scan);
      int64_t batch = -1, steps = -1;
      std::vector<Value> formals;
      for (size_t k = 1; k < ins.size(); ++k) {
        Value v = ins[k] ? plain(*ins[k]) : Value();
        const size_t drop = k <= states ? 1 : 2;  // batch (and sequence) axes
        if (v.rank_known && v.dims.size() >= drop) {
          if (batch < 0) batch = v.dims[0];
          if (drop == 2 && steps < 0) steps = v.dims[1];
          v.dims.erase(v.dims.begin(), v.dims.begin() + static_cast<long>(drop));
        } else {
          v.rank_known = false;
          v.dims.clear();
        }
        formals.push_back(std::move(v));
      }
      sub = walk_subgraph(*body, std::move(formals));
      const int64_t trips = batch >= 0 && steps >= 0 ? mul_sat(batch, steps) : -1;
      if (trips < 0) profile_.lower_bound_nodes.push_back({name, "sequence length unknown at analysis time: one iteration is counted"});
      else scale_costs(sub.profile, trips);
      for (size_t k = 0; k < sub.outputs.size() && k < outs.size(); ++k) {
        Value v = plain(sub.outputs[k]);
        if (v.rank_known) {
          if (k >= states) v.dims.insert(v.dims.begin(), steps);
          v.dims.insert(v.dims.begin(), batch);
        }
        results.push_back(std::move(v));
      }
    } else {  // Scan
      const onnx::Graph* body = graph_attr(n, "body");
      if (!body) return false;
      const int64_t num_scan = n.attribute("num_scan_inputs") ? n.attribute("num_scan_inputs")->i : 0;
      if (num_scan < 0 || static_cast<size_t>(num_scan) > ins.size()) node_error(n, ni, "num_scan_inputs exceeds its inputs");
      const size_t states = ins.size() - static_cast<size_t>(num_scan);
      std::vector<int64_t> in_axes, out_axes;
      if (const onnx::Attribute* a = n.attribute("scan_input_axes")) in_axes = a->ints;
      if (const onnx::Attribute* a = n.attribute("scan_output_axes")) out_axes = a->ints;
      std::vector<Value> formals;
      for (size_t k = 0; k < states; ++k) formals.push_back(ins[k] ? plain(*ins[k]) : Value());
      int64_t trips = -1;
      bool first = true;
      for (size_t j = 0; j < static_cast<size_t>(num_scan); ++j) {
        const Value* in = ins[states + j];
        Value slice = in ? plain(*in) : Value();
        if (slice.rank_known && !slice.dims.empty()) {
          const int64_t rank = static_cast<int64_t>(slice.dims.size());
          int64_t axis = j < in_axes.size() ? in_axes[j] : 0;
          if (axis < 0) axis += rank;
          if (axis < 0 || axis >= rank) node_error(n, ni, "scan_input_axes is out of range");
          if (first) trips = slice.dims[static_cast<size_t>(axis)];
          slice.dims.erase(slice.dims.begin() + axis);
        } else if (first) {
          slice.rank_known = false;
        }
        first = false;
        formals.push_back(std::move(slice));
      }
      sub = walk_subgraph(*body, std::move(formals));
      if (trips < 0) profile_.lower_bound_nodes.push_back({name, "sequence length unknown at analysis time: one iteration is counted"});
      else scale_costs(sub.profile, trips);
      for (size_t k = 0; k < sub.outputs.size() && k < outs.size(); ++k) {
        Value v = plain(sub.outputs[k]);
        if (k >= states && v.rank_known) {
          const int64_t rank = static_cast<int64_t>(v.dims.size()) + 1;
          const size_t j = k - states;
          int64_t axis = j < out_axes.size() ? out_axes[j] : 0;
          if (axis < 0) axis += rank;
          if (axis < 0 || axis >= rank) node_error(n, ni, "scan_output_axes is out of range");
          v.dims.insert(v.dims.begin() + axis, trips);
        }
        results.push_back(std::move(v));
      }
    }
    for (size_t k = 0; k < outs.size(); ++k)
      if (outs[k]) {
        if (k < results.size()) *outs[k] = std::move(results[k]);
        else reset_value(*outs[k]);
      }
    return true;
  }

  // The subgraph's layers and totals join this walk's, after the node that holds it.
  void merge_subgraph(const std::string& node_name, size_t node_index, SubgraphResult& sub) {
    Profile& p = sub.profile;
    const std::string prefix = node_name + "/";
    profile_.params = add_sat(profile_.params, p.params);
    profile_.bn_stat_params = add_sat(profile_.bn_stat_params, p.bn_stat_params);
    profile_.weight_bytes = add_sat(profile_.weight_bytes, p.weight_bytes);
    profile_.macs = add_sat(profile_.macs, p.macs);
    profile_.flops = add_sat(profile_.flops, p.flops);
    profile_.activation_bytes = add_sat(profile_.activation_bytes, p.activation_bytes);
    profile_.num_nodes = add_sat(profile_.num_nodes, p.num_nodes);
    for (Layer& l : p.layers) {
      l.name.insert(0, prefix);
      l.node_index = node_index;
      profile_.layers.push_back(std::move(l));
    }
    for (UnsupportedOp& u : p.unsupported_ops)
      for (const std::string& inner : u.node_names) mark_unsupported(u.op_type, prefix + inner);
    for (const std::string& inner : p.unknown_cost_nodes) profile_.unknown_cost_nodes.push_back(prefix + inner);
    for (BoundNode& b : p.upper_bound_nodes) profile_.upper_bound_nodes.push_back({prefix + b.node, std::move(b.reason)});
    for (BoundNode& b : p.lower_bound_nodes) profile_.lower_bound_nodes.push_back({prefix + b.node, std::move(b.reason)});
    for (uint32_t id : sub.counted_outer) params_.mark_roots_counted(id);
    sub = SubgraphResult();
  }

  // Every dim an op infers must be -1 or within bounds, and the element count must not overflow.
  void validate_outputs(const OpContext& ctx, const std::vector<Value*>& outs) const {
    for (Value* v : outs) {
      if (!v) continue;
      if (!v->rank_known) {
        v->dims.clear();
        continue;
      }
      if (v->dims.size() > static_cast<size_t>(kMaxRank))
        ctx.fail("inferred output rank " + std::to_string(v->dims.size()) + ", above the limit of " +
                 std::to_string(kMaxRank) + " dims");
      int64_t numel = 1;  // product(), in the same pass as the bounds check
      for (int64_t d : v->dims) {
        if (d < -1 || d > kMaxDim) ctx.fail("inferred an invalid output dim " + std::to_string(d));
        if (numel >= 0) numel = d < 0 ? -1 : mul_sat(numel, d);
      }
      if (numel == std::numeric_limits<int64_t>::max()) ctx.fail("output has too many elements");
      if (v->values_known) {
        const int64_t n = v->numel();
        const size_t have = onnx::is_integer_type(v->dtype) ? v->ints.size() : v->floats.size();
        if (n < 0 || static_cast<size_t>(n) != have) v->values_known = false;  // defensive: never trust a mismatch
      }
    }
  }

  void finish_memory() {
    const int64_t steps = static_cast<int64_t>(nodes().size());
    std::vector<TensorLife> lives;
    lives.reserve(num_values_);
    for (uint32_t id : graph_input_ids_) {
      const int64_t b = bytes_of(values_[id].numel(), values_[id].dtype);
      act_bytes_[id] = b;
      first_use_[id] = 0;
      if (last_use_[id] < 0) last_use_[id] = 0;
    }
    for (const onnx::ValueInfo& o : graph_.outputs) {
      const uint32_t id = index_.find(o.name);
      if (id == kNone) throw ModelError("graph output '" + std::string(o.name) + "' is never produced");
      if (first_use_[id] >= 0) last_use_[id] = std::max<int64_t>(steps - 1, 0);
    }
    for (size_t id = 0; id < num_values_; ++id) {
      if (first_use_[id] < 0 || values_[id].is_const) continue;
      if (act_bytes_[id] < 0) continue;  // size unknown: left out of the peak (its layer shows -1 bytes)
      lives.push_back(TensorLife{act_bytes_[id], first_use_[id], last_use_[id]});
    }
    profile_.peak_activation_bytes = peak_live_bytes(lives, steps);
  }

  const onnx::Model& model_;
  const onnx::Graph& graph_;
  const Options& options_;
  const OpRegistry& registry_;
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
  std::unordered_map<NamePair, OpCacheEntry, NamePairHash> op_cache_;  // registry look-ups by (domain, op type)
  std::vector<uint32_t> graph_input_ids_;
  std::vector<const onnx::ValueInfo*> graph_input_infos_;
  std::vector<size_t> in_begin_, out_begin_;
  std::vector<uint32_t> in_ids_, out_ids_;
  std::vector<uint32_t> order_;
  std::unordered_map<std::string_view, int64_t> symbols_;
  NameMap info_;
  std::vector<const onnx::ValueInfo*> infos_;
  std::unordered_map<std::string_view, int64_t> opset_cache_;   // domain ("" for the default) -> version
  std::unordered_map<NamePair, size_t, NamePairHash> unsupported_index_;  // (domain, op type) -> row
  std::unordered_map<std::string, size_t> unsupported_label_index_;       // "domain::Op" label -> row
  std::vector<int64_t> first_use_, last_use_, act_bytes_;
  Profile profile_;
};

}  // namespace

Profile analyze(const onnx::Model& model, const Options& options) { return Walker(model, options).run(); }

Profile profile_bytes(const uint8_t* data, size_t size, const std::string& source_name, const Options& options) {
  try {
    const onnx::ThreadModel model(data, size);  // this thread's reused Model: no allocations when warm
    return analyze(model.model(), options);
  } catch (const ModelError& e) {
    throw ModelError(source_name + ": " + e.what());
  }
}

Profile profile_file(const std::string& path, const Options& options) {
  onnx::MappedFile file(path);  // its errors already name the path
  Profile profile;
  try {
    profile = profile_bytes(file.data(), file.size(), path, options);
  } catch (...) {
    file.check_unchanged();  // a file that shrank while read explains any error
    throw;
  }
  file.check_unchanged();
  return profile;
}

}  // namespace netscore::graph
