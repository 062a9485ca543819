// Per-op-class sums of the analysed layers and the live part of a graph, for device models.
#include "graph/class_features.h"

#include <algorithm>
#include <string_view>

#include "graph/walk_util.h"
#include "netscore/errors.h"
#include "onnx/decode.h"

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

}  // namespace

bool ClassFeatureBuilder::needs_layer_rows(const onnx::Model& model) {
  for (const onnx::Node& n : model.graph.nodes)
    if (walk::is_subgraph_op(n)) return true;
  for (const onnx::Function& f : model.functions)
    for (const onnx::Node& n : f.nodes)
      if (walk::is_subgraph_op(n)) return true;
  return false;
}

void ClassFeatureBuilder::reset(const onnx::Model& model) {
  model_ = &model;
  opset_ = model.opset("");
  records_.clear();
  input_bytes_.clear();
  records_.reserve(model.graph.nodes.size());
}

void ClassFeatureBuilder::on_layer(const Layer& l) {
  const onnx::Graph& g = model_->graph;
  Record r;
  r.node_index = l.node_index;
  r.folded = l.folded;
  const onnx::Node* node = l.node_index < g.nodes.size() ? &g.nodes[l.node_index] : nullptr;
  r.own_node = node && node->op_type == l.op_type;  // not a layer of an inlined function
  r.op_class = static_cast<uint8_t>(op_class(l, node, opset_));
  r.macs = double(std::max<int64_t>(0, l.macs));
  r.flops = double(std::max<int64_t>(0, l.flops));
  r.bytes = double(std::max<int64_t>(0, l.weight_bytes)) + double(std::max<int64_t>(0, l.activation_bytes));
  const int32_t dtype = l.output_dtypes.empty() || l.output_dtypes[0] == 0 ? 1 : l.output_dtypes[0];
  r.inputs_begin = static_cast<uint32_t>(input_bytes_.size());
  for (const std::vector<int64_t>& shape : l.input_shapes) {
    const int64_t b = walk::bytes_of(numel(shape), dtype);
    input_bytes_.push_back(b > 0 ? double(b) : 0.0);
  }
  r.inputs_end = static_cast<uint32_t>(input_bytes_.size());
  records_.push_back(r);
}

// Marks live nodes (node_live) and constant tensors of the top-level graph (tensors_). Each node's input and
// output names are looked up once (edges_), the passes then work on ids.
void ClassFeatureBuilder::analyse_graph(std::vector<char>& node_live) {
  const onnx::Graph& g = model_->graph;
  Tensors& t = tensors_;
  t.reset(g);
  for (const onnx::Tensor& init : g.initializers) {
    const uint32_t i = t.id(init.name);
    t.constant[i] = 1;
    t.zero[i] = all_zero(init);
  }
  for (const onnx::ValueInfo& v : g.inputs) {
    const uint32_t i = t.id(v.name);
    if (!t.constant[i]) t.dependent[i] = 1;
  }
  // Top-level node indices in execution order (each once), from the layer order; their edges' ids.
  std::vector<size_t>& order = order_;
  std::vector<uint32_t>& edges = edges_;
  std::vector<uint32_t>& edge_begin = edge_begin_;
  order.clear();
  edges.clear();
  edge_begin.assign(g.nodes.size(), walk::kNone);
  for (const Record& r : records_) {
    if (r.node_index >= g.nodes.size() || edge_begin[r.node_index] != walk::kNone) continue;
    order.push_back(r.node_index);
    edge_begin[r.node_index] = static_cast<uint32_t>(edges.size());
    const onnx::Node& n = g.nodes[r.node_index];
    for (std::string_view in : n.inputs) edges.push_back(in.empty() ? walk::kNone : t.id(in));
    for (std::string_view out : n.outputs) edges.push_back(out.empty() ? walk::kNone : t.id(out));
  }
  for (const Record& r : records_)
    if (r.folded && r.node_index < g.nodes.size()) {  // folded layers' outputs are constants at run time
      const onnx::Node& n = g.nodes[r.node_index];
      const uint32_t* out = &edges[edge_begin[r.node_index] + n.inputs.size()];
      for (size_t k = 0; k < n.outputs.size(); ++k)
        if (out[k] != walk::kNone) t.constant[out[k]] = 1;
    }
  auto any_dependent = [&t](const uint32_t* ids, size_t count) {
    for (size_t k = 0; k < count; ++k)
      if (ids[k] != walk::kNone && t.dependent[ids[k]]) return true;
    return false;
  };
  std::vector<char>& out_dependent = out_dependent_;
  out_dependent.assign(g.nodes.size(), 0);
  for (size_t ni : order) {
    const onnx::Node& n = g.nodes[ni];
    const uint32_t* in = &edges[edge_begin[ni]];
    const uint32_t* out = in + n.inputs.size();
    const std::string_view op = walk::is_default_domain(n.domain) ? n.op_type : std::string_view();
    bool dep = any_dependent(in, n.inputs.size());
    bool is_zero = false, is_constant = false;
    if (op == "Constant") {
      const onnx::Attribute* v = n.attribute("value");
      is_zero = v && !v->tensors.empty() && all_zero(v->tensors[0]);
      is_constant = true;
    } else if ((op == "Sub" || op == "Xor") && n.inputs.size() == 2 && n.inputs[0] == n.inputs[1]) {
      dep = false, is_zero = true;
    } else if ((op == "Mul" || op == "And") && n.inputs.size() == 2 &&
               ((in[0] != walk::kNone && t.zero[in[0]]) || (in[1] != walk::kNone && t.zero[in[1]]))) {
      dep = false, is_zero = true;
    } else if (op == "Shape" || op == "Size") {
      dep = false;
    } else if (walk::is_subgraph_op(n) || op.substr(0, 6) == "Random" || !walk::is_default_domain(n.domain)) {
      dep = true;  // captured values, randomness, or semantics we do not know
    }
    out_dependent[ni] = dep;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      if (out[k] == walk::kNone) continue;
      t.dependent[out[k]] = dep;
      t.zero[out[k]] = is_zero;
      if (is_constant) t.constant[out[k]] = 1;
    }
  }
  for (const onnx::ValueInfo& v : g.outputs) t.needed[t.id(v.name)] = 1;
  node_live.assign(g.nodes.size(), 0);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const onnx::Node& n = g.nodes[*it];
    if (!out_dependent[*it]) continue;
    const uint32_t* in = &edges[edge_begin[*it]];
    const uint32_t* out = in + n.inputs.size();
    bool feeds = false;
    for (size_t k = 0; k < n.outputs.size(); ++k) feeds = feeds || (out[k] != walk::kNone && t.needed[out[k]]);
    if (!feeds || !any_dependent(in, n.inputs.size())) continue;
    node_live[*it] = 1;
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (in[k] != walk::kNone) t.needed[in[k]] = 1;
  }
}

void ClassFeatureBuilder::find_fusions() {
  const onnx::Graph& g = model_->graph;
  const size_t tensors = tensors_.dependent.size();
  readers_.assign(tensors, 0);
  producer_.assign(tensors, walk::kNone);
  conv_result_.assign(tensors, 0);
  graph_output_.assign(tensors, 0);
  fused_.assign(g.nodes.size(), 0);
  for (size_t ni : order_) {
    const onnx::Node& n = g.nodes[ni];
    const uint32_t* in = &edges_[edge_begin_[ni]];
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (in[k] != walk::kNone) ++readers_[in[k]];
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (in[n.inputs.size() + k] != walk::kNone) producer_[in[n.inputs.size() + k]] = static_cast<uint32_t>(ni);
  }
  for (const onnx::ValueInfo& v : g.outputs) {
    const uint32_t i = tensors_.ids.find(v.name);
    if (i != walk::kNone) graph_output_[i] = 1;
  }
  for (size_t ni : order_) {
    const onnx::Node& n = g.nodes[ni];
    if (!walk::is_default_domain(n.domain) || n.inputs.empty() || n.outputs.empty()) continue;
    const uint32_t* in = &edges_[edge_begin_[ni]];
    const uint32_t x = in[0], y = in[n.inputs.size()];
    const std::string_view op = n.op_type;
    if (op == "Conv") {
      if (y != walk::kNone) conv_result_[y] = 1;
      continue;
    }
    if (x == walk::kNone || readers_[x] != 1 || graph_output_[x] || producer_[x] == walk::kNone) continue;
    const onnx::Node& p = g.nodes[producer_[x]];
    const bool after_gemm = walk::is_default_domain(p.domain) && p.op_type == "Gemm";
    if (op == "BatchNormalization" && conv_result_[x]) {
      fused_[ni] = 1;
      if (y != walk::kNone) conv_result_[y] = 1;
    } else if ((op == "Relu" || op == "Clip" || op == "LeakyRelu" || op == "Sigmoid" || op == "HardSigmoid" ||
                op == "HardSwish" || op == "Tanh") && (conv_result_[x] || after_gemm)) {
      fused_[ni] = 1;
    }
  }
}

ClassFeatures ClassFeatureBuilder::finish() {
  const onnx::Graph& g = model_->graph;
  std::vector<char>& node_live = node_live_;
  analyse_graph(node_live);
  find_fusions();
  const Tensors& t = tensors_;
  ClassFeatures f;
  for (const Record& r : records_) {
    if (r.folded) continue;
    const onnx::Node* node = r.node_index < g.nodes.size() ? &g.nodes[r.node_index] : nullptr;
    double bytes = r.bytes;
    const uint32_t* in = node ? &edges_[edge_begin_[r.node_index]] : nullptr;
    for (uint32_t j = r.inputs_begin; j < r.inputs_end; ++j) {
      const size_t k = j - r.inputs_begin;
      if (r.own_node && (k >= node->inputs.size() || in[k] == walk::kNone || t.constant[in[k]])) continue;
      bytes += input_bytes_[j];
    }
    const bool live = node && node_live[r.node_index];
    const bool fused = r.own_node && fused_[r.node_index];
    for (auto* sums : {&f.full, &f.live, &f.fused}) {
      if ((sums == &f.live && !live) || (sums == &f.fused && fused)) continue;
      ClassCosts& s = (*sums)[r.op_class];
      s.macs += r.macs;
      s.flops += r.flops;
      s.bytes += bytes;
      s.layers += 1;
    }
  }
  return f;
}

std::vector<bool> live_layers(const onnx::Model& model, const Profile& profile) {
  ClassFeatureBuilder b;
  b.reset(model);
  for (const Layer& l : profile.layers) b.on_layer(l);
  std::vector<char> node_live;
  b.analyse_graph(node_live);
  std::vector<bool> live(profile.layers.size(), false);
  for (size_t i = 0; i < live.size(); ++i) {
    const size_t ni = profile.layers[i].node_index;
    live[i] = ni < node_live.size() && node_live[ni];
  }
  return live;
}

ClassFeatures class_features(const onnx::Model& model, const Profile& profile) {
  ClassFeatureBuilder b;
  b.reset(model);
  for (const Layer& l : profile.layers) b.on_layer(l);
  return b.finish();
}

ClassFeatures features_of_model(const onnx::Model& model, const Options& options, Profile* walked) {
  if (ClassFeatureBuilder::needs_layer_rows(model)) {
    Options with_layers = options;
    with_layers.want_layers = true;
    with_layers.observer = nullptr;
    Profile profile = analyze(model, with_layers);
    ClassFeatures f = class_features(model, profile);
    if (walked) *walked = std::move(profile);
    return f;
  }
  thread_local ClassFeatureBuilder per_thread;   // reused: its vectors keep their capacity
  ClassFeatureBuilder& builder = per_thread;
  builder.reset(model);
  Options observed = options;
  observed.want_layers = false;
  observed.observer = &builder;
  Profile profile = analyze(model, observed);
  if (walked) *walked = std::move(profile);
  return builder.finish();
}

ClassFeatures features_of_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                                const Options& options, Profile* walked) {
  try {
    const onnx::ThreadModel model(data, size);
    return features_of_model(model.model(), options, walked);
  } catch (const ModelError& e) {
    throw ModelError(source_name + ": " + e.what());
  }
}

}  // namespace netscore::graph
