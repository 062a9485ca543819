// Per-op-class sums of the analysed layers and the live part of a graph, for device models.
#include "graph/class_features.h"

#include <string_view>
#include <unordered_map>
#include <algorithm>

#include "graph/walk_util.h"

namespace netscore::graph {

namespace {

bool all_zero(const onnx::Tensor& t) {
  if (!t.values_known || (t.floats.empty() && t.ints.empty())) return false;
  for (double v : t.floats)
    if (v != 0) return false;
  for (int64_t v : t.ints)
    if (v != 0) return false;
  return true;
}

int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    n = mul_sat(n, d);
  }
  return n;
}

// Top-level node indices in execution order (each once), from the layer order.
std::vector<size_t> node_order(const onnx::Model& model, const Profile& profile) {
  std::vector<size_t> order;
  order.reserve(model.graph.nodes.size());
  std::vector<char> seen(model.graph.nodes.size(), 0);
  for (const Layer& l : profile.layers)
    if (l.node_index < seen.size() && !seen[l.node_index]) {
      seen[l.node_index] = 1;
      order.push_back(l.node_index);
    }
  return order;
}

// Facts about every tensor name of the top-level graph, by a dense id (one hash lookup per name).
struct Tensors {
  std::unordered_map<std::string_view, uint32_t> ids;
  std::vector<char> dependent, zero, needed, constant;

  explicit Tensors(const onnx::Graph& g) {
    ids.reserve(2 * g.nodes.size() + g.initializers.size() + g.inputs.size() + 8);
  }
  uint32_t id(std::string_view name) {
    auto [it, added] = ids.emplace(name, uint32_t(ids.size()));
    if (added) {
      dependent.push_back(0), zero.push_back(0), needed.push_back(0), constant.push_back(0);
    }
    return it->second;
  }
  bool any_dependent(const std::vector<std::string_view>& names) {
    for (std::string_view n : names)
      if (!n.empty() && dependent[id(n)]) return true;
    return false;
  }
};

// Marks live nodes (node_live) and constant tensors (t.constant) of the top-level graph.
void analyse_graph(const onnx::Model& model, const Profile& profile, Tensors& t, std::vector<char>& node_live) {
  const onnx::Graph& g = model.graph;
  for (const onnx::Tensor& init : g.initializers) {
    const uint32_t i = t.id(init.name);
    t.constant[i] = 1;
    t.zero[i] = all_zero(init);
  }
  for (const onnx::ValueInfo& v : g.inputs) {
    const uint32_t i = t.id(v.name);
    if (!t.constant[i]) t.dependent[i] = 1;
  }
  for (const Layer& l : profile.layers)   // folded layers' outputs are constants at run time
    if (l.folded && l.node_index < g.nodes.size())
      for (std::string_view out : g.nodes[l.node_index].outputs)
        if (!out.empty()) t.constant[t.id(out)] = 1;

  const std::vector<size_t> order = node_order(model, profile);
  std::vector<char> out_dependent(g.nodes.size(), 0);
  for (size_t ni : order) {
    const onnx::Node& n = g.nodes[ni];
    const std::string_view op = walk::is_default_domain(n.domain) ? n.op_type : std::string_view();
    bool dep = t.any_dependent(n.inputs);
    bool is_zero = false, is_constant = false;
    if (op == "Constant") {
      const onnx::Attribute* v = n.attribute("value");
      is_zero = v && !v->tensors.empty() && all_zero(v->tensors[0]);
      is_constant = true;
    } else if ((op == "Sub" || op == "Xor") && n.inputs.size() == 2 && n.inputs[0] == n.inputs[1]) {
      dep = false, is_zero = true;
    } else if ((op == "Mul" || op == "And") && n.inputs.size() == 2 &&
               ((!n.inputs[0].empty() && t.zero[t.id(n.inputs[0])]) ||
                (!n.inputs[1].empty() && t.zero[t.id(n.inputs[1])]))) {
      dep = false, is_zero = true;
    } else if (op == "Shape" || op == "Size") {
      dep = false;
    } else if (walk::is_subgraph_op(n) || op.substr(0, 6) == "Random" || !walk::is_default_domain(n.domain)) {
      dep = true;  // captured values, randomness, or semantics we do not know
    }
    out_dependent[ni] = dep;
    for (std::string_view out : n.outputs) {
      if (out.empty()) continue;
      const uint32_t i = t.id(out);
      t.dependent[i] = dep;
      t.zero[i] = is_zero;
      if (is_constant) t.constant[i] = 1;
    }
  }
  for (const onnx::ValueInfo& v : g.outputs) t.needed[t.id(v.name)] = 1;
  node_live.assign(g.nodes.size(), 0);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const onnx::Node& n = g.nodes[*it];
    if (!out_dependent[*it]) continue;
    bool feeds = false;
    for (std::string_view out : n.outputs) feeds = feeds || (!out.empty() && t.needed[t.id(out)]);
    if (!feeds || !t.any_dependent(n.inputs)) continue;
    node_live[*it] = 1;
    for (std::string_view in : n.inputs)
      if (!in.empty()) t.needed[t.id(in)] = 1;
  }
}

}  // namespace

std::vector<bool> live_layers(const onnx::Model& model, const Profile& profile) {
  Tensors t(model.graph);
  std::vector<char> node_live;
  analyse_graph(model, profile, t, node_live);
  std::vector<bool> live(profile.layers.size(), false);
  for (size_t i = 0; i < live.size(); ++i) {
    const size_t ni = profile.layers[i].node_index;
    live[i] = ni < node_live.size() && node_live[ni];
  }
  return live;
}

ClassFeatures class_features(const onnx::Model& model, const Profile& profile) {
  const onnx::Graph& g = model.graph;
  const int64_t opset = model.opset("");
  Tensors t(g);
  std::vector<char> node_live;
  analyse_graph(model, profile, t, node_live);
  ClassFeatures f;
  for (const Layer& l : profile.layers) {
    if (l.folded) continue;
    const onnx::Node* node = l.node_index < g.nodes.size() ? &g.nodes[l.node_index] : nullptr;
    const bool own_node = node && node->op_type == l.op_type;  // not a layer of an inlined function
    const int32_t dtype = l.output_dtypes.empty() || l.output_dtypes[0] == 0 ? 1 : l.output_dtypes[0];
    double bytes = double(std::max<int64_t>(0, l.weight_bytes)) + double(std::max<int64_t>(0, l.activation_bytes));
    for (size_t k = 0; k < l.input_shapes.size(); ++k) {
      if (own_node && (k >= node->inputs.size() || node->inputs[k].empty() || t.constant[t.id(node->inputs[k])]))
        continue;
      const int64_t b = walk::bytes_of(numel(l.input_shapes[k]), dtype);
      if (b > 0) bytes += double(b);
    }
    const double macs = double(std::max<int64_t>(0, l.macs)), flops = double(std::max<int64_t>(0, l.flops));
    const auto cls = static_cast<size_t>(op_class(l, node, opset));
    const bool live = node && node_live[l.node_index];
    for (auto* sums : {&f.full, &f.live}) {
      if (sums == &f.live && !live) continue;
      ClassCosts& s = (*sums)[cls];
      s.macs += macs;
      s.flops += flops;
      s.bytes += bytes;
      s.layers += 1;
    }
  }
  return f;
}

}  // namespace netscore::graph
