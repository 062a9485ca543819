// Op spec keys -> OpSpec, with the ONNX-like defaults (stride 1, no padding, bias on, ...).
#include "measure/op_spec.h"

#include <cmath>
#include <stdexcept>

namespace netscore::bench {
namespace {

std::vector<int64_t> ints(const SpecSource& d, const char* key, std::vector<int64_t> def = {}) {
  return d.has(key) ? d.ints(key) : def;
}

int64_t int_or(const SpecSource& d, const char* key, int64_t def) { return d.has(key) ? d.integer(key) : def; }

bool flag_or(const SpecSource& d, const char* key, bool def) { return d.has(key) ? d.flag(key) : def; }

std::vector<int64_t> sized(std::vector<int64_t> v, size_t n, const char* what) {
  if (v.size() != n) throw std::invalid_argument(std::string(what) + " must have " + std::to_string(n) + " values");
  return v;
}

kernels::Activation parse_act(const SpecSource& d, const std::string& name) {
  kernels::Activation act;
  if (name.empty() || name == "none") return act;
  if (!kernels::parse_activation(name, &act.kind)) throw std::invalid_argument("unknown activation '" + name + "'");
  if (act.kind == kernels::Activation::relu6) {
    act.min = 0.0f;
    act.max = 6.0f;
  } else if (act.kind == kernels::Activation::clip) {
    act.min = d.has("clip_min") ? d.real("clip_min") : -INFINITY;
    act.max = d.has("clip_max") ? d.real("clip_max") : INFINITY;
  }
  return act;
}

// Shared by conv and pooling: four sized window lists with their defaults.
struct Window {
  std::vector<int64_t> kernel, strides, pads, dilations;
};
Window window(const SpecSource& d, const char* op, std::vector<int64_t> kernel_default) {
  const std::string o(op);
  return {sized(ints(d, "kernel", std::move(kernel_default)), 2, (o + " kernel").c_str()),
          sized(ints(d, "strides", {1, 1}), 2, (o + " strides").c_str()),
          sized(ints(d, "pads", {0, 0, 0, 0}), 4, (o + " pads").c_str()),
          sized(ints(d, "dilations", {1, 1}), 2, (o + " dilations").c_str())};
}

}  // namespace

OpSpec parse_op_spec(const SpecSource& d) {
  if (!d.has("op")) throw std::invalid_argument("op spec needs an 'op' key");
  const std::string op = d.text("op");
  OpSpec s;
  const std::string activation = d.has("activation") ? d.text("activation") : "";
  if (op == "conv" || op == "qconv") {
    const auto x = sized(ints(d, "input"), 4, "conv input");
    const Window win = window(d, "conv", {1, 1});
    s.kind = op == "conv" ? OpSpec::Kind::conv : OpSpec::Kind::qconv;
    auto& c = s.conv;
    c.n = x[0]; c.c_in = x[1]; c.h = x[2]; c.w = x[3];
    c.c_out = int_or(d, "out_channels", c.c_in);
    c.kh = win.kernel[0]; c.kw = win.kernel[1]; c.stride_h = win.strides[0]; c.stride_w = win.strides[1];
    c.pad_top = win.pads[0]; c.pad_left = win.pads[1]; c.pad_bottom = win.pads[2]; c.pad_right = win.pads[3];
    c.dil_h = win.dilations[0]; c.dil_w = win.dilations[1];
    c.group = int_or(d, "group", 1);
    if (c.group < 1 || c.c_in % c.group || c.c_out % c.group)
      throw std::invalid_argument("conv group must divide input and output channels");
    s.bias = flag_or(d, "bias", true);
    s.residual = op == "conv" && flag_or(d, "residual", false);
    s.act = parse_act(d, activation);
  } else if (op == "gemm" || op == "qgemm") {
    s.kind = op == "gemm" ? OpSpec::Kind::gemm : OpSpec::Kind::qgemm;
    s.gemm.m = int_or(d, "m", 1);
    s.gemm.k = int_or(d, "k", 1);
    s.gemm.n = int_or(d, "n", 1);
    s.gemm.trans_b = flag_or(d, "trans_b", true);
    s.repeat = int_or(d, "batch", 1);
    s.bias = flag_or(d, "bias", true);
    s.act = parse_act(d, activation);
  } else if (op == "maxpool" || op == "avgpool" || op == "globalavgpool") {
    const auto x = sized(ints(d, "input"), 4, "pool input");
    auto& p = s.pool;
    p.n = x[0]; p.c = x[1]; p.h = x[2]; p.w = x[3];
    if (op == "globalavgpool") {
      s.kind = OpSpec::Kind::globalavgpool;
    } else {
      s.kind = op == "maxpool" ? OpSpec::Kind::maxpool : OpSpec::Kind::avgpool;
      const Window win = window(d, "pool", {});
      p.kh = win.kernel[0]; p.kw = win.kernel[1]; p.stride_h = win.strides[0]; p.stride_w = win.strides[1];
      p.pad_top = win.pads[0]; p.pad_left = win.pads[1]; p.pad_bottom = win.pads[2]; p.pad_right = win.pads[3];
      p.dil_h = win.dilations[0]; p.dil_w = win.dilations[1];
      p.ceil_mode = int_or(d, "ceil_mode", 0) != 0;
      p.count_include_pad = int_or(d, "count_include_pad", 0) != 0;
    }
  } else if (op == "add" || op == "mul") {
    s.kind = op == "add" ? OpSpec::Kind::add : OpSpec::Kind::mul;
    s.a_dims = ints(d, "a");
    s.b_dims = ints(d, "b", s.a_dims);
  } else {
    kernels::Activation::Kind kind;
    if (!kernels::parse_activation(op, &kind) || kind == kernels::Activation::none)
      throw std::invalid_argument("unknown op '" + op + "' in op spec");
    s.kind = OpSpec::Kind::unary;
    s.act = parse_act(d, op);
    int64_t count = 1;
    for (int64_t v : ints(d, "input")) count *= v;
    s.count = count;
  }
  return s;
}

}  // namespace netscore::bench
