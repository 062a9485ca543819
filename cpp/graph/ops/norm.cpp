// Normalisation ops: BatchNormalization, LayerNormalization, InstanceNormalization, GroupNormalization, LRN,
// MeanVarianceNormalization, RMSNormalization, LpNormalization, and onnxruntime's SimplifiedLayerNormalization. No MACs; FLOPs per element in docs/counting.md.
#include <string>

#include "graph/ops/attrs.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

// FLOPs per element of the normalise step: mean (add), subtract mean, square, variance (add), multiply by the
// inverse standard deviation. Per-row constants (divide by count, sqrt) are ignored.
constexpr int64_t kNormalizeFlops = 5;

// Y has X's type and shape.
void infer_same_as_input(OpContext& ctx) {
  const Value& x = data_input(ctx);
  set_output(ctx, 0, x.dtype, x.rank_known, x.dims);
}

// A per-channel input (scale, bias, mean, var) must hold C values when both are known.
void check_channels(const OpContext& ctx, size_t index, const char* what, int64_t channels) {
  const Value* v = ctx.input(index);
  if (!v || !v->rank_known || v->dims.size() != 1 || channels < 0 || v->dims[0] < 0) return;
  if (v->dims[0] != channels)
    ctx.fail(std::string(what) + " has " + std::to_string(v->dims[0]) + " values for " + std::to_string(channels) +
             " channels");
}

int64_t channels_of(const Value& x) { return x.rank_known && x.dims.size() >= 2 ? x.dims[1] : -1; }

Cost per_element(const OpContext& ctx, int64_t flops) {
  const int64_t n = ctx.input(0) ? ctx.input(0)->numel() : -1;  // -1 unless the shape is known
  if (n < 0) return {0, 0, false};
  return {0, mul_sat(n, flops), true};
}

}  // namespace

// ---- BatchNormalization ----
// Outputs past Y: running mean and variance (opset 14+, training_mode), or mean, var, saved mean, saved var
// (opset < 14, training); each has C values.
BatchNormAttrs parse_batch_norm_attrs(const OpContext& ctx) {
  BatchNormAttrs a;
  if (ctx.opset() >= 14) {
    a.training_mode = ctx.attr_int("training_mode", 0) != 0;
  } else {
    for (size_t i = 1; i < ctx.num_outputs() && !a.training_mode; ++i) a.training_mode = ctx.output(i) != nullptr;
  }
  return a;
}

namespace {

void infer_batch_norm(OpContext& ctx) {
  const Value& x = data_input(ctx);
  if (ctx.num_inputs() < 5) ctx.fail("needs 5 inputs (X, scale, B, mean, var)");
  const int64_t c = channels_of(x);
  check_channels(ctx, 1, "scale", c);
  check_channels(ctx, 2, "B", c);
  check_channels(ctx, 3, "mean", c);
  check_channels(ctx, 4, "var", c);
  set_output(ctx, 0, x.dtype, x.rank_known, x.dims);
  int64_t c_known = c;
  for (size_t i = 1; i < 5 && c_known < 0; ++i)
    if (const Value* v = ctx.input(i); v && v->rank_known && v->dims.size() == 1) c_known = v->dims[0];
  for (size_t i = 1; i < ctx.num_outputs(); ++i) {
    Value* o = ctx.output(i);
    if (!o) continue;
    const Value* src = ctx.input(i <= 2 ? 2 + i : i);  // mean/var-like outputs take the type of mean/var
    o->dtype = src && src->dtype ? src->dtype : x.dtype;
    o->rank_known = true;
    o->dims.assign(1, c_known);
  }
}

// Inference: 2 FLOPs per element (scale and shift once the statistics are folded into them).
// Training: batch statistics add mean, subtract, square and variance accumulation (4 more).
Cost cost_batch_norm(const OpContext& ctx) { return per_element(ctx, parse_batch_norm_attrs(ctx).training_mode ? 6 : 2); }

// Y like X, and outputs 1 .. last_stat (those present) holding per-row statistics: X's dims [0, axis), ones
// after (type stash_type).
void infer_normalized_with_stats(OpContext& ctx, size_t last_stat) {
  const Value& x = data_input(ctx);
  set_output(ctx, 0, x.dtype, x.rank_known, x.dims);
  if (last_stat == 0) return;
  const int32_t stash = static_cast<int32_t>(ctx.attr_int("stash_type", onnx::kFloat));
  std::vector<int64_t> stat;
  if (x.rank_known) {
    auto axis = normalize_axis(ctx.attr_int("axis", -1), static_cast<int64_t>(x.dims.size()));
    if (!axis) ctx.fail("axis out of range for input " + dims_str(x.dims));
    stat = x.dims;
    for (size_t i = static_cast<size_t>(*axis); i < stat.size(); ++i) stat[i] = 1;
  }
  for (size_t i = 1; i <= last_stat; ++i) set_output(ctx, i, stash, x.rank_known, stat);
}

// ---- LayerNormalization (opset 17): normalise over dims [axis, rank); Mean / InvStdDev keep dims [0, axis).
void infer_layer_norm(OpContext& ctx) { infer_normalized_with_stats(ctx, 2); }

// normalise (5) + scale (1) + bias (1 when B is given)
Cost cost_layer_norm(const OpContext& ctx) { return per_element(ctx, kNormalizeFlops + 1 + (ctx.input(2) ? 1 : 0)); }

// ---- InstanceNormalization: per (N, C) over spatial dims; scale and B have C values.
void infer_instance_norm(OpContext& ctx) {
  const Value& x = data_input(ctx);
  check_channels(ctx, 1, "scale", channels_of(x));
  check_channels(ctx, 2, "B", channels_of(x));
  infer_same_as_input(ctx);
}

Cost cost_normalize_scale_shift(const OpContext& ctx) { return per_element(ctx, kNormalizeFlops + 2); }

// ---- GroupNormalization (opset 18: scale/bias per group; opset 21: per channel).
void infer_group_norm(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const int64_t groups = ctx.attr_int("num_groups", -1);
  if (groups < 1) ctx.fail("num_groups is required and must be >= 1");
  const int64_t c = channels_of(x);
  if (c >= 0 && c % groups != 0)
    ctx.fail(std::to_string(c) + " channels are not divisible by num_groups " + std::to_string(groups));
  const int64_t per = ctx.opset() >= 21 ? c : groups;
  check_channels(ctx, 1, "scale", per);
  check_channels(ctx, 2, "bias", per);
  infer_same_as_input(ctx);
}

// ---- LRN: sum of squares over `size` neighbouring channels (2 * size), then bias + alpha * sum, pow, divide.
Cost cost_lrn(const OpContext& ctx) {
  const int64_t size = ctx.attr_int("size", 0);
  if (size < 1) ctx.fail("size is required and must be >= 1");
  return per_element(ctx, 2 * size + 4);
}

void infer_lrn(OpContext& ctx) {
  if (ctx.attr_int("size", 0) < 1) ctx.fail("size is required and must be >= 1");
  infer_same_as_input(ctx);
}

Cost cost_mvn(const OpContext& ctx) { return per_element(ctx, kNormalizeFlops); }
// RMSNormalization: square, accumulate, multiply by the inverse RMS, scale.
Cost cost_rms_norm(const OpContext& ctx) { return per_element(ctx, 4); }
// LpNormalization: |x| or x^2, accumulate, divide by the norm.
Cost cost_lp_norm(const OpContext& ctx) { return per_element(ctx, 3); }

void infer_axis_checked(OpContext& ctx) {
  const Value& x = data_input(ctx);
  if (x.rank_known && !normalize_axis(ctx.attr_int("axis", -1), static_cast<int64_t>(x.dims.size())))
    ctx.fail("axis out of range for input " + dims_str(x.dims));
  infer_same_as_input(ctx);
}

// SimplifiedLayerNormalization (onnxruntime's RMS norm, registered in the default domain): Y, and an optional
// inv_std_var keeping dims [0, axis).
void infer_simplified_layer_norm(OpContext& ctx) { infer_normalized_with_stats(ctx, ctx.output(1) ? 1 : 0); }

}  // namespace

void register_norm(OpRegistry& r) {
  OpDef bn{infer_batch_norm, cost_batch_norm};
  bn.stat_inputs = bit(3) | bit(4);
  r.add("", "BatchNormalization", bn);
  r.add("", "LayerNormalization", OpDef{infer_layer_norm, cost_layer_norm});
  r.add("", "InstanceNormalization", OpDef{infer_instance_norm, cost_normalize_scale_shift});
  r.add("", "GroupNormalization", OpDef{infer_group_norm, cost_normalize_scale_shift});
  r.add("", "LRN", OpDef{infer_lrn, cost_lrn});
  r.add("", "MeanVarianceNormalization", OpDef{infer_same_as_input, cost_mvn});
  r.add("", "RMSNormalization", OpDef{infer_axis_checked, cost_rms_norm});
  r.add("", "LpNormalization", OpDef{infer_axis_checked, cost_lp_norm});
  r.add("", "SimplifiedLayerNormalization", OpDef{infer_simplified_layer_norm, cost_rms_norm});
}

}  // namespace netscore::graph
