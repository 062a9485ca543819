// Per-layer model timing: map each analysed node to a kernel spec the way inference runtimes execute it
// (BatchNormalization folded into the conv before it, a residual Add and a following activation fused),
// time each distinct configuration once, and list every node with how its time was obtained.
#include "kernels/bench/model_timing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "graph/ops/shape_util.h"
#include "kernels/bench/cpu_info.h"
#include "kernels/bench/op_timing.h"
#include "netscore/errors.h"
#include "onnx/decode.h"
#include "onnx/loader.h"

namespace netscore::bench {
namespace {

using kernels::Activation;

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string t;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) t += 'x';
    t += dims[i] < 0 ? std::string("?") : std::to_string(dims[i]);
  }
  return t.empty() ? std::string("scalar") : t;
}

bool known(const std::vector<int64_t>& dims) {
  for (int64_t d : dims)
    if (d < 0) return false;
  return true;
}

int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::vector<int64_t> attr_ints(const onnx::Node& node, std::string_view name) {
  const onnx::Attribute* a = node.attribute(name);
  return a ? a->ints : std::vector<int64_t>{};
}

int64_t attr_int(const onnx::Node& node, std::string_view name, int64_t def) {
  const onnx::Attribute* a = node.attribute(name);
  return a ? a->i : def;
}

std::string_view attr_string(const onnx::Node& node, std::string_view name, std::string_view def) {
  const onnx::Attribute* a = node.attribute(name);
  return a ? a->s : def;
}

// Graph facts the mapping needs: who consumes each tensor, and small constant values (Clip bounds).
struct GraphIndex {
  std::unordered_map<std::string_view, std::vector<size_t>> consumers;  // tensor -> consuming node indices
  std::unordered_map<std::string_view, int> graph_outputs;
  std::unordered_map<std::string_view, const onnx::Tensor*> constants;  // initializers and Constant values
  std::unordered_map<std::string_view, size_t> producer;                 // tensor -> producing node index

  explicit GraphIndex(const onnx::Graph& g) {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      for (std::string_view in : g.nodes[i].inputs)
        if (!in.empty()) consumers[in].push_back(i);
      for (std::string_view out : g.nodes[i].outputs)
        if (!out.empty()) producer[out] = i;
      if (g.nodes[i].op_type == "Constant" && !g.nodes[i].outputs.empty()) {
        const onnx::Attribute* v = g.nodes[i].attribute("value");
        if (v && !v->tensors.empty()) constants[g.nodes[i].outputs[0]] = &v->tensors[0];
      }
    }
    for (const onnx::Tensor& t : g.initializers) constants[t.name] = &t;
    for (const onnx::ValueInfo& v : g.outputs) graph_outputs[v.name] = 1;
  }

  // The single node reading `tensor`, or -1 when it has several readers or is a graph output.
  long sole_consumer(std::string_view tensor) const {
    if (graph_outputs.count(tensor)) return -1;
    auto it = consumers.find(tensor);
    if (it == consumers.end() || it->second.size() != 1) return -1;
    return long(it->second[0]);
  }

  // A small integer constant's values; false when unknown.
  bool ints(std::string_view name, std::vector<int64_t>* out) const {
    auto it = constants.find(name);
    if (it == constants.end() || !it->second->values_known || it->second->ints.empty()) return false;
    *out = it->second->ints;
    return true;
  }

  // A scalar constant's value; false when unknown.
  bool scalar(std::string_view name, double* out) const {
    auto it = constants.find(name);
    if (it == constants.end() || !it->second->values_known) return false;
    const onnx::Tensor& t = *it->second;
    if (!t.floats.empty()) *out = t.floats[0];
    else if (!t.ints.empty()) *out = double(t.ints[0]);
    else return false;
    return true;
  }
};

// The activation a node computes, if it is one our kernels fuse or run standalone.
bool activation_of(const onnx::Node& node, int64_t opset, const GraphIndex& gi, Activation* act) {
  const std::string_view op = node.op_type;
  if (!(node.domain.empty() || node.domain == "ai.onnx")) return false;
  if (op == "Relu") {
    act->kind = Activation::relu;
  } else if (op == "Sigmoid") {
    act->kind = Activation::sigmoid;
  } else if (op == "HardSwish") {
    act->kind = Activation::hardswish;
  } else if (op == "Gelu") {
    if (attr_string(node, "approximate", "none") != "none") return false;
    act->kind = Activation::gelu;
  } else if (op == "Clip") {
    double lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (opset < 11) {
      const onnx::Attribute* a = node.attribute("min");
      const onnx::Attribute* b = node.attribute("max");
      if (a) lo = a->f;
      if (b) hi = b->f;
    } else {
      if (node.inputs.size() > 1 && !node.inputs[1].empty() && !gi.scalar(node.inputs[1], &lo)) return false;
      if (node.inputs.size() > 2 && !node.inputs[2].empty() && !gi.scalar(node.inputs[2], &hi)) return false;
    }
    *act = (lo == 0.0 && hi == 6.0) ? Activation{Activation::relu6, 0.0f, 6.0f}
                                    : Activation::Clip(float(lo), float(hi));
  } else {
    return false;
  }
  return true;
}

bool is_noop(std::string_view op) {
  return op == "Flatten" || op == "Reshape" || op == "Identity" || op == "Dropout" || op == "Squeeze" ||
         op == "Unsqueeze";
}

// Resolve a 2-D sliding window (Conv or pooling) into top/left/bottom/right pads; false when it cannot.
bool resolve_window(const onnx::Node& node, const std::vector<int64_t>& in_hw, const std::vector<int64_t>& kernel,
                    const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations, bool ceil_mode,
                    std::vector<int64_t>* pads, std::vector<int64_t>* out_hw) {
  auto r = graph::window_output(in_hw, kernel, strides, dilations, attr_ints(node, "pads"),
                                attr_string(node, "auto_pad", "NOTSET"), ceil_mode);
  if (!r || r->pads.size() != 2 * in_hw.size()) return false;
  *pads = r->pads;
  *out_hw = r->out;
  return true;
}

struct Mapping {
  bool ok = false;
  OpSpec spec;
  std::string note;               // on failure: why; on success: what was timed beyond the node itself
  std::vector<size_t> absorbed;   // node indices folded/fused into this one
  std::vector<LayerStatus> absorbed_status;
};

struct Mapper {
  const onnx::Model& model;
  const GraphIndex& gi;
  int64_t opset;

  // A two-input Add / Sum reading `out` (the conv's result) that a conv epilogue can take over: both inputs
  // shaped like the output (no broadcasting), the other input computed before the conv runs (earlier in the
  // timing order, or a graph input), as runtimes fuse Conv + Add (+ activation) for residual connections.
  bool residual_add(const onnx::Node& add, std::string_view out, const graph::Layer& conv_layer,
                    const std::vector<graph::Layer>& layers, const std::vector<long>& layer_of) const {
    if (!(add.op_type == "Add" || add.op_type == "Sum") || add.inputs.size() != 2) return false;
    if (!(add.domain.empty() || add.domain == "ai.onnx")) return false;
    const size_t self = add.inputs[0] == out ? 0 : 1;
    if (add.inputs[self] != out || add.inputs[1 - self] == out || add.inputs[1 - self].empty()) return false;
    const long add_layer = layer_of[size_t(&add - model.graph.nodes.data())];
    if (add_layer < 0) return false;
    const graph::Layer& al = layers[size_t(add_layer)];
    if (al.input_shapes.size() != 2 || al.output_shapes.empty() || !known(al.output_shapes[0]) ||
        al.input_shapes[0] != al.output_shapes[0] || al.input_shapes[1] != al.output_shapes[0])
      return false;
    auto p = gi.producer.find(add.inputs[1 - self]);
    if (p == gi.producer.end()) return !gi.constants.count(add.inputs[1 - self]);  // a graph input
    const long conv_layer_index = layer_of[conv_layer.node_index];
    const long other = layer_of[p->second];
    return other >= 0 && conv_layer_index >= 0 && other < conv_layer_index;
  }

  // After a conv or GEMM: a sole-consumer BatchNormalization (conv only) folds in, then (conv only) a
  // residual Add fuses, then a sole-consumer activation fuses into the epilogue, as ONNX Runtime, TFLite
  // and OpenVINO execute inference graphs.
  void absorb_followers(const onnx::Node& node, bool allow_bn, bool allow_bias_add, const graph::Layer& layer,
                        const std::vector<graph::Layer>& layers, const std::vector<long>& layer_of, Mapping* m) {
    std::string_view out = node.outputs.empty() ? std::string_view() : node.outputs[0];
    const auto& nodes = model.graph.nodes;
    long next = gi.sole_consumer(out);
    if (allow_bn && next >= 0 && nodes[next].op_type == "BatchNormalization" && nodes[next].inputs[0] == out) {
      m->absorbed.push_back(size_t(next));
      m->absorbed_status.push_back(LayerStatus::folded);
      out = nodes[next].outputs[0];
      next = gi.sole_consumer(out);
    }
    if (allow_bn && next >= 0 && residual_add(nodes[size_t(next)], out, layer, layers, layer_of)) {
      m->absorbed.push_back(size_t(next));
      m->absorbed_status.push_back(LayerStatus::fused);
      m->spec.residual = true;
      out = nodes[next].outputs[0];
      next = gi.sole_consumer(out);
    }
    if (allow_bias_add && next >= 0 && (nodes[next].op_type == "Add") && layer_of[next] >= 0) {
      // MatMul + constant bias vector = Gemm (runtimes fuse it): the Add's params are the bias.
      const graph::Layer& add = layers[size_t(layer_of[next])];
      if (add.params == m->spec.gemm.n) {
        m->absorbed.push_back(size_t(next));
        m->absorbed_status.push_back(LayerStatus::fused);
        m->spec.bias = true;
        out = nodes[next].outputs[0];
        next = gi.sole_consumer(out);
      }
    }
    Activation act;
    if (next >= 0 && activation_of(nodes[next], opset, gi, &act)) {
      m->spec.act = act;
      m->absorbed.push_back(size_t(next));
      m->absorbed_status.push_back(LayerStatus::fused);
    }
    (void)layer;
  }

  Mapping map(const graph::Layer& layer, const std::vector<graph::Layer>& layers, const std::vector<long>& layer_of) {
    Mapping m;
    const onnx::Node& node = model.graph.nodes[layer.node_index];
    const std::string_view op = node.op_type;
    auto in_shape = [&](size_t i) -> const std::vector<int64_t>& {
      static const std::vector<int64_t> none;
      return i < layer.input_shapes.size() ? layer.input_shapes[i] : none;
    };
    const std::vector<int64_t>& x = in_shape(0);
    const std::vector<int64_t> y = layer.output_shapes.empty() ? std::vector<int64_t>{} : layer.output_shapes[0];
    auto fail = [&](std::string why) {
      m.ok = false;
      m.note = std::move(why);
      return m;
    };
    if (!(node.domain.empty() || node.domain == "ai.onnx")) return fail("no kernel for this domain");

    if (op == "Conv" || op == "QLinearConv") {
      const bool quant = op == "QLinearConv";  // inputs: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
      const std::vector<int64_t>& w = in_shape(quant ? 3 : 1);
      // 1-D convolution runs as 2-D with a height of one.
      if (!((x.size() == 4 && w.size() == 4) || (x.size() == 3 && w.size() == 3)))
        return fail("only 1-D and 2-D convolution have a kernel");
      if (!known(x) || !known(w)) return fail("input or weight shape unknown");
      const bool one_d = x.size() == 3;
      kernels::Conv2dShape s;
      s.n = x[0]; s.c_in = x[1];
      s.h = one_d ? 1 : x[2]; s.w = x.back();
      s.c_out = w[0]; s.kh = one_d ? 1 : w[2]; s.kw = w.back();
      s.group = attr_int(node, "group", 1);
      const size_t rank = one_d ? 1 : 2;
      std::vector<int64_t> strides = attr_ints(node, "strides"), dil = attr_ints(node, "dilations");
      if (strides.empty()) strides.assign(rank, 1);
      if (dil.empty()) dil.assign(rank, 1);
      std::vector<int64_t> pads, out_hw;
      const std::vector<int64_t> in_sp(x.begin() + 2, x.end()), k_sp(w.begin() + 2, w.end());
      if (strides.size() != rank || dil.size() != rank ||
          !resolve_window(node, in_sp, k_sp, strides, dil, false, &pads, &out_hw))
        return fail("window does not fit");
      if (one_d) {  // [begin, end] -> [top, left, bottom, right]
        strides.insert(strides.begin(), 1);
        dil.insert(dil.begin(), 1);
        pads = {0, pads[0], 0, pads[1]};
      }
      s.stride_h = strides[0]; s.stride_w = strides[1];
      s.dil_h = dil[0]; s.dil_w = dil[1];
      s.pad_top = pads[0]; s.pad_left = pads[1]; s.pad_bottom = pads[2]; s.pad_right = pads[3];
      if (s.group < 1 || s.c_in % s.group != 0 || s.c_out % s.group != 0 || w[1] != s.c_in / s.group)
        return fail("group does not divide the channels");
      const size_t bias_input = quant ? 8 : 2;
      m.spec.kind = quant ? OpSpec::Kind::qconv : OpSpec::Kind::conv;
      m.spec.conv = s;
      m.spec.bias = node.inputs.size() > bias_input && !node.inputs[bias_input].empty();
      if (quant)
        m.note = "int8 with per-tensor scales";
      else
        absorb_followers(node, true, false, layer, layers, layer_of, &m);
      m.ok = true;
      return m;
    }
    if (op == "MatMul" && in_shape(1).size() > 2) {
      // Batched product of two activations (attention): one GEMM per broadcast batch element.
      const std::vector<int64_t>& b = in_shape(1);
      if (!known(x) || !known(b) || !known(y) || x.size() < 2 || y.size() < 3) return fail("shape unknown");
      m.spec.kind = OpSpec::Kind::gemm;
      m.spec.gemm.trans_b = false;
      m.spec.gemm.m = x[x.size() - 2];
      m.spec.gemm.k = x.back();
      m.spec.gemm.n = b.back();
      m.spec.bias = false;
      m.spec.repeat = numel(std::vector<int64_t>(y.begin(), y.end() - 2));
      m.note = std::to_string(m.spec.repeat) + " products; B is computed: its packing is not timed";
      m.ok = true;
      return m;
    }
    if (op == "Gemm" || op == "MatMul") {
      const std::vector<int64_t>& b = in_shape(1);
      if (!known(x) || !known(b) || x.size() < 2 || b.size() != 2) return fail("only 2-D weights have a kernel");
      kernels::GemmShape s;
      if (op == "Gemm") {
        if (x.size() != 2) return fail("Gemm input is not 2-D");
        const bool ta = attr_int(node, "transA", 0) != 0;
        s.trans_b = attr_int(node, "transB", 0) != 0;
        s.m = ta ? x[1] : x[0];
        s.k = ta ? x[0] : x[1];
        s.n = s.trans_b ? b[0] : b[1];
        m.spec.bias = node.inputs.size() > 2 && !node.inputs[2].empty();
        if (ta) m.note = "transA timed as the untransposed product";
      } else {
        s.trans_b = false;
        s.m = numel(std::vector<int64_t>(x.begin(), x.end() - 1));
        s.k = x.back();
        s.n = b[1];
        m.spec.bias = false;
        if (x.size() > 2) m.note = "leading dims folded into rows";
        if (layer.params == 0)
          m.note += std::string(m.note.empty() ? "" : "; ") + "B is computed: its packing is not timed";
      }
      m.spec.kind = OpSpec::Kind::gemm;
      m.spec.gemm = s;
      absorb_followers(node, false, op == "MatMul", layer, layers, layer_of, &m);
      m.ok = true;
      return m;
    }
    if (op == "QLinearMatMul") {  // inputs: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
      const std::vector<int64_t>& b = in_shape(3);
      if (!known(x) || !known(b) || x.size() < 2 || b.size() != 2) return fail("only 2-D weights have a kernel");
      m.spec.kind = OpSpec::Kind::qgemm;
      m.spec.gemm.trans_b = false;
      m.spec.gemm.m = numel(std::vector<int64_t>(x.begin(), x.end() - 1));
      m.spec.gemm.k = x.back();
      m.spec.gemm.n = b[1];
      m.spec.bias = false;
      m.note = "int8 with per-tensor scales";
      m.ok = true;
      return m;
    }
    if (op == "MaxPool" || op == "AveragePool") {
      if (x.size() != 4 || !known(x)) return fail("only 2-D pooling with known shape has a kernel");
      std::vector<int64_t> k = attr_ints(node, "kernel_shape"), strides = attr_ints(node, "strides"),
                           dil = attr_ints(node, "dilations");
      if (k.size() != 2) return fail("kernel_shape is not 2-D");
      if (strides.empty()) strides = {1, 1};
      if (dil.empty()) dil = {1, 1};
      if (strides.size() != 2 || dil.size() != 2) return fail("strides or dilations are not 2-D");
      const bool ceil_mode = attr_int(node, "ceil_mode", 0) != 0;
      std::vector<int64_t> pads, out_hw;
      if (!resolve_window(node, {x[2], x[3]}, k, strides, dil, ceil_mode, &pads, &out_hw))
        return fail("window does not fit");
      kernels::Pool2dShape s;
      s.n = x[0]; s.c = x[1]; s.h = x[2]; s.w = x[3];
      s.kh = k[0]; s.kw = k[1]; s.stride_h = strides[0]; s.stride_w = strides[1];
      s.pad_top = pads[0]; s.pad_left = pads[1]; s.pad_bottom = pads[2]; s.pad_right = pads[3];
      s.dil_h = dil[0]; s.dil_w = dil[1];
      s.ceil_mode = ceil_mode;
      s.count_include_pad = attr_int(node, "count_include_pad", 0) != 0;
      m.spec.kind = op == "MaxPool" ? OpSpec::Kind::maxpool : OpSpec::Kind::avgpool;
      m.spec.pool = s;
      m.ok = true;
      return m;
    }
    if (op == "ReduceMean" && x.size() == 4 && known(x)) {
      // Mean over both spatial axes of NCHW is a global average pool (torch's adaptive_avg_pool2d((1, 1))
      // and x.mean((2, 3)) export this way).
      std::vector<int64_t> axes = attr_ints(node, "axes");
      if (axes.empty() && node.inputs.size() > 1 && !node.inputs[1].empty()) gi.ints(node.inputs[1], &axes);
      for (int64_t& a : axes)
        if (a < 0) a += 4;
      std::sort(axes.begin(), axes.end());
      if (axes == std::vector<int64_t>{2, 3}) {
        m.spec.kind = OpSpec::Kind::globalavgpool;
        m.spec.pool.n = x[0]; m.spec.pool.c = x[1]; m.spec.pool.h = x[2]; m.spec.pool.w = x[3];
        m.note = "mean over H and W timed as a global average pool";
        m.ok = true;
        return m;
      }
      return fail("no kernel for ReduceMean over these axes");
    }
    if (op == "GlobalAveragePool") {
      if (x.size() != 4 || !known(x)) return fail("only 4-D input with known shape has a kernel");
      m.spec.kind = OpSpec::Kind::globalavgpool;
      m.spec.pool.n = x[0]; m.spec.pool.c = x[1]; m.spec.pool.h = x[2]; m.spec.pool.w = x[3];
      m.ok = true;
      return m;
    }
    if (op == "Add" || op == "Mul" || (op == "Sum" && node.inputs.size() == 2)) {
      const std::vector<int64_t>& b = in_shape(1);
      if (!known(x) || !known(b) || layer.input_shapes.size() < 2) return fail("input shape unknown");
      m.spec.kind = op == "Mul" ? OpSpec::Kind::mul : OpSpec::Kind::add;
      m.spec.a_dims = x;
      m.spec.b_dims = b;
      if (op == "Sum") m.note = "two-input Sum timed as Add";
      m.ok = true;
      return m;
    }
    if (op == "BatchNormalization") {
      // Not after a conv: inference runs it as one per-channel scale-and-shift pass.
      if (x.size() < 2 || !known(x)) return fail("input shape unknown");
      std::vector<int64_t> c(x.size(), 1);
      c[1] = x[1];
      m.spec.kind = OpSpec::Kind::mul;
      m.spec.a_dims = x;
      m.spec.b_dims = c;
      m.note = "not after a conv: timed as one per-channel multiply pass (scale and shift folded)";
      m.ok = true;
      return m;
    }
    Activation act;
    if (activation_of(node, opset, gi, &act)) {
      if (!known(y) || y.empty()) return fail("output shape unknown");
      m.spec.kind = OpSpec::Kind::unary;
      m.spec.act = act;
      m.spec.count = numel(y);
      m.ok = true;
      return m;
    }
    return fail("no kernel for " + std::string(op));
  }
};

std::string shape_of(const graph::Layer& layer) {
  std::string in, out;
  for (const auto& s : layer.input_shapes) {
    if (s.empty()) continue;
    in = dims_text(s);
    break;
  }
  if (!layer.output_shapes.empty()) out = dims_text(layer.output_shapes[0]);
  return in + " -> " + out;
}

}  // namespace

const char* status_name(LayerStatus status) {
  switch (status) {
    case LayerStatus::measured: return "measured";
    case LayerStatus::fused: return "fused";
    case LayerStatus::folded: return "folded";
    case LayerStatus::noop: return "noop";
    case LayerStatus::unmeasured: return "unmeasured";
  }
  return "?";
}

ModelTiming time_model(const onnx::Model& model, const graph::Profile& profile, const TimingOptions& options,
                       bool sequence) {
  const auto& nodes = model.graph.nodes;
  GraphIndex gi(model.graph);
  Mapper mapper{model, gi, model.opset("")};
  std::vector<long> layer_of(nodes.size(), -1);  // node index -> index in profile.layers
  for (size_t i = 0; i < profile.layers.size(); ++i)
    if (profile.layers[i].node_index < nodes.size()) layer_of[profile.layers[i].node_index] = long(i);

  ModelTiming result;
  result.layers.resize(profile.layers.size());
  std::vector<bool> decided(profile.layers.size(), false);
  std::unique_ptr<kernels::ThreadPool> pool;
  if (options.threads > 1) pool = std::make_unique<kernels::ThreadPool>(options.threads);
  std::map<std::string, std::pair<int64_t, OpTiming>> cache;  // spec key -> (config id, timing)
  std::vector<OpSpec> measured_specs;                          // model order, for the back-to-back run

  for (size_t li = 0; li < profile.layers.size(); ++li) {
    const graph::Layer& layer = profile.layers[li];
    LayerTiming& row = result.layers[li];
    row.node_index = layer.node_index;
    row.name = layer.name;
    const bool default_domain = layer.domain.empty() || layer.domain == "ai.onnx";
    row.op_type = default_domain ? layer.op_type : layer.domain + "::" + layer.op_type;
    row.shape = shape_of(layer);
    if (decided[li]) continue;  // absorbed by an earlier conv / GEMM
    if (layer.folded || layer.op_type == "Constant" || layer.op_type == "ConstantOfShape") {
      row.status = LayerStatus::folded;
      row.note = "constant: evaluated ahead of time";
      continue;
    }
    if (!layer.supported) {
      row.status = LayerStatus::unmeasured;
      row.note = "op not known to the analysis";
      continue;
    }
    if (is_noop(layer.op_type) || (layer.op_type == "Sum" && nodes[layer.node_index].inputs.size() == 1)) {
      row.status = LayerStatus::noop;
      row.note = "no data movement at inference";
      continue;
    }
    Mapping m = mapper.map(layer, profile.layers, layer_of);
    if (!m.ok) {
      row.status = LayerStatus::unmeasured;
      row.note = m.note;
      continue;
    }
    for (size_t a = 0; a < m.absorbed.size(); ++a) {
      const long target = layer_of[m.absorbed[a]];
      if (target < 0) continue;
      LayerTiming& other = result.layers[size_t(target)];
      other.status = m.absorbed_status[a];
      other.note = std::string(m.absorbed_status[a] == LayerStatus::folded ? "folded into " : "fused into ") +
                   layer.name;
      decided[size_t(target)] = true;
      if (!m.note.empty()) m.note += "; ";
      m.note += std::string(m.absorbed_status[a] == LayerStatus::folded ? "folded " : "fused ") +
                std::string(nodes[m.absorbed[a]].op_type);
    }
    const std::string key = m.spec.key();
    auto it = cache.find(key);
    if (it == cache.end()) {
      try {
        OpTiming t = time_op(m.spec, options, pool.get());
        it = cache.emplace(key, std::make_pair(int64_t(cache.size()), std::move(t))).first;
        row.timed = true;
      } catch (const BufferLimitError& e) {   // too big for this machine's memory (docs/limits.md)
        row.status = LayerStatus::unmeasured;
        row.note = e.what();
        continue;
      } catch (const std::exception& e) {
        row.status = LayerStatus::unmeasured;
        row.note = std::string("kernel rejected the configuration: ") + e.what();
        continue;
      }
    }
    row.status = LayerStatus::measured;
    row.kernel = it->second.second.kernel;
    row.timing = it->second.second.timing;
    row.config_id = it->second.first;
    row.note = m.note;
    result.total_s += row.timing.median_s;
    measured_specs.push_back(m.spec);
  }
  result.distinct_configs = int(cache.size());

  if (sequence && !measured_specs.empty()) {
    // Layers chained through two ping-pong buffers, as a runtime's memory planner reuses its arena: each
    // layer reads what the previous one wrote; weights are each layer's own.
    std::vector<std::unique_ptr<PreparedOp>> ops;
    int64_t flops = 0, bytes = 0, io_bytes = 0;
    for (const OpSpec& spec : measured_specs) {
      ops.push_back(std::make_unique<PreparedOp>(spec, 1, false));
      flops += int64_t(ops.back()->flops());
      bytes += int64_t(ops.back()->bytes());
      io_bytes = std::max({io_bytes, ops.back()->input_bytes(), ops.back()->output_bytes()});
    }
    std::vector<float> ping(size_t(io_bytes / 4 + 16)), pong(ping.size());
    for (size_t i = 0; i < ping.size(); ++i) ping[i] = float(int(i % 61) - 30) / 64.0f;
    RunContext ctx;
    ctx.cpu_model = cpu_info().model;
    ctx.isa = kernels::isa_name(ops[0]->kernel().isa());
    ctx.threads = pool ? pool->num_threads() : 1;
    ctx.compiler = cpu_info().compiler;
    TimingOptions opt = options;
    opt.cold_cache = false;  // the sequence sets its own cache state
    result.sequence = time_calls(
        [&](int) {
          for (size_t i = 0; i < ops.size(); ++i)
            ops[i]->run_on(i % 2 ? pong.data() : ping.data(), i % 2 ? ping.data() : pong.data(), pool.get());
        },
        1, flops, bytes, opt, ctx);
  }
  return result;
}

ModelTiming time_model_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                             const graph::Options& graph_options, const TimingOptions& options, bool sequence) {
  try {
    onnx::Model model = onnx::decode_model(data, size);
    graph::Profile profile = graph::analyze(model, graph_options);
    return time_model(model, profile, options, sequence);
  } catch (const ModelError& e) {
    throw ModelError(source_name + ": " + e.what());
  }
}

ModelTiming time_model_file(const std::string& path, const graph::Options& graph_options,
                            const TimingOptions& options, bool sequence) {
  onnx::MappedFile file(path);
  try {
    ModelTiming timing = time_model_bytes(file.data(), file.size(), path, graph_options, options, sequence);
    file.check_unchanged();
    return timing;
  } catch (const ModelError&) {
    file.check_unchanged();  // a file that shrank while read explains the error
    throw;
  }
}

}  // namespace netscore::bench
