// Layer plan: analysed nodes (typed attributes, shapes and fusion decisions from the graph layer) -> kernel
// configurations. Nothing here reads an ONNX attribute or indexes the graph: that is the graph layer's job.
#include "measure/layer_plan.h"

#include <algorithm>
#include <optional>
#include <variant>

namespace netscore::bench {
namespace {

using kernels::Activation;
using Dims = std::vector<int64_t>;

bool known(const Dims& dims) {
  for (int64_t d : dims)
    if (d < 0) return false;
  return true;
}

int64_t numel(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

int64_t numel_before_last(const Dims& dims, size_t last) { return numel(Dims(dims.begin(), dims.end() - last)); }

Activation kernel_activation(const graph::ActivationAttrs& a) {
  using Kind = graph::ActivationAttrs::Kind;
  switch (a.kind) {
    case Kind::relu: return Activation{Activation::relu};
    case Kind::sigmoid: return Activation{Activation::sigmoid};
    case Kind::hardswish: return Activation{Activation::hardswish};
    case Kind::gelu: return Activation{Activation::gelu};
    case Kind::clip: break;
  }
  return (a.lo == 0.0f && a.hi == 6.0f) ? Activation{Activation::relu6, 0.0f, 6.0f} : Activation::Clip(a.lo, a.hi);
}

bool is_noop(std::string_view op) {
  return op == "Flatten" || op == "Reshape" || op == "Identity" || op == "Dropout" || op == "Squeeze" ||
         op == "Unsqueeze";
}

// A 2-D window (the spatial dims of Conv2dShape / Pool2dShape) resolved by the graph layer's window rule:
// strides, dilations and [top, left, bottom, right] pads. 1-D windows run as 2-D with a height of one.
struct Window2d {
  int64_t stride[2] = {1, 1}, dilation[2] = {1, 1}, pads[4] = {0, 0, 0, 0};

  template <typename Shape>
  void apply(Shape* s) const {
    s->stride_h = stride[0], s->stride_w = stride[1];
    s->dil_h = dilation[0], s->dil_w = dilation[1];
    s->pad_top = pads[0], s->pad_left = pads[1], s->pad_bottom = pads[2], s->pad_right = pads[3];
  }
};

std::optional<Window2d> resolve_window(const graph::WindowAttrs& a, const Dims& in, const Dims& kernel,
                                       bool ceil_mode) {
  const size_t rank = in.size();
  if ((!a.strides.empty() && a.strides.size != rank) || (!a.dilations.empty() && a.dilations.size != rank))
    return std::nullopt;
  auto r = graph::window_output(in, kernel, a.strides, a.dilations, a.pads, a.auto_pad, ceil_mode);
  if (!r || r->pads.size() != 2 * rank) return std::nullopt;
  Window2d w;
  const size_t off = 2 - rank;  // 1-D: height axis stays 1 / unpadded
  for (size_t i = 0; i < rank; ++i) {
    w.stride[off + i] = a.stride(i);
    w.dilation[off + i] = a.dilation(i);
    w.pads[off + i] = r->pads[i];
    w.pads[2 + off + i] = r->pads[rank + i];
  }
  return w;
}

struct Mapping {
  bool ok = false;
  OpSpec spec;
  std::string note;  // on failure: why; on success: what was timed beyond the node itself
};

class Mapper {
 public:
  explicit Mapper(const graph::AnalysedNode& n) : n_(n), layer_(*n.layer), node_(*n.node) {}

  Mapping map() {
    const std::string_view op = node_.op_type;
    const Dims& x = in_shape(0);
    const Dims y = layer_.output_shapes.empty() ? Dims{} : layer_.output_shapes[0];
    if (!n_.default_domain) return fail("no kernel for this domain");
    if (op == "Conv" || op == "QLinearConv") return conv(op == "QLinearConv");
    if (op == "MatMul" && in_shape(1).size() > 2) {
      // Batched product of two activations (attention): one GEMM per broadcast batch element.
      const Dims& b = in_shape(1);
      if (!known(x) || !known(b) || !known(y) || x.size() < 2 || y.size() < 3) return fail("shape unknown");
      set_gemm(OpSpec::Kind::gemm, x[x.size() - 2], x.back(), b.back());
      m_.spec.repeat = numel_before_last(y, 2);
      m_.note = std::to_string(m_.spec.repeat) + " products; B is computed: its packing is not timed";
      return done();
    }
    if (op == "Gemm" || op == "MatMul") return gemm(op == "Gemm");
    if (op == "QLinearMatMul") {  // inputs: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
      const Dims& b = in_shape(3);
      if (!known(x) || !known(b) || x.size() < 2 || b.size() != 2) return fail("only 2-D weights have a kernel");
      set_gemm(OpSpec::Kind::qgemm, numel_before_last(x, 1), x.back(), b[1]);
      m_.note = "int8 with per-tensor scales";
      return done();
    }
    if (op == "MaxPool" || op == "AveragePool") return pool(op == "MaxPool");
    if (op == "ReduceMean" && x.size() == 4 && known(x)) {
      // Mean over both spatial axes of NCHW is a global average pool (torch's adaptive_avg_pool2d((1, 1))
      // and x.mean((2, 3)) export this way).
      Dims axes = std::get<graph::ReduceAttrs>(n_.attrs).axes;
      for (int64_t& a : axes)
        if (a < 0) a += 4;
      std::sort(axes.begin(), axes.end());
      if (axes != Dims{2, 3}) return fail("no kernel for ReduceMean over these axes");
      set_global_pool(x);
      m_.note = "mean over H and W timed as a global average pool";
      return done();
    }
    if (op == "GlobalAveragePool") {
      if (x.size() != 4 || !known(x)) return fail("only 4-D input with known shape has a kernel");
      set_global_pool(x);
      return done();
    }
    if (op == "Add" || op == "Mul" || (op == "Sum" && node_.inputs.size() == 2)) {
      const Dims& b = in_shape(1);
      if (!known(x) || !known(b) || layer_.input_shapes.size() < 2) return fail("input shape unknown");
      m_.spec.kind = op == "Mul" ? OpSpec::Kind::mul : OpSpec::Kind::add;
      m_.spec.a_dims = x;
      m_.spec.b_dims = b;
      if (op == "Sum") m_.note = "two-input Sum timed as Add";
      return done();
    }
    if (op == "BatchNormalization") {
      // Not after a conv: inference runs it as one per-channel scale-and-shift pass.
      if (x.size() < 2 || !known(x)) return fail("input shape unknown");
      Dims c(x.size(), 1);
      c[1] = x[1];
      m_.spec.kind = OpSpec::Kind::mul;
      m_.spec.a_dims = x;
      m_.spec.b_dims = c;
      m_.note = "not after a conv: timed as one per-channel multiply pass (scale and shift folded)";
      return done();
    }
    if (const auto* act = std::get_if<graph::ActivationAttrs>(&n_.attrs)) {
      if (!known(y) || y.empty()) return fail("output shape unknown");
      m_.spec.kind = OpSpec::Kind::unary;
      m_.spec.act = kernel_activation(*act);
      m_.spec.count = numel(y);
      return done();
    }
    return fail("no kernel for " + std::string(op));
  }

 private:
  const Dims& in_shape(size_t i) const {
    static const Dims none;
    return i < layer_.input_shapes.size() ? layer_.input_shapes[i] : none;
  }
  Mapping fail(std::string why) {
    m_.ok = false;
    m_.note = std::move(why);
    return m_;
  }
  Mapping done() {
    m_.ok = true;
    return m_;
  }
  void set_gemm(OpSpec::Kind kind, int64_t m, int64_t k, int64_t n) {
    m_.spec.kind = kind;
    m_.spec.gemm.trans_b = false;
    m_.spec.gemm.m = m;
    m_.spec.gemm.k = k;
    m_.spec.gemm.n = n;
    m_.spec.bias = false;
  }
  void set_global_pool(const Dims& x) {
    m_.spec.kind = OpSpec::Kind::globalavgpool;
    m_.spec.pool.n = x[0], m_.spec.pool.c = x[1], m_.spec.pool.h = x[2], m_.spec.pool.w = x[3];
  }

  Mapping conv(bool quant) {
    // QLinearConv inputs: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
    const Dims& x = in_shape(0);
    const Dims& w = in_shape(quant ? 3 : 1);
    // 1-D convolution runs as 2-D with a height of one.
    if (!((x.size() == 4 && w.size() == 4) || (x.size() == 3 && w.size() == 3)))
      return fail("only 1-D and 2-D convolution have a kernel");
    if (!known(x) || !known(w)) return fail("input or weight shape unknown");
    const auto& a = std::get<graph::ConvAttrs>(n_.attrs);
    const bool one_d = x.size() == 3;
    kernels::Conv2dShape s;
    s.n = x[0], s.c_in = x[1], s.h = one_d ? 1 : x[2], s.w = x.back();
    s.c_out = w[0], s.kh = one_d ? 1 : w[2], s.kw = w.back();
    s.group = a.group;
    auto win = resolve_window(a, Dims(x.begin() + 2, x.end()), Dims(w.begin() + 2, w.end()), false);
    if (!win) return fail("window does not fit");
    win->apply(&s);
    if (s.group < 1 || s.c_in % s.group != 0 || s.c_out % s.group != 0 || w[1] != s.c_in / s.group)
      return fail("group does not divide the channels");
    const size_t bias_input = quant ? 8 : 2;
    m_.spec.kind = quant ? OpSpec::Kind::qconv : OpSpec::Kind::conv;
    m_.spec.conv = s;
    m_.spec.bias = node_.inputs.size() > bias_input && !node_.inputs[bias_input].empty();
    if (quant) m_.note = "int8 with per-tensor scales";
    return done();
  }

  Mapping gemm(bool is_gemm) {
    const Dims& x = in_shape(0);
    const Dims& b = in_shape(1);
    if (!known(x) || !known(b) || x.size() < 2 || b.size() != 2) return fail("only 2-D weights have a kernel");
    if (is_gemm) {
      if (x.size() != 2) return fail("Gemm input is not 2-D");
      const auto& a = std::get<graph::GemmAttrs>(n_.attrs);
      set_gemm(OpSpec::Kind::gemm, a.trans_a ? x[1] : x[0], a.trans_a ? x[0] : x[1], a.trans_b ? b[0] : b[1]);
      m_.spec.gemm.trans_b = a.trans_b;
      m_.spec.bias = node_.inputs.size() > 2 && !node_.inputs[2].empty();
      if (a.trans_a) m_.note = "transA timed as the untransposed product";
    } else {
      set_gemm(OpSpec::Kind::gemm, numel_before_last(x, 1), x.back(), b[1]);
      if (x.size() > 2) m_.note = "leading dims folded into rows";
      if (layer_.params == 0)
        m_.note += std::string(m_.note.empty() ? "" : "; ") + "B is computed: its packing is not timed";
    }
    return done();
  }

  Mapping pool(bool max) {
    const Dims& x = in_shape(0);
    if (x.size() != 4 || !known(x)) return fail("only 2-D pooling with known shape has a kernel");
    const auto& a = std::get<graph::PoolAttrs>(n_.attrs);
    if (a.kernel_shape.size != 2) return fail("kernel_shape is not 2-D");
    if ((!a.strides.empty() && a.strides.size != 2) || (!a.dilations.empty() && a.dilations.size != 2))
      return fail("strides or dilations are not 2-D");
    auto win = resolve_window(a, {x[2], x[3]}, Dims(a.kernel_shape.begin(), a.kernel_shape.end()), a.ceil_mode);
    if (!win) return fail("window does not fit");
    kernels::Pool2dShape s;
    s.n = x[0], s.c = x[1], s.h = x[2], s.w = x[3];
    s.kh = a.kernel_shape[0], s.kw = a.kernel_shape[1];
    win->apply(&s);
    s.ceil_mode = a.ceil_mode;
    s.count_include_pad = a.count_include_pad;
    m_.spec.kind = max ? OpSpec::Kind::maxpool : OpSpec::Kind::avgpool;
    m_.spec.pool = s;
    return done();
  }

  const graph::AnalysedNode& n_;
  const graph::Layer& layer_;
  const onnx::Node& node_;
  Mapping m_;
};

std::string shape_of(const graph::Layer& layer) {
  std::string in, out;
  for (const auto& s : layer.input_shapes) {
    if (s.empty()) continue;
    in = graph::dims_text(s);
    break;
  }
  if (!layer.output_shapes.empty()) out = graph::dims_text(layer.output_shapes[0]);
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

std::vector<PlannedLayer> plan_layers(const std::vector<graph::AnalysedNode>& nodes, bool describe) {
  std::vector<PlannedLayer> plan(nodes.size());
  std::vector<bool> decided(nodes.size(), false);
  for (size_t li = 0; li < nodes.size(); ++li) {
    const graph::AnalysedNode& n = nodes[li];
    const graph::Layer& layer = *n.layer;
    PlannedLayer& row = plan[li];
    row.node_index = layer.node_index;
    if (describe) {
      row.name = layer.name;
      const bool default_domain = layer.domain.empty() || layer.domain == "ai.onnx";
      row.op_type = default_domain ? layer.op_type : layer.domain + "::" + layer.op_type;
      row.shape = shape_of(layer);
    }
    if (decided[li]) continue;  // absorbed by an earlier conv / GEMM
    if (layer.folded || layer.op_type == "Constant" || layer.op_type == "ConstantOfShape") {
      row.status = LayerStatus::folded;
      if (describe) row.note = "constant: evaluated ahead of time";
      continue;
    }
    if (!layer.supported || !n.node) {
      row.status = LayerStatus::unmeasured;
      if (describe) row.note = "op not known to the analysis";
      continue;
    }
    if (is_noop(layer.op_type) || (layer.op_type == "Sum" && n.node->inputs.size() == 1)) {
      row.status = LayerStatus::noop;
      if (describe) row.note = "no data movement at inference";
      continue;
    }
    Mapping m = Mapper(n).map();
    if (!m.ok) {
      row.status = LayerStatus::unmeasured;
      if (describe) row.note = m.note;
      continue;
    }
    // Folds and fusions the graph layer found after a conv / GEMM (none for other ops), in chain order.
    const graph::Fusion& f = n.fusion;
    auto absorb = [&](long target, LayerStatus status) {
      if (target < 0) return;
      PlannedLayer& other = plan[size_t(target)];
      const bool folded = status == LayerStatus::folded;
      other.status = status;
      decided[size_t(target)] = true;
      if (!describe) return;
      other.note = std::string(folded ? "folded into " : "fused into ") + layer.name;
      if (!m.note.empty()) m.note += "; ";
      m.note += std::string(folded ? "folded " : "fused ") + nodes[size_t(target)].layer->op_type;
    };
    absorb(f.batch_norm, LayerStatus::folded);
    if (f.residual_add >= 0) m.spec.residual = true;
    absorb(f.residual_add, LayerStatus::fused);
    if (f.bias_add >= 0) m.spec.bias = true;
    absorb(f.bias_add, LayerStatus::fused);
    if (f.activation >= 0)
      m.spec.act = kernel_activation(std::get<graph::ActivationAttrs>(nodes[size_t(f.activation)].attrs));
    absorb(f.activation, LayerStatus::fused);
    row.status = LayerStatus::measured;
    if (describe) row.note = std::move(m.note);
    row.spec = std::move(m.spec);
  }
  return plan;
}

}  // namespace netscore::bench
