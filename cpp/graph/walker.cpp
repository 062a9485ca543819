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
#include <exception>
#include <limits>

#include "graph/analysis.h"
#include "graph/memory.h"
#include "graph/order.h"
#include "graph/walker_impl.h"
#include "netscore/cancel.h"
#include "onnx/decode.h"
#include "onnx/loader.h"

namespace netscore::graph {

namespace walk {

Profile Walker::run() {
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

void Walker::index_values() {
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
    params_.import_outer(id, parent_->params_, from, values_[id].is_const);
  }
}

// Input value ids per node, flattened (output ids come from index_values); a missing input is an error.
void Walker::resolve_node_edges() {
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
void Walker::order_nodes() {
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

// What the walk needs to know of a node's op type, looked up once per distinct (domain, op type).
uint32_t Walker::find_op(const onnx::Node& n) {
  const std::string_view domain = is_default_domain(n.domain) ? std::string_view() : n.domain;
  const uint64_t h = pair_hash(domain, n.op_type);
  const auto same = [&](uint32_t i) { return op_cache_[i].op_type == n.op_type && op_cache_[i].domain == domain; };
  if (op_cache_.size() <= kScanOps) {  // a few types (a small subgraph's): no index to allocate
    for (uint32_t i = 0; i < op_cache_.size(); ++i)
      if (same(i)) return i;
  } else if (const uint32_t found = op_cache_index_.find(h, same); found != kNone) {
    return found;
  }
  OpCacheEntry e;  // everything below depends on the domain only as is_default_domain() does
  e.domain = domain;
  e.op_type = n.op_type;
  e.opset = model_index_.opset(domain);  // the highest version imported for the domain, as Model::opset
  if (e.opset <= 0 && domain.empty() && model_.opsets.empty()) e.opset = 1;  // IR < 3 models predate opset_import
  e.def = is_subgraph_op(n) ? nullptr : registry_.find(n.domain, n.op_type);
  e.makes_root = is_default_domain(n.domain) && (n.op_type == "Constant" || n.op_type == "ConstantOfShape");
  const uint32_t id = static_cast<uint32_t>(op_cache_.size());
  op_cache_.push_back(e);
  if (op_cache_.size() == kScanOps + 1) {  // from here on, indexed
    for (uint32_t i = 0; i < op_cache_.size(); ++i)
      op_cache_index_.insert(pair_hash(op_cache_[i].domain, op_cache_[i].op_type), i);
  } else if (op_cache_.size() > kScanOps + 1) {
    op_cache_index_.insert(h, id);
  }
  return id;
}

void Walker::resolve_ops() {
  const std::vector<onnx::Node>& ns = nodes();
  const size_t nn = ns.size();
  if (nn <= kScanOps) return;  // a small (sub)graph: the walk looks its few nodes up itself
  constexpr size_t kAhead = 8;
  node_ops_.resize(nn);
  for (size_t i = 0; i < nn; ++i) {
    if ((i & 1023) == 0) check_cancelled();
    if (i + kAhead < nn) {
      const onnx::Node& next = ns[i + kAhead];
      const std::string_view domain = is_default_domain(next.domain) ? std::string_view() : next.domain;
      op_cache_index_.prefetch(pair_hash(domain, next.op_type));
      model_index_.prefetch_opset(domain);
    }
    node_ops_[i] = find_op(ns[i]);
  }
}

int64_t Walker::opset_for(const onnx::Node& n, size_t index) {
  const std::string_view domain = is_default_domain(n.domain) ? std::string_view() : n.domain;
  const onnx::Function* fn = inlined_.node_function().empty() ? nullptr : inlined_.node_function()[index];
  if (fn) {  // a node inlined from a function body: the function's own opset imports come first
    if (const int64_t v = model_index_.function_opset(*fn, domain); v > 0) return v;
  }
  int64_t v = model_index_.opset(domain);  // the highest version imported for the domain, as Model::opset
  if (v <= 0 && domain.empty() && model_.opsets.empty()) v = 1;  // IR < 3 models predate opset_import
  if (v <= 0) node_error(n, index, "its domain '" + std::string(n.domain) + "' is not imported by the model");
  return v;
}

// Without layer rows only the scratch row's name (when a list needed it) and counts were set: clear those,
// keeping the name's buffer.
void Walker::reset_counts(Layer& layer) {
  layer.name.clear();
  layer.supported = true;
  layer.folded = false;
  layer.params = layer.weight_bytes = layer.macs = layer.flops = layer.activation_bytes = 0;
}

// The layer's name, built on first use: the node's name, or "<op type>_<node index>" when unnamed.
const std::string& Walker::set_layer_name(Layer& layer, const onnx::Node& n, size_t index) {
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

void Walker::mark_unsupported(const onnx::Node& n, OpCacheEntry& op, const std::string& layer_name) {
  if (op.unsupported_row == kNone) {
    const bool may_repeat = n.domain.find(':') != std::string_view::npos || n.op_type.find(':') != std::string_view::npos;
    op.unsupported_row = unsupported_row(op_label(n), may_repeat);
  }
  profile_.unsupported_ops[op.unsupported_row].node_names.push_back(layer_name);
}

void Walker::mark_unsupported_label(std::string label, const std::string& layer_name) {
  const uint32_t row = unsupported_row(std::move(label), true);
  profile_.unsupported_ops[row].node_names.push_back(layer_name);
}

// Rows added without the index have labels "Op" or "domain::Op" with no other ':': "::" occurs at most once,
// so the label gives back its key, and distinct keys (the op cache's) have distinct labels.
uint32_t Walker::unsupported_row(std::string label, bool may_repeat) {
  std::vector<UnsupportedOp>& rows = profile_.unsupported_ops;
  if (may_repeat && !labels_indexed_) {
    labels_indexed_ = true;
    unsupported_label_index_.reserve(rows.size() + 1);
    for (size_t r = 0; r < rows.size(); ++r) unsupported_label_index_.insert(NameMap::hash(rows[r].op_type), static_cast<uint32_t>(r));
  }
  const uint32_t row = static_cast<uint32_t>(rows.size());
  if (labels_indexed_) {
    const uint64_t h = NameMap::hash(label);
    const uint32_t found = unsupported_label_index_.find(h, [&](uint32_t r) { return rows[r].op_type == label; });
    if (found != kNone) return found;
    unsupported_label_index_.insert(h, row);
  }
  rows.push_back(UnsupportedOp{std::move(label), {}});
  return row;
}

void Walker::walk() {
  const size_t nn = nodes().size();
  const size_t nv = num_values_;
  params_.start(nv);
  {
    std::vector<uint32_t> output_ids;
    for (const onnx::ValueInfo& o : graph_.outputs) output_ids.push_back(index_.find(o.name));
    auto find = [this](std::string_view name) { return index_.find(name); };
    params_.find_live_slots(nodes(), order_, in_begin_, in_ids_, out_begin_, out_ids_, output_ids, nv, depth_, find);
    if (options_.dedupe_weights) params_.find_duplicates(graph_.initializers, nodes(), find);
  }
  for (const auto& [id, outer] : imports_)  // outer weights the outer walk counted already
    if (values_[id].is_const && parent_->params_.roots_counted(outer)) params_.mark_counted(id);
  last_use_.assign(nv, -1);
  first_use_.assign(nv, -1);
  act_bytes_.assign(nv, -1);
  const bool want_layers = options_.want_layers;
  if (want_layers) {
    profile_.layers.reserve(nn);
    row_of_step_.assign(nn, 0);
  }
  profile_.num_nodes = static_cast<int64_t>(nn);
  resolve_ops();
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
    else row_of_step_[step] = profile_.layers.size();
    Layer& layer = want_layers ? profile_.layers.emplace_back()  // capacity reserved: the reference stays valid
                               : scratch_layer;
    layer.node_index = inlined_.origin().empty() ? ni : inlined_.origin()[ni];
    if (want_layers) {
      set_layer_name(layer, n, ni);
      layer.op_type.assign(n.op_type);
      layer.domain.assign(n.domain);
      layer.name_scopes.assign(n.metadata_value("pkg.torch.onnx.name_scopes"));  // module path (torch dynamo)
    }

    const uint32_t op_id = node_ops_.empty() ? find_op(n) : node_ops_[ni];
    const OpDef* def = op_cache_[op_id].def;
    // Nodes inlined from a function body take the function's opset imports: looked up per node.
    const int64_t opset = inlined_.node_function().empty() ? op_cache_[op_id].opset : opset_for(n, ni);
    if (opset <= 0) node_error(n, ni, "its domain '" + std::string(n.domain) + "' is not imported by the model");
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
      mark_unsupported(n, op_cache_[op_id], set_layer_name(layer, n, ni));
    }
    layer.supported = supported;
    layer.folded = folded;

    if (folded) {
      params_.fold(def, op_cache_[op_id].makes_root, &in_ids_[in_begin_[ni]], in_begin_[ni + 1] - in_begin_[ni],
                   &out_ids_[out_begin_[ni]], out_begin_[ni + 1] - out_begin_[ni], values_, scratch_roots_,
                   in_begin_[ni]);
    } else {
      if (!control)
        params_.count_params(supported ? def : nullptr, &in_ids_[in_begin_[ni]], in_begin_[ni + 1] - in_begin_[ni], values_,
                             layer, profile_.bn_stat_params, in_begin_[ni]);
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
          mark_unsupported(n, op_cache_[op_id], set_layer_name(layer, n, ni));
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

    LayerObserver* const observer = want_layers || depth_ > 0 ? nullptr : options_.observer;
    if (observer) {  // the scratch row's vectors keep their capacity: no allocation once warm
      layer.op_type.assign(n.op_type);
      layer.domain.assign(n.domain);
      layer.input_shapes.resize(ins.size());
      for (size_t k = 0; k < ins.size(); ++k) {
        if (ins[k]) layer.input_shapes[k].assign(ins[k]->dims.begin(), ins[k]->dims.end());
        else layer.input_shapes[k].clear();
      }
      layer.output_dtypes.clear();
      for (const Value* v : outs) layer.output_dtypes.push_back(v ? v->dtype : 0);
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
    if (observer) observer->on_layer(layer);
    if (control) {  // appends layers: `layer` is not used after this
      for (uint32_t id : sub.read_outer)  // outer activations a subgraph reads live until its node
        if (!values_[id].is_const) last_use_[id] = std::max<int64_t>(last_use_[id], static_cast<int64_t>(step));
      merge_subgraph(std::string(set_layer_name(layer, n, ni)), layer.node_index, sub);
    }
  }
}

// Every dim an op infers must be -1 or within bounds, and the element count must not overflow.
void Walker::validate_outputs(const OpContext& ctx, const std::vector<Value*>& outs) const {
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

void Walker::finish_memory() {
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
  if (!options_.want_layers) {
    profile_.peak_activation_bytes = peak_live_bytes(lives, steps);
    return;
  }
  // With layer rows, the live bytes of each row too: a subgraph's rows share the step of their If/Loop node.
  const std::vector<int64_t> live_at = live_bytes_by_step(lives, steps);
  profile_.peak_activation_bytes = *std::max_element(live_at.begin(), live_at.end());
  profile_.live_bytes.assign(profile_.layers.size(), 0);
  for (size_t s = 0; s < row_of_step_.size(); ++s) {
    const size_t end = s + 1 < row_of_step_.size() ? row_of_step_[s + 1] : profile_.layers.size();
    for (size_t r = row_of_step_[s]; r < end; ++r) profile_.live_bytes[r] = live_at[s];
  }
}

}  // namespace walk

Profile analyze(const onnx::Model& model, const Options& options) { return walk::Walker(model, options).run(); }

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
