// Conv and ConvTranspose: shapes and costs. Standard, depthwise, pointwise and grouped convolutions are one
// function parameterised by `group`; 1-D, 2-D and 3-D share the same code. Also DeformConv, Col2Im and
// CausalConvWithState, and com.microsoft FusedConv.
#include <algorithm>
#include <string>

#include "graph/cost.h"
#include "graph/ops/attrs.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"
#include "netscore/window.h"

namespace netscore::graph {

ConvAttrs parse_conv_attrs(const OpContext& ctx) {
  ConvAttrs a;
  a.group = ctx.attr_int("group", 1);
  a.kernel_shape = attr_ints_view(ctx, "kernel_shape");
  a.strides = attr_ints_view(ctx, "strides");
  a.dilations = attr_ints_view(ctx, "dilations");
  a.pads = attr_ints_view(ctx, "pads");
  a.auto_pad = window::parse_auto_pad(auto_pad_attr(ctx));
  return a;
}

namespace {

// What both ops need from X and W before computing the spatial output. The spatial dims and the kernel are
// views (of X's and W's dims or of kernel_shape), so nothing is copied per node.
struct ConvInputs {
  int64_t rank = -1;                 // of X / W / Y; -1 unknown
  ConvAttrs attrs;                   // strides, dilations and pads with their lengths checked
  IntsView x_spatial;                // -1 where unknown
  IntsView kernel;                   // -1 where unknown
  int64_t n = -1, x_channels = -1;   // X dims 0 and 1
  int64_t w0 = -1, w1 = -1;          // W dims 0 and 1
  std::vector<int64_t> unknown;      // -1 per spatial dim, viewed when X or the kernel has no known dims
};

// Shared attribute and consistency checks of Conv-like ops; x_index/w_index locate X and W among the inputs.
// Returns false when the rank cannot be determined (outputs stay unknown).
bool read_conv_inputs(const OpContext& ctx, size_t x_index, size_t w_index, ConvInputs& ci) {
  const Value* x = ctx.input(x_index);
  const Value* w = ctx.input(w_index);
  if (!x || !w) ctx.fail("needs the data input X and the weight W");
  ci.attrs = parse_conv_attrs(ctx);
  if (ci.attrs.group < 1) ctx.fail("group must be >= 1, got " + std::to_string(ci.attrs.group));
  const IntsView ks = ci.attrs.kernel_shape;
  if (x->rank_known && w->rank_known && x->dims.size() != w->dims.size())
    ctx.fail("X has rank " + std::to_string(x->dims.size()) + " but W has rank " + std::to_string(w->dims.size()));
  if (x->rank_known) ci.rank = static_cast<int64_t>(x->dims.size());
  else if (w->rank_known) ci.rank = static_cast<int64_t>(w->dims.size());
  else if (!ks.empty()) ci.rank = static_cast<int64_t>(ks.size) + 2;
  else return false;
  if (ci.rank < 3) ctx.fail("needs rank >= 3 (N, C, spatial...), got rank " + std::to_string(ci.rank));
  const size_t ns = static_cast<size_t>(ci.rank - 2);
  if (!ks.empty() && ks.size != ns)
    ctx.fail("kernel_shape has " + std::to_string(ks.size) + " dims for " + std::to_string(ns) + " spatial dims");
  if (!x->rank_known || (!w->rank_known && ks.empty())) ci.unknown.assign(ns, -1);
  // A known rank of X or W is ci.rank (checked above), so their dims hold 2 + ns values.
  if (!ks.empty()) {
    if (w->rank_known)
      for (size_t i = 0; i < ns; ++i)
        if (w->dims[2 + i] >= 0 && w->dims[2 + i] != ks[i])
          ctx.fail("kernel_shape " + dims_str(ks) + " disagrees with weight shape " + dims_str(w->dims));
    ci.kernel = ks;
  } else {
    ci.kernel = w->rank_known ? IntsView(w->dims.data() + 2, ns) : IntsView(ci.unknown);
  }
  if (x->rank_known) {
    ci.n = x->dims[0];
    ci.x_channels = x->dims[1];
    ci.x_spatial = IntsView(x->dims.data() + 2, ns);
  } else {
    ci.x_spatial = IntsView(ci.unknown);
  }
  if (w->rank_known) {
    ci.w0 = w->dims[0];
    ci.w1 = w->dims[1];
  }
  auto check = [&](std::string_view name, IntsView v, size_t want) {
    if (v.size != 0 && v.size != want)
      ctx.fail(std::string(name) + " has " + std::to_string(v.size) + " values, expected " + std::to_string(want));
  };
  check("strides", ci.attrs.strides, ns);
  check("dilations", ci.attrs.dilations, ns);
  check("pads", ci.attrs.pads, 2 * ns);
  return true;
}

void check_bias(const OpContext& ctx, size_t b_index, int64_t out_channels) {
  const Value* b = ctx.input(b_index);
  if (!b || !b->rank_known) return;
  if (b->dims.size() != 1) ctx.fail("bias must be 1-D, got shape " + dims_str(b->dims));
  if (out_channels >= 0 && b->dims[0] >= 0 && b->dims[0] != out_channels)
    ctx.fail("bias has " + std::to_string(b->dims[0]) + " values for " + std::to_string(out_channels) +
             " output channels");
}

int32_t data_type(const OpContext& ctx, size_t x_index, size_t w_index) {
  const Value* x = ctx.input(x_index);
  const Value* w = ctx.input(w_index);
  if (x && x->dtype) return x->dtype;
  return w ? w->dtype : 0;
}

}  // namespace

// Shape of Conv-like ops (Conv, QLinearConv, ConvInteger) with X at x_index and W at w_index, bias at b_index
// (or SIZE_MAX when the op has none). Declared in the quantized family as well.
void infer_conv_like(OpContext& ctx, size_t x_index, size_t w_index, size_t b_index, int32_t out_dtype) {
  Value* y = ctx.output(0);
  ConvInputs ci;
  const bool rank_known = read_conv_inputs(ctx, x_index, w_index, ci);
  if (ci.x_channels >= 0 && ci.w1 >= 0 && mul_sat(ci.w1, ci.attrs.group) != ci.x_channels)
    ctx.fail("weight input channels " + std::to_string(ci.w1) + " x group " + std::to_string(ci.attrs.group) +
             " != input channels " + std::to_string(ci.x_channels));
  if (ci.w0 >= 0 && ci.w0 % ci.attrs.group != 0)
    ctx.fail("output channels " + std::to_string(ci.w0) + " not divisible by group " + std::to_string(ci.attrs.group));
  if (b_index != SIZE_MAX) check_bias(ctx, b_index, ci.w0);
  if (!y) return;
  y->dtype = out_dtype;
  if (!rank_known) return;
  const size_t ns = ci.x_spatial.size;
  bool kernel_known = true;
  for (int64_t k : ci.kernel) kernel_known &= k >= 0;
  // Y = (N, C_out, spatial...), the spatial sizes written in place (-1 while the kernel is unknown). Y is
  // never X or W (a node reading its own output is a cycle), so the views stay valid.
  y->dims.assign(2 + ns, -1);
  y->dims[0] = ci.n;
  y->dims[1] = ci.w0;
  if (kernel_known &&
      !window_output_into(ci.x_spatial, ci.kernel, ci.attrs.strides, ci.attrs.dilations, ci.attrs.pads,
                          ci.attrs.auto_pad, false, y->dims.data() + 2, nullptr))
    ctx.fail("kernel " + dims_str(ci.kernel) + " does not fit input " + dims_str(ci.x_spatial) +
             " with the given strides, dilations, pads and auto_pad");
  y->rank_known = true;
}

// MACs = N * C_out * prod(out spatial) * (C_in / group) * prod(kernel); the weight's dim 1 is C_in / group.
Cost cost_conv_like(const OpContext& ctx, size_t w_index, bool has_bias) {
  const Value* w = ctx.input(w_index);
  const Value* y = ctx.output(0);
  if (!w || !y || !w->rank_known || w->dims.empty()) return {0, 0, false};
  const int64_t out_elems = y->numel();  // -1 unless Y's shape is known
  int64_t kernel_volume = w->dims[0] < 0 ? -1 : 1;  // -1 if any of W's dims is unknown
  for (size_t i = 2; i < w->dims.size(); ++i) kernel_volume = mul_sat(kernel_volume, w->dims[i]);
  const int64_t macs = window::conv_macs(out_elems, kernel_volume, w->dims.size() > 1 ? w->dims[1] : 1);
  if (macs < 0) return {0, 0, false};
  int64_t flops = mul_sat(macs, cost::kFlopsPerMac);
  if (has_bias) flops = add_sat(flops, out_elems);
  return {macs, flops, true};
}

namespace {

void infer_conv(OpContext& ctx) { infer_conv_like(ctx, 0, 1, 2, data_type(ctx, 0, 1)); }

Cost cost_conv(const OpContext& ctx) { return cost_conv_like(ctx, 1, ctx.input(2) != nullptr); }

// ConvTranspose: W is (C_in, C_out / group, k...). Output size per the ONNX spec:
//   out = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pad_begin - pad_end,
// or output_shape when given, or in * stride under SAME_UPPER / SAME_LOWER.
void infer_conv_transpose(OpContext& ctx) {
  Value* y = ctx.output(0);
  ConvInputs ci;
  const bool rank_known = read_conv_inputs(ctx, 0, 1, ci);
  if (ci.x_channels >= 0 && ci.w0 >= 0 && ci.w0 != ci.x_channels)
    ctx.fail("weight dim 0 (" + std::to_string(ci.w0) + ") != input channels " + std::to_string(ci.x_channels));
  if (ci.w0 >= 0 && ci.w0 % ci.attrs.group != 0)
    ctx.fail("input channels " + std::to_string(ci.w0) + " not divisible by group " + std::to_string(ci.attrs.group));
  const int64_t c_out = ci.w1 >= 0 ? mul_sat(ci.w1, ci.attrs.group) : -1;
  if (c_out == std::numeric_limits<int64_t>::max()) ctx.fail("output channels " + std::to_string(ci.w1) + " x group " + std::to_string(ci.attrs.group) +
                                " overflow");
  check_bias(ctx, 2, c_out);
  if (!y) return;
  y->dtype = data_type(ctx, 0, 1);
  if (!rank_known) return;
  const size_t ns = ci.x_spatial.size;
  std::vector<int64_t> out(ns, -1);
  const std::vector<int64_t> output_shape = ctx.attr_ints("output_shape");
  if (!output_shape.empty()) {
    if (output_shape.size() != ns && output_shape.size() != ns + 2)
      ctx.fail("output_shape has " + std::to_string(output_shape.size()) + " values for " + std::to_string(ns) +
               " spatial dims");
    for (size_t i = 0; i < ns; ++i) out[i] = output_shape[output_shape.size() - ns + i];
  } else {
    const IntsView pads = ci.attrs.pads;
    const std::vector<int64_t> out_pad = ctx.attr_ints("output_padding");
    if (!out_pad.empty() && out_pad.size() != ns)
      ctx.fail("output_padding has " + std::to_string(out_pad.size()) + " values for " + std::to_string(ns) +
               " spatial dims");
    const bool same = window::is_same(ci.attrs.auto_pad);
    const bool valid = ci.attrs.auto_pad == window::AutoPad::valid;
    for (size_t i = 0; i < ns; ++i) {
      const int64_t in = ci.x_spatial[i];
      const int64_t k = ci.kernel[i];
      const int64_t s = ci.attrs.stride(i);
      const int64_t d = ci.attrs.dilation(i);
      if (s < 1 || d < 1) ctx.fail("strides and dilations must be >= 1");
      if (in < 0 || (k < 0 && !same)) continue;
      const int64_t op = out_pad.empty() ? 0 : out_pad[i];
      const int64_t pb = (valid || pads.empty()) ? 0 : pads[i];
      const int64_t pe = (valid || pads.empty()) ? 0 : pads[i + ns];
      constexpr int64_t kBig = int64_t{1} << 31;  // keeps the size arithmetic in range
      auto out_of_range = [](int64_t v) { return v > kBig || v < -kBig; };
      if (out_of_range(s) || out_of_range(d) || out_of_range(k) || out_of_range(op) || out_of_range(pb) ||
          out_of_range(pe))
        ctx.fail("kernel, strides, dilations, pads or output_padding out of range");
      if (same) {
        out[i] = mul_sat(in, s);
        continue;
      }
      // saturating positive part, then the (bounded) subtractions
      const int64_t grown =
          add_sat(in > 0 ? mul_sat(s, in - 1) : 0, add_sat((k - 1) * d + 1, std::max<int64_t>(op, 0)));
      out[i] = grown - (in > 0 ? 0 : s) + std::min<int64_t>(op, 0) - pb - pe;
      if (out[i] < 1) ctx.fail("computed output size " + std::to_string(out[i]) + " is not positive");
    }
  }
  y->rank_known = true;
  y->dims = {ci.n, c_out};
  y->dims.insert(y->dims.end(), out.begin(), out.end());
}

// MACs = N * C_in * prod(in spatial) * (C_out / group) * prod(kernel): every input pixel scatters one kernel.
Cost cost_conv_transpose(const OpContext& ctx) {
  const Value* x = ctx.input(0);
  const Value* w = ctx.input(1);
  const Value* y = ctx.output(0);
  if (!x || !w || !y || !x->shape_known() || !w->shape_known() || !y->shape_known()) return {0, 0, false};
  const int64_t per_input = product(std::vector<int64_t>(w->dims.begin() + 1, w->dims.end()));
  const int64_t macs = mul_sat(product(x->dims), per_input);
  int64_t flops = mul_sat(macs, cost::kFlopsPerMac);
  if (ctx.input(2)) flops = add_sat(flops, product(y->dims));
  return {macs, flops, true};
}

// DeformConv: X, W, offset (2), B (3), mask (4); shapes as Conv. Each kernel tap samples X bilinearly at an
// offset position: 4 taps x (multiply + add) = 8 FLOPs per sampled value, + 1 with a modulation mask.
void infer_deform_conv(OpContext& ctx) { infer_conv_like(ctx, 0, 1, 3, data_type(ctx, 0, 1)); }

Cost cost_deform_conv(const OpContext& ctx) {
  Cost c = cost_conv_like(ctx, 1, ctx.input(3) != nullptr);
  const Value* x = ctx.input(0);
  const Value* w = ctx.input(1);
  const Value* y = ctx.output(0);
  if (!c.known || !x->shape_known()) return {0, 0, false};
  // sampled values: N x C_in x prod(out spatial) x prod(kernel)
  const int64_t samples = mul_sat(mul_sat(x->dims[0], x->dims[1]),
                                  mul_sat(product(std::vector<int64_t>(y->dims.begin() + 2, y->dims.end())),
                                          product(std::vector<int64_t>(w->dims.begin() + 2, w->dims.end()))));
  c.flops = add_sat(c.flops, mul_sat(samples, 8 + (ctx.input(4) ? 1 : 0)));
  return c;
}

// Col2Im: input (N, C x prod(block_shape), L), image_shape, block_shape -> (N, C, image_shape...).
void infer_col2im(OpContext& ctx) {
  const auto [x, image, block] = required_inputs<3>(ctx, "needs input, image_shape and block_shape");
  Value* y = ctx.output(0);
  if (!y) return;
  y->dtype = x->dtype;
  int64_t n_spatial = -1;
  if (image->values_known) n_spatial = static_cast<int64_t>(image->ints.size());
  else if (image->shape_known() && image->dims.size() == 1) n_spatial = image->dims[0];
  if (n_spatial < 0) return;
  checked_rank(ctx, n_spatial + 2);
  int64_t c = -1;
  if (x->rank_known) {
    if (x->dims.size() != 3) ctx.fail("input must be 3-D (N, C x prod(block_shape), L), got " + dims_str(x->dims));
    if (block->values_known && x->dims[1] >= 0) {
      const int64_t blocks = product(block->ints);
      if (blocks <= 0 || x->dims[1] % blocks != 0)
        ctx.fail("input dim 1 (" + std::to_string(x->dims[1]) + ") not divisible by prod(block_shape) " +
                 dims_str(block->ints));
      c = x->dims[1] / blocks;
    }
  }
  y->rank_known = true;
  y->dims = {x->rank_known ? x->dims[0] : -1, c};
  for (int64_t i = 0; i < n_spatial; ++i) y->dims.push_back(image->values_known ? image->ints[i] : -1);
}

// Overlapping blocks are summed: one add per input element.
Cost cost_col2im(const OpContext& ctx) {
  const Value* x = ctx.input(0);
  if (!x || !x->shape_known()) return {0, 0, false};
  return {0, product(x->dims), true};
}

// CausalConvWithState: input (B, C, L), depthwise weight (C, 1, k), bias (C), past_state (B, C, k - 1)
// -> output (B, C, L), present_state (B, C, k - 1).
void infer_causal_conv(OpContext& ctx) {
  const auto [x, w] = required_inputs<2>(ctx, "needs input and weight");
  const int32_t t = data_type(ctx, 0, 1);
  if (x->rank_known && x->dims.size() != 3) ctx.fail("input must be 3-D, got " + dims_str(x->dims));
  if (w->rank_known && w->dims.size() != 3) ctx.fail("weight must be 3-D, got " + dims_str(w->dims));
  int64_t b = -1, c = -1, l = -1, k = w->rank_known ? w->dims[2] : -1;
  if (x->rank_known) b = x->dims[0], c = x->dims[1], l = x->dims[2];
  if (w->rank_known && c >= 0 && w->dims[0] >= 0 && w->dims[0] != c)
    ctx.fail("weight has " + std::to_string(w->dims[0]) + " channels, input " + std::to_string(c));
  if (c < 0 && w->rank_known) c = w->dims[0];
  check_bias(ctx, 2, c);
  if (Value* y = ctx.output(0)) {
    y->dtype = t;
    y->rank_known = x->rank_known;
    y->dims = x->rank_known ? std::vector<int64_t>{b, c, l} : std::vector<int64_t>{};
  }
  if (Value* s = ctx.output(1)) {
    s->dtype = t;
    s->rank_known = true;
    s->dims = {b, c, k < 0 ? -1 : k - 1};
  }
}

// MACs = B x C x L x k (depthwise); FLOPs = 2 x MACs + bias add + fused SiLU (Sigmoid + multiply) per output.
Cost cost_causal_conv(const OpContext& ctx) {
  const Value* w = ctx.input(1);
  const Value* y = ctx.output(0);
  if (!w || !y || !w->shape_known() || !y->shape_known()) return {0, 0, false};
  const int64_t out = product(y->dims);
  const int64_t macs = mul_sat(out, w->dims[2]);
  int64_t flops = mul_sat(macs, cost::kFlopsPerMac);
  if (ctx.input(2)) flops = add_sat(flops, out);
  const std::string_view act = ctx.attr_string("activation", "none");
  if (act == "silu" || act == "swish")
    flops = add_sat(flops, mul_sat(out, cost::elementwise_flops_per_element("Sigmoid") + 1));
  return {macs, flops, true};
}

// com.microsoft FusedConv: Conv (X, W, B) + optional residual Z added + activation, as onnxruntime fuses them.
void infer_fused_conv(OpContext& ctx) { infer_conv_like(ctx, 0, 1, 2, data_type(ctx, 0, 1)); }

Cost cost_fused_conv(const OpContext& ctx) {
  Cost c = cost_conv_like(ctx, 1, ctx.input(2) != nullptr);
  if (!c.known) return c;
  const int64_t out = product(ctx.output(0)->dims);
  const std::string activation(ctx.attr_string("activation", ""));
  if (!activation.empty()) {
    const int64_t per = cost::elementwise_flops_per_element(activation);
    if (per < 0) return {0, 0, false};
    c.flops = add_sat(c.flops, mul_sat(out, per));
  }
  if (ctx.input(3)) c.flops = add_sat(c.flops, out);  // residual add
  return c;
}

}  // namespace

void register_conv(OpRegistry& r) {
  OpDef conv{infer_conv, cost_conv}, conv_transpose{infer_conv_transpose, cost_conv_transpose};
  conv.product = conv_transpose.product = true;  // X is data, W the weight
  r.add("", "Conv", conv);
  r.add("", "ConvTranspose", conv_transpose);
  // offsets and masks are activations, not weights
  r.add("", "DeformConv", OpDef{infer_deform_conv, cost_deform_conv, (1ull << 0) | (1ull << 1) | (1ull << 3)});
  r.add("", "Col2Im", OpDef{infer_col2im, cost_col2im, 1ull << 0});
  // the carried state is not a weight
  r.add("", "CausalConvWithState",
        OpDef{infer_causal_conv, cost_causal_conv, (1ull << 0) | (1ull << 1) | (1ull << 2)});
  r.add("com.microsoft", "FusedConv", OpDef{infer_fused_conv, cost_fused_conv, (1ull << 0) | (1ull << 1) | (1ull << 2)});
}

}  // namespace netscore::graph
