// Graph analysis, control flow: If / Loop / Scan subgraphs walked by child walkers that see the outer scope
// (see walker.cpp's counting rules and walker_impl.h).
#include <algorithm>
#include <limits>
#include <string>
#include <unordered_set>

#include "graph/walker_impl.h"
#include "netscore/errors.h"

namespace netscore::graph::walk {

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

SubgraphResult Walker::run_subgraph() {
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

SubgraphResult Walker::walk_subgraph(const onnx::Graph& g, std::vector<Value> formals) {
  Walker child(*this, g, std::move(formals));
  return child.run_subgraph();
}

const onnx::Graph* Walker::graph_attr(const onnx::Node& n, std::string_view name) {
  const onnx::Attribute* a = n.attribute(name);
  return a && !a->graphs.empty() ? &a->graphs[0] : nullptr;
}

bool Walker::known_truth(const Value* v, bool& truth) {
  if (!v || !v->values_known) return false;
  if (!v->ints.empty()) truth = v->ints[0] != 0;
  else if (!v->floats.empty()) truth = v->floats[0] != 0;
  else return false;
  return true;
}

Value Walker::plain(const Value& v) {  // shape and type only: not a constant, data unknown
  Value c;
  c.dtype = v.dtype;
  c.rank_known = v.rank_known;
  c.dims = v.dims;
  return c;
}

Value Walker::scalar_of(int32_t dtype) {
  Value c;
  c.dtype = dtype;
  c.rank_known = true;
  return c;
}

// The shapes both branches agree on.
Value Walker::merge_values(const Value& a, const Value& b) {
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
void Walker::unknown_inputs_behind(uint32_t id, std::string& names) const {
  // Visited marks are epoch stamps kept by the walker: no array of num_values_ zeroed per If (a model of
  // 464k Ifs with unknown conditions spent 15 % of its analysis in that memset).
  if (seen_stamp_.size() < num_values_) seen_stamp_.resize(num_values_, 0);
  if (++seen_epoch_ == 0) std::fill(seen_stamp_.begin(), seen_stamp_.end(), 0), seen_epoch_ = 1;
  std::vector<uint32_t> stack{id};
  while (!stack.empty()) {
    const uint32_t v = stack.back();
    stack.pop_back();
    if (v == kNone || v >= num_values_ || seen_stamp_[v] == seen_epoch_ || values_[v].is_const) continue;
    seen_stamp_[v] = seen_epoch_;
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

void Walker::scale_costs(Profile& p, int64_t times) {
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
bool Walker::walk_control_flow(const onnx::Node& n, size_t ni, const std::string& name, const std::vector<const Value*>& ins,
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
void Walker::merge_subgraph(const std::string& node_name, size_t node_index, SubgraphResult& sub) {
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
    for (const std::string& inner : u.node_names) mark_unsupported_label(u.op_type, prefix + inner);
  for (const std::string& inner : p.unknown_cost_nodes) profile_.unknown_cost_nodes.push_back(prefix + inner);
  for (BoundNode& b : p.upper_bound_nodes) profile_.upper_bound_nodes.push_back({prefix + b.node, std::move(b.reason)});
  for (BoundNode& b : p.lower_bound_nodes) profile_.lower_bound_nodes.push_back({prefix + b.node, std::move(b.reason)});
  for (uint32_t id : sub.counted_outer) params_.mark_roots_counted(id);
  sub = SubgraphResult();
}

}  // namespace netscore::graph::walk
