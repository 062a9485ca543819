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
// - Unsupported ops (not registered, If/Loop/Scan, or an op that reports a construct it does not handle)
//   are listed by op type with node names, get macs/flops -1 and take output shapes from value_info.
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

#include "graph/analysis.h"
#include "graph/inline_functions.h"
#include "graph/memory.h"
#include "graph/name_map.h"
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
    index_values();
    resolve_node_edges();
    topological_order(nodes(), in_begin_, in_ids_, producer_, order_);
    bind_inputs();
    index_value_info();
    walk();
    finish_memory();
    return std::move(profile_);
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
    const size_t cap = graph_.initializers.size() + graph_.inputs.size() + total_outputs;
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

  void mark_unsupported(const onnx::Node& n, const std::string& layer_name) {
    std::string label = op_label(n);
    auto it = unsupported_index_.find(label);
    if (it == unsupported_index_.end()) {
      unsupported_index_.emplace(label, profile_.unsupported_ops.size());
      profile_.unsupported_ops.push_back(UnsupportedOp{std::move(label), {layer_name}});
    } else {
      profile_.unsupported_ops[it->second].node_names.push_back(layer_name);
    }
  }


  void walk() {
    const size_t nn = nodes().size();
    const size_t nv = num_values_;
    params_.start(nv);
    last_use_.assign(nv, -1);
    first_use_.assign(nv, -1);
    act_bytes_.assign(nv, -1);
    const bool want_layers = options_.want_layers;
    if (want_layers) profile_.layers.reserve(nn);
    profile_.num_nodes = static_cast<int64_t>(nn);
    Layer scratch_layer;
    std::vector<const Value*> ins;
    std::vector<Value*> outs;
    for (size_t step = 0; step < nn; ++step) {
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
      bool supported = def != nullptr;
      if (supported) {
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
      if (supported) {
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
        params_.count_params(supported ? def : nullptr, &in_ids_[in_begin_[ni]], in_begin_[ni + 1] - in_begin_[ni], values_, layer,
                             profile_.bn_stat_params);
        // costs
        if (!supported) {
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
          if (id == kNone) continue;
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
        for (const Value* v : ins) layer.input_shapes.push_back(v ? v->dims : std::vector<int64_t>());
        layer.output_shapes.reserve(outs.size());
        layer.output_dtypes.reserve(outs.size());
        for (const Value* v : outs) {
          layer.output_shapes.push_back(v ? v->dims : std::vector<int64_t>());
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
    }
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
  std::unordered_map<std::string, size_t> unsupported_index_;
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
