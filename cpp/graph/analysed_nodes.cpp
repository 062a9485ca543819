// Analysed nodes for timing: each analysed layer with its node's typed attributes (the op families' own
// parsers) and the fold / fuse decisions inference runtimes make after a conv or GEMM.
#include <initializer_list>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "graph/analysis.h"
#include "graph/name_map.h"
#include "graph/op_registry.h"

namespace netscore::graph {

namespace {

bool default_domain(const onnx::Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// Graph facts the fusion decisions need: who reads each tensor, who writes it, and constant values
// (initializers and Constant nodes) for Clip bounds and ReduceMean axes. Per tensor name by a dense id (one
// hash lookup per name, no allocation per tensor); kept per thread, so its vectors keep their capacity.
struct GraphFacts {
  walk::NameMap ids;
  std::vector<uint32_t> readers;                // node inputs reading the tensor
  std::vector<uint32_t> first_reader;           // the first of them (node index)
  std::vector<uint32_t> producer;               // the (last) producing node's index, kNone: none
  std::vector<const onnx::Tensor*> constant;    // its value, if an initializer or a Constant node's
  std::vector<char> graph_output;

  uint32_t id(std::string_view name) {
    uint32_t i = ids.find(name);
    if (i != walk::kNone) return i;
    i = static_cast<uint32_t>(readers.size());
    ids.insert(name, i);
    readers.push_back(0), first_reader.push_back(walk::kNone), producer.push_back(walk::kNone);
    constant.push_back(nullptr), graph_output.push_back(0);
    return i;
  }

  void reset(const onnx::Graph& g) {
    ids.reserve(2 * g.nodes.size() + g.initializers.size() + g.outputs.size() + 8);
    readers.clear(), first_reader.clear(), producer.clear(), constant.clear(), graph_output.clear();
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      for (std::string_view in : g.nodes[i].inputs)
        if (!in.empty()) {
          const uint32_t t = id(in);
          if (readers[t]++ == 0) first_reader[t] = static_cast<uint32_t>(i);
        }
      for (std::string_view out : g.nodes[i].outputs)
        if (!out.empty()) producer[id(out)] = static_cast<uint32_t>(i);
      if (g.nodes[i].op_type == "Constant" && !g.nodes[i].outputs.empty()) {
        const onnx::Attribute* v = g.nodes[i].attribute("value");
        if (v && !v->tensors.empty()) constant[id(g.nodes[i].outputs[0])] = &v->tensors[0];
      }
    }
    for (const onnx::Tensor& t : g.initializers) constant[id(t.name)] = &t;
    for (const onnx::ValueInfo& v : g.outputs) graph_output[id(v.name)] = 1;
  }

  // The single node reading `tensor`, or -1 when it has several readers or is a graph output.
  long sole_consumer(std::string_view tensor) const {
    const uint32_t t = ids.find(tensor);
    if (t == walk::kNone || graph_output[t] || readers[t] != 1) return -1;
    return long(first_reader[t]);
  }

  // The producing node of `tensor`, or kNone.
  uint32_t producer_of(std::string_view tensor) const {
    const uint32_t t = ids.find(tensor);
    return t == walk::kNone ? walk::kNone : producer[t];
  }

  const onnx::Tensor* constant_of(std::string_view tensor) const {
    const uint32_t t = ids.find(tensor);
    return t == walk::kNone ? nullptr : constant[t];
  }

  bool ints(std::string_view name, std::vector<int64_t>* out) const {
    const onnx::Tensor* t = constant_of(name);
    if (t == nullptr || !t->values_known || t->ints.empty()) return false;
    *out = t->ints;
    return true;
  }

  bool scalar(std::string_view name, double* out) const {
    const onnx::Tensor* c = constant_of(name);
    if (c == nullptr || !c->values_known) return false;
    const onnx::Tensor& t = *c;
    if (!t.floats.empty()) *out = t.floats[0];
    else if (!t.ints.empty()) *out = double(t.ints[0]);
    else return false;
    return true;
  }
};

// An activation a kernel epilogue computes; false for other nodes.
bool parse_activation(const OpContext& ctx, const GraphFacts& facts, ActivationAttrs* act) {
  const onnx::Node& node = ctx.node();
  const std::string_view op = node.op_type;
  using Kind = ActivationAttrs::Kind;
  if (op == "Relu") {
    act->kind = Kind::relu;
  } else if (op == "Sigmoid") {
    act->kind = Kind::sigmoid;
  } else if (op == "HardSwish") {
    act->kind = Kind::hardswish;
  } else if (op == "Gelu") {
    if (ctx.attr_string("approximate", "none") != "none") return false;
    act->kind = Kind::gelu;
  } else if (op == "Clip") {
    double lo = act->lo, hi = act->hi;
    if (ctx.opset() < 11) {
      lo = ctx.attr_float("min", act->lo);
      hi = ctx.attr_float("max", act->hi);
    } else {
      if (node.inputs.size() > 1 && !node.inputs[1].empty() && !facts.scalar(node.inputs[1], &lo)) return false;
      if (node.inputs.size() > 2 && !node.inputs[2].empty() && !facts.scalar(node.inputs[2], &hi)) return false;
    }
    act->kind = Kind::clip;
    act->lo = float(lo);
    act->hi = float(hi);
  } else {
    return false;
  }
  return true;
}

NodeAttrs parse_attrs(const onnx::Node& node, int64_t opset, const GraphFacts& facts) {
  static const std::vector<const Value*> no_inputs;
  static const std::vector<Value*> no_outputs;
  if (!default_domain(node)) return std::monostate{};
  const OpContext ctx(node, opset, no_inputs, no_outputs, std::string_view());
  const std::string_view op = node.op_type;
  if (op == "Conv" || op == "QLinearConv") return parse_conv_attrs(ctx);
  if (op == "MaxPool" || op == "AveragePool") return parse_pool_attrs(ctx);
  if (op == "Gemm") return parse_gemm_attrs(ctx);
  if (op == "ReduceMean") {
    ReduceAttrs r;
    r.axes = ctx.attr_ints("axes");
    if (r.axes.empty() && node.inputs.size() > 1 && !node.inputs[1].empty()) facts.ints(node.inputs[1], &r.axes);
    return r;
  }
  ActivationAttrs act;
  if (parse_activation(ctx, facts, &act)) return act;
  return std::monostate{};
}

// Op type -> class for the default domain (conv_dense stands for the whole conv family, refined by
// conv_class); op types not listed are OpClass::other.
const std::unordered_map<std::string_view, OpClass>& op_class_table() {
  static const std::unordered_map<std::string_view, OpClass> table = [] {
    std::unordered_map<std::string_view, OpClass> t;
    auto add = [&t](OpClass c, std::initializer_list<std::string_view> ops) {
      for (std::string_view op : ops) t.emplace(op, c);
    };
    add(OpClass::conv_dense, {"Conv", "ConvTranspose", "QLinearConv", "ConvInteger"});
    add(OpClass::gemm, {"Gemm", "MatMul", "MatMulInteger", "QLinearMatMul", "Einsum"});
    add(OpClass::pool, {"MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool",
                        "MaxRoiPool", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd",
                        "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax",
                        "ArgMin"});
    add(OpClass::data_movement,
        {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Transpose", "Gather",
         "GatherElements", "GatherND", "Pad", "Expand", "Tile", "Identity", "Resize", "Upsample", "DepthToSpace",
         "SpaceToDepth", "Shape", "Size", "ConstantOfShape", "Range", "ScatterND", "ScatterElements", "Compress",
         "NonZero", "TopK", "Trilu", "CumSum", "OneHot", "ReverseSequence", "Constant", "Dropout", "Cast",
         "CastLike"});
    add(OpClass::elementwise,
        {"Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Clip", "Elu", "Selu",
         "Celu", "Gelu", "Mish", "Softplus", "Softsign", "ThresholdedRelu", "Erf", "Exp", "Log", "Sqrt",
         "Reciprocal", "Neg", "Abs", "Pow", "Sin", "Cos", "Floor", "Ceil", "Round", "Sign", "Not", "Add", "Sub",
         "Mul", "Div", "Sum", "Mean", "Max", "Min", "Mod", "And", "Or", "Xor", "Equal", "Greater",
         "GreaterOrEqual", "Less", "LessOrEqual", "Where", "BatchNormalization", "LayerNormalization",
         "InstanceNormalization", "GroupNormalization", "LpNormalization", "MeanVarianceNormalization", "LRN",
         "Softmax", "LogSoftmax", "Hardmax", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
         "IsNaN", "IsInf", "BitShift", "Shrink"});
    return t;
  }();
  return table;
}

// A conv's kind from its group and weight [M, C/group, k...] and input [N, C, ...]; unknown dims count as
// "not 1".
OpClass conv_class(const Layer& l, int64_t group) {
  const std::string_view op = l.op_type;
  if (op == "ConvTranspose") return group > 1 ? OpClass::conv_grouped : OpClass::conv_dense;
  const size_t w_index = op == "QLinearConv" ? 3 : 1;
  const std::vector<int64_t>* w = l.input_shapes.size() > w_index ? &l.input_shapes[w_index] : nullptr;
  const int64_t channels = !l.input_shapes.empty() && l.input_shapes[0].size() > 1 ? l.input_shapes[0][1] : -1;
  if (group > 1) {
    const bool one_per_group = w && w->size() > 1 && (*w)[1] == 1;
    return one_per_group && channels == group ? OpClass::conv_depthwise : OpClass::conv_grouped;
  }
  bool one_by_one = w && w->size() > 2;
  for (size_t i = 2; one_by_one && i < w->size(); ++i) one_by_one = (*w)[i] == 1;
  return one_by_one ? OpClass::conv_pointwise : OpClass::conv_dense;
}

}  // namespace

OpClass op_class(const Layer& l, const onnx::Node* node, int64_t opset) {
  if (!l.supported || !(l.domain.empty() || l.domain == "ai.onnx")) return OpClass::other;
  const auto& table = op_class_table();
  const auto it = table.find(std::string_view(l.op_type));
  if (it == table.end()) return OpClass::other;
  if (it->second != OpClass::conv_dense) return it->second;
  int64_t group = 1;  // the conv family: its kind from the weight
  if (node && node->op_type == l.op_type) {  // the layer's own node, not the call node of an inlined function
    static const std::vector<const Value*> no_inputs;
    static const std::vector<Value*> no_outputs;
    group = parse_conv_attrs(OpContext(*node, opset, no_inputs, no_outputs, std::string_view())).group;
  }
  return conv_class(l, group);
}

namespace {

bool known(const std::vector<int64_t>& dims) {
  for (int64_t d : dims)
    if (d < 0) return false;
  return true;
}

struct FusionFinder {
  const onnx::Model& model;
  const Profile& profile;
  const GraphFacts& facts;
  const std::vector<long>& layer_of;  // node index -> index in profile.layers (-1 none)
  const std::vector<AnalysedNode>& analysed;

  // A two-input Add / Sum reading `out` (the conv's result) that a conv epilogue can take over: both inputs
  // shaped like the output (no broadcasting), the other input computed before the conv runs (earlier in the
  // layer order, or a graph input), as runtimes fuse Conv + Add (+ activation) for residual connections.
  bool residual_add(size_t add_index, std::string_view out, size_t conv_node) const {
    const onnx::Node& add = model.graph.nodes[add_index];
    if (!(add.op_type == "Add" || add.op_type == "Sum") || add.inputs.size() != 2) return false;
    if (!default_domain(add)) return false;
    const size_t self = add.inputs[0] == out ? 0 : 1;
    if (add.inputs[self] != out || add.inputs[1 - self] == out || add.inputs[1 - self].empty()) return false;
    const long add_layer = layer_of[add_index];
    if (add_layer < 0) return false;
    const Layer& al = profile.layers[size_t(add_layer)];
    if (al.input_shapes.size() != 2 || al.output_shapes.empty() || !known(al.output_shapes[0]) ||
        al.input_shapes[0] != al.output_shapes[0] || al.input_shapes[1] != al.output_shapes[0])
      return false;
    const uint32_t p = facts.producer_of(add.inputs[1 - self]);
    if (p == walk::kNone) return facts.constant_of(add.inputs[1 - self]) == nullptr;  // a graph input
    const long conv_layer = layer_of[conv_node];
    const long other = layer_of[p];
    return other >= 0 && conv_layer >= 0 && other < conv_layer;
  }

  // After a conv (allow_bn) or GEMM: a sole-consumer BatchNormalization folds in, then a residual Add fuses
  // (conv), then a bias Add (MatMul with N outputs: bias_n >= 0), then a sole-consumer activation.
  Fusion find(size_t node_index, bool allow_bn, int64_t bias_n) const {
    Fusion f;
    const auto& nodes = model.graph.nodes;
    const onnx::Node& node = nodes[node_index];
    std::string_view out = node.outputs.empty() ? std::string_view() : node.outputs[0];
    long next = facts.sole_consumer(out);
    if (allow_bn && next >= 0 && nodes[next].op_type == "BatchNormalization" && nodes[next].inputs[0] == out) {
      f.batch_norm = layer_of[size_t(next)];
      out = nodes[next].outputs[0];
      next = facts.sole_consumer(out);
    }
    if (allow_bn && next >= 0 && residual_add(size_t(next), out, node_index)) {
      f.residual_add = layer_of[size_t(next)];
      out = nodes[next].outputs[0];
      next = facts.sole_consumer(out);
    }
    if (bias_n >= 0 && next >= 0 && nodes[next].op_type == "Add" && layer_of[next] >= 0 &&
        profile.layers[size_t(layer_of[next])].params == bias_n) {
      f.bias_add = layer_of[size_t(next)];
      out = nodes[next].outputs[0];
      next = facts.sole_consumer(out);
    }
    if (next >= 0 && layer_of[next] >= 0 && std::holds_alternative<ActivationAttrs>(analysed[layer_of[next]].attrs))
      f.activation = layer_of[size_t(next)];
    return f;
  }
};

}  // namespace

std::vector<AnalysedNode> analysed_nodes(const onnx::Model& model, const Profile& profile) {
  const auto& nodes = model.graph.nodes;
  // Per thread, reused: no allocation once warm. Held through a pointer, so its address is looked up once
  // (a reference to the thread_local itself had the compiler call __tls_get_addr at every use).
  thread_local std::unique_ptr<GraphFacts> per_thread;
  if (!per_thread) per_thread = std::make_unique<GraphFacts>();
  GraphFacts& facts = *per_thread;
  facts.reset(model.graph);
  const int64_t opset = model.opset("");
  std::vector<long> layer_of(nodes.size(), -1);
  for (size_t i = 0; i < profile.layers.size(); ++i)
    if (profile.layers[i].node_index < nodes.size()) layer_of[profile.layers[i].node_index] = long(i);

  std::vector<AnalysedNode> out(profile.layers.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const Layer& layer = profile.layers[i];
    AnalysedNode& a = out[i];
    a.layer = &layer;
    if (layer.node_index >= nodes.size()) continue;
    a.node = &nodes[layer.node_index];
    a.default_domain = default_domain(*a.node);
    a.attrs = parse_attrs(*a.node, opset, facts);
    const ConvAttrs* conv = std::get_if<ConvAttrs>(&a.attrs);
    a.op_class = conv && a.node->op_type == layer.op_type ? conv_class(layer, conv->group)
                                                          : op_class(layer, a.node, opset);
  }
  const FusionFinder finder{model, profile, facts, layer_of, out};
  for (AnalysedNode& a : out) {
    if (!a.node || !a.default_domain) continue;
    const std::string_view op = a.node->op_type;
    const auto& shapes = a.layer->input_shapes;
    if (op == "Conv") {
      a.fusion = finder.find(a.layer->node_index, true, -1);
    } else if (op == "Gemm") {
      a.fusion = finder.find(a.layer->node_index, false, -1);
    } else if (op == "MatMul" && shapes.size() > 1 && shapes[1].size() == 2) {
      a.fusion = finder.find(a.layer->node_index, false, shapes[1][1]);
    }
  }
  if (facts.readers.size() > (size_t(1) << 16)) per_thread.reset();   // a huge graph's facts are not kept
  return out;
}

const char* op_class_name(OpClass c) {
  static constexpr const char* kNames[kNumOpClasses] = {"conv_dense", "conv_depthwise", "conv_pointwise",
                                                        "conv_grouped", "gemm", "pool", "elementwise",
                                                        "data_movement", "other"};
  const auto i = static_cast<size_t>(c);
  return i < size_t(kNumOpClasses) ? kNames[i] : "other";
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string t;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) t += 'x';
    t += dims[i] < 0 ? std::string("?") : std::to_string(dims[i]);
  }
  return t.empty() ? std::string("scalar") : t;
}

}  // namespace netscore::graph
