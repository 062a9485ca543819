// Pooling ops: MaxPool, AveragePool, LpPool (window shared with Conv), global pools, MaxUnpool, MaxRoiPool,
// RoiAlign.
// FLOPs: one comparison or add per window element per output, plus one divide per output for averages.
#include <string>

#include "graph/ops/attrs.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

PoolAttrs parse_pool_attrs(const OpContext& ctx) {
  PoolAttrs a;
  a.kernel_shape = attr_ints_view(ctx, "kernel_shape");
  a.strides = attr_ints_view(ctx, "strides");
  a.dilations = attr_ints_view(ctx, "dilations");
  a.pads = attr_ints_view(ctx, "pads");
  a.auto_pad = window::parse_auto_pad(auto_pad_attr(ctx));
  a.ceil_mode = ctx.attr_int("ceil_mode", 0) != 0;
  a.count_include_pad = ctx.attr_int("count_include_pad", 0) != 0;
  return a;
}

namespace {

// MaxPool, AveragePool, LpPool: (N, C, spatial...) -> (N, C, window_output(spatial)).
void infer_window_pool(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const PoolAttrs a = parse_pool_attrs(ctx);
  const IntsView ks = a.kernel_shape;
  if (ks.empty()) ctx.fail("kernel_shape is required");
  if (Value* y = ctx.output(0)) y->dtype = x.dtype;
  if (Value* ind = ctx.output(1)) ind->dtype = onnx::kInt64;
  std::vector<int64_t> dims(ks.size + 2, -1);
  if (x.rank_known) {
    if (x.dims.size() != ks.size + 2)
      ctx.fail("input rank " + std::to_string(x.dims.size()) + " does not match kernel_shape " + dims_str(ks));
    dims = x.dims;
  }
  const std::vector<int64_t> spatial(dims.begin() + 2, dims.end());
  if ((!a.strides.empty() && a.strides.size != ks.size) || (!a.dilations.empty() && a.dilations.size != ks.size) ||
      (!a.pads.empty() && a.pads.size != 2 * ks.size))
    ctx.fail("strides, dilations or pads do not match kernel_shape " + dims_str(ks));
  auto r = window_output(spatial, ks, a.strides, a.dilations, a.pads, a.auto_pad, a.ceil_mode);
  if (!r) ctx.fail("kernel " + dims_str(ks) + " does not fit input " + dims_str(spatial));
  for (size_t i = 0; i < ks.size; ++i) dims[2 + i] = r->out[i];
  set_output(ctx, 0, x.dtype, dims);
  if (ctx.output(1)) set_output(ctx, 1, onnx::kInt64, dims);
}

int64_t window_size(const OpContext& ctx) {
  int64_t n = 1;
  for (int64_t k : parse_pool_attrs(ctx).kernel_shape) n = k < 0 ? -1 : mul_sat(n, k);
  return n;
}

Cost window_cost(const OpContext& ctx, int64_t per_window_element, int64_t per_output) {
  const Value* y = ctx.output(0);
  if (!y || !y->shape_known()) return {0, 0, false};
  const int64_t out = product(y->dims);
  return {0, add_sat(mul_sat(out, mul_sat(window_size(ctx), per_window_element)), mul_sat(out, per_output)), true};
}

Cost cost_max_pool(const OpContext& ctx) { return window_cost(ctx, 1, 0); }       // one compare per element
Cost cost_average_pool(const OpContext& ctx) { return window_cost(ctx, 1, 1); }   // adds + one divide
Cost cost_lp_pool(const OpContext& ctx) { return window_cost(ctx, 3, 1); }        // |x|, ^p, add; one root

// Global pools: (N, C, spatial...) -> (N, C, 1, ...).
void infer_global_pool(OpContext& ctx) {
  const Value& x = data_input(ctx);
  if (Value* y = ctx.output(0)) y->dtype = x.dtype;
  if (!x.rank_known) return;
  if (x.dims.size() < 2) ctx.fail("input must have rank >= 2, got " + dims_str(x.dims));
  std::vector<int64_t> dims = x.dims;
  for (size_t i = 2; i < dims.size(); ++i) dims[i] = 1;
  set_output(ctx, 0, x.dtype, dims);
}

Cost global_cost(const OpContext& ctx, int64_t per_input, int64_t per_output) {
  const Value* x = ctx.input(0);
  const Value* y = ctx.output(0);
  if (!x || !y || !x->shape_known() || !y->shape_known()) return {0, 0, false};
  return {0, add_sat(mul_sat(product(x->dims), per_input), mul_sat(product(y->dims), per_output)), true};
}

Cost cost_global_max(const OpContext& ctx) { return global_cost(ctx, 1, 0); }
Cost cost_global_average(const OpContext& ctx) { return global_cost(ctx, 1, 1); }
Cost cost_global_lp(const OpContext& ctx) { return global_cost(ctx, 3, 1); }

// MaxUnpool: X and indices I from MaxPool; output spatial = (in - 1) * stride + kernel - pads, or the values of
// the optional output_shape input.
void infer_max_unpool(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const std::vector<int64_t> ks = ctx.attr_ints("kernel_shape");
  if (ks.empty()) ctx.fail("kernel_shape is required");
  if (Value* y = ctx.output(0)) y->dtype = x.dtype;
  const Value* shape = ctx.input(2);
  if (shape) {
    if (shape->values_known) set_output(ctx, 0, x.dtype, shape->ints);
    else if (shape->shape_known() && shape->dims.size() == 1)
      set_output(ctx, 0, x.dtype, std::vector<int64_t>(checked_rank(ctx, shape->dims[0]), -1));
    return;
  }
  if (!x.rank_known) return;
  if (x.dims.size() != ks.size() + 2)
    ctx.fail("input rank " + std::to_string(x.dims.size()) + " does not match kernel_shape " + dims_str(ks));
  const std::vector<int64_t> strides = ctx.attr_ints("strides"), pads = ctx.attr_ints("pads");
  if ((!strides.empty() && strides.size() != ks.size()) || (!pads.empty() && pads.size() != 2 * ks.size()))
    ctx.fail("strides or pads do not match kernel_shape " + dims_str(ks));
  std::vector<int64_t> dims = x.dims;
  const size_t n = ks.size();
  for (size_t i = 0; i < n; ++i) {
    const int64_t in = x.dims[2 + i];
    if (in < 0) continue;
    const int64_t s = strides.empty() ? 1 : strides[i];
    const int64_t pad = pads.empty() ? 0 : pads[i] + pads[i + n];
    constexpr int64_t kBig = int64_t{1} << 31;  // keeps the size arithmetic in range
    if (s < 1 || s > kBig || ks[i] < 1 || ks[i] > kBig || pad < 0 || pad > kBig)
      ctx.fail("kernel_shape, strides or pads out of range");
    dims[2 + i] = in == 0 ? ks[i] - s - pad : add_sat(mul_sat(in - 1, s), ks[i]) - pad;
  }
  set_output(ctx, 0, x.dtype, dims);
}

// MaxRoiPool: X (N, C, H, W), rois (num_rois, 5) -> (num_rois, C, pooled_h, pooled_w).
void infer_max_roi_pool(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const Value* rois = ctx.input(1);
  if (!rois) ctx.fail("missing input rois");
  const std::vector<int64_t> pooled = ctx.attr_ints("pooled_shape");
  if (pooled.size() != 2 || pooled[0] < 1 || pooled[1] < 1) ctx.fail("pooled_shape must hold 2 positive values");
  if (x.rank_known && x.dims.size() != 4) ctx.fail("X must be 4-D, got " + dims_str(x.dims));
  if (rois->rank_known && rois->dims.size() != 2) ctx.fail("rois must be 2-D, got " + dims_str(rois->dims));
  set_output(ctx, 0, x.dtype,
             {rois->rank_known ? rois->dims[0] : -1, x.rank_known ? x.dims[1] : -1, pooled[0], pooled[1]});
}

// Region sizes are data-dependent: counted as if each region covered the whole feature map (an upper bound).
Cost cost_max_roi_pool(const OpContext& ctx) {
  const Value* x = ctx.input(0);
  const Value* y = ctx.output(0);
  if (!x || !y || !x->shape_known() || !y->shape_known()) return {0, 0, false};
  const int64_t cells_h = (x->dims[2] + y->dims[2] - 1) / y->dims[2];
  const int64_t cells_w = (x->dims[3] + y->dims[3] - 1) / y->dims[3];
  return {0, mul_sat(product(y->dims), mul_sat(cells_h, cells_w)), true};
}

// RoiAlign: X (N, C, H, W), rois (num_rois, 4), batch_indices -> (num_rois, C, output_height, output_width).
void infer_roi_align(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const Value* rois = ctx.input(1);
  if (!rois || !ctx.input(2)) ctx.fail("needs rois and batch_indices");
  if (x.rank_known && x.dims.size() != 4) ctx.fail("X must be 4-D, got " + dims_str(x.dims));
  if (rois->rank_known && rois->dims.size() != 2) ctx.fail("rois must be 2-D, got " + dims_str(rois->dims));
  const int64_t oh = ctx.attr_int("output_height", 1), ow = ctx.attr_int("output_width", 1);
  if (oh < 1 || ow < 1) ctx.fail("output_height and output_width must be >= 1");
  set_output(ctx, 0, x.dtype, {rois->rank_known ? rois->dims[0] : -1, x.rank_known ? x.dims[1] : -1, oh, ow});
}

// sampling_ratio^2 bilinear samples per output (4 taps x multiply + add = 8) plus one accumulate each; the
// adaptive ratio (0) depends on the regions and is counted as 2.
Cost cost_roi_align(const OpContext& ctx) {
  const Value* y = ctx.output(0);
  if (!y || !y->shape_known()) return {0, 0, false};
  int64_t s = ctx.attr_int("sampling_ratio", 0);
  if (s <= 0) s = 2;
  return {0, mul_sat(product(y->dims), mul_sat(mul_sat(s, s), 9)), true};
}

}  // namespace

void register_pool(OpRegistry& r) {
  r.add("", "MaxPool", OpDef{infer_window_pool, cost_max_pool});
  r.add("", "AveragePool", OpDef{infer_window_pool, cost_average_pool});
  r.add("", "LpPool", OpDef{infer_window_pool, cost_lp_pool});
  r.add("", "GlobalMaxPool", OpDef{infer_global_pool, cost_global_max});
  r.add("", "GlobalAveragePool", OpDef{infer_global_pool, cost_global_average});
  r.add("", "GlobalLpPool", OpDef{infer_global_pool, cost_global_lp});
  r.add("", "MaxUnpool", OpDef{infer_max_unpool, nullptr, bit(0)});  // indices and output_shape are not weights
  r.add("", "MaxRoiPool", OpDef{infer_max_roi_pool, cost_max_roi_pool, bit(0)});
  r.add("", "RoiAlign", OpDef{infer_roi_align, cost_roi_align, bit(0)});
}

}  // namespace netscore::graph
