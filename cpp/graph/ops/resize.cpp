// Spatial resampling and rearrangement: Resize, Upsample, DepthToSpace, SpaceToDepth, GridSample, AffineGrid.
// Output sizes per spec: floor(in * scale), or `sizes`; FLOPs by interpolation taps (docs/counting.md).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

// An optional input that is omitted or given as an empty tensor counts as absent.
bool present(const Value* v) { return v && !(v->shape_known() && product(v->dims) == 0); }

int64_t scaled(int64_t in, double scale) {
  if (in < 0) return -1;
  // float arithmetic, as the ONNX shape inference and runtimes do; absurd scales saturate (the walker rejects
  // the dim) instead of overflowing the conversion
  const double out = std::floor(static_cast<float>(in) * static_cast<float>(scale));
  return out < 9.0e18 ? static_cast<int64_t>(out) : INT64_MAX;
}

// Resize (opset 10: X, scales; 11+: X, roi, scales, sizes; 18+: axes, keep_aspect_ratio_policy).
void infer_resize(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const bool v10 = ctx.opset() < 11;
  const Value* scales = ctx.input(v10 ? 1 : 2);
  const Value* sizes = v10 ? nullptr : ctx.input(3);
  const bool has_scales = present(scales), has_sizes = present(sizes);
  if (has_scales && has_sizes) ctx.fail("only one of scales and sizes may be given");
  if (!has_scales && !has_sizes && scales == nullptr && sizes == nullptr) ctx.fail("needs scales or sizes");
  if (!x.rank_known) {
    set_output(ctx, 0, x.dtype, false, {});
    return;
  }
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  std::vector<int64_t> axes;
  for (int64_t a : ctx.attr_ints("axes")) {
    auto n = normalize_axis(a, rank);
    if (!n) ctx.fail("axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
    axes.push_back(*n);
  }
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  std::vector<int64_t> dims = x.dims;
  if (has_sizes) {
    if (!sizes->values_known) {
      for (int64_t a : axes) dims[a] = -1;
    } else {
      if (sizes->ints.size() != axes.size())
        ctx.fail("sizes has " + std::to_string(sizes->ints.size()) + " values for " + std::to_string(axes.size()) +
                 " axes");
      const std::string_view policy = ctx.attr_string("keep_aspect_ratio_policy", "stretch");
      if (policy == "stretch") {
        for (size_t i = 0; i < axes.size(); ++i) dims[axes[i]] = sizes->ints[i];
      } else {
        if (policy != "not_larger" && policy != "not_smaller")
          ctx.fail("unknown keep_aspect_ratio_policy '" + std::string(policy) + "'");
        // one common scale for all axes (the smallest or largest ratio), output rounded half up
        bool known = true;
        double scale = policy == "not_larger" ? INFINITY : 0.0;
        for (size_t i = 0; i < axes.size(); ++i) {
          const int64_t in = x.dims[axes[i]];
          if (in <= 0) { known = false; break; }
          const double ratio = static_cast<double>(sizes->ints[i]) / static_cast<double>(in);
          scale = policy == "not_larger" ? std::min(scale, ratio) : std::max(scale, ratio);
        }
        for (int64_t a : axes)
          dims[a] = known ? static_cast<int64_t>(scale * static_cast<double>(x.dims[a]) + 0.5) : -1;
      }
    }
  } else if (has_scales) {
    if (!scales->values_known) {
      for (int64_t a : axes) dims[a] = -1;
    } else {
      if (scales->floats.size() != axes.size())
        ctx.fail("scales has " + std::to_string(scales->floats.size()) + " values for " +
                 std::to_string(axes.size()) + " axes");
      for (size_t i = 0; i < axes.size(); ++i) {
        if (!(scales->floats[i] > 0)) ctx.fail("scales must be positive");
        dims[axes[i]] = scaled(x.dims[axes[i]], scales->floats[i]);
      }
    }
  } else {
    for (int64_t a : axes) dims[a] = -1;  // scales or sizes given with an unknown (possibly empty) shape
  }
  set_output(ctx, 0, x.dtype, true, dims);
}

// Upsample: scales attribute (opset < 9) or input 1 (opset 9); floor(in * scale).
void infer_upsample(OpContext& ctx) {
  const Value& x = data_input(ctx);
  std::vector<double> scales;
  bool known = true;
  if (ctx.opset() >= 9) {
    const Value* s = ctx.input(1);
    if (!s) ctx.fail("missing input scales");
    known = s->values_known;
    scales = s->floats;
  } else {
    for (float f : ctx.attr_floats("scales")) scales.push_back(f);
    if (scales.empty()) {  // opset 1 used height_scale / width_scale on 4-D input
      scales = {1.0, 1.0, ctx.attr_float("height_scale", 1.0f), ctx.attr_float("width_scale", 1.0f)};
    }
  }
  if (!x.rank_known) {
    set_output(ctx, 0, x.dtype, false, {});
    return;
  }
  std::vector<int64_t> dims(x.dims.size(), -1);
  if (known) {
    if (scales.size() != x.dims.size())
      ctx.fail("scales has " + std::to_string(scales.size()) + " values for rank " + std::to_string(x.dims.size()));
    for (size_t i = 0; i < dims.size(); ++i) dims[i] = scaled(x.dims[i], scales[i]);
  }
  set_output(ctx, 0, x.dtype, true, dims);
}

// Interpolation taps per output element over d resampled axes: nearest 0 (a gather), linear 2^d, cubic 4^d;
// each tap is a multiply and an add.
int64_t taps(std::string_view mode, int64_t d) {
  if (d == 0 || mode == "nearest") return 0;
  const int64_t base = (mode == "cubic" || mode == "bicubic") ? 4 : 2;
  int64_t t = 1;
  for (int64_t i = 0; i < d; ++i) t *= base;
  return t;
}

Cost cost_resample(const OpContext& ctx) {
  const Value* x = ctx.input(0);
  const Value* y = ctx.output(0);
  if (!x || !y || !x->shape_known() || !y->shape_known() || x->dims.size() != y->dims.size()) return {0, 0, false};
  int64_t d = 0;
  for (size_t i = 0; i < x->dims.size(); ++i) d += x->dims[i] != y->dims[i];
  const int64_t t = taps(ctx.attr_string("mode", "nearest"), d);
  return {0, mul_sat(product(y->dims), 2 * t), true};
}

// DepthToSpace: (N, C, H, W) -> (N, C / b^2, H * b, W * b); SpaceToDepth is the inverse.
void infer_depth_space(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const int64_t b = ctx.attr_int("blocksize", 0);
  if (b < 1 || b > (int64_t{1} << 20)) ctx.fail("blocksize must be in [1, 2^20], got " + std::to_string(b));
  if (!x.rank_known) {
    set_output(ctx, 0, x.dtype, false, {});
    return;
  }
  if (x.dims.size() != 4) ctx.fail("input must be 4-D, got " + dims_str(x.dims));
  std::vector<int64_t> d = x.dims;
  if (ctx.node().op_type == "DepthToSpace") {
    if (d[1] >= 0 && d[1] % (b * b) != 0)
      ctx.fail("channels " + std::to_string(d[1]) + " not divisible by blocksize^2 = " + std::to_string(b * b));
    d = {d[0], d[1] < 0 ? -1 : d[1] / (b * b), mul_sat(d[2], b), mul_sat(d[3], b)};
  } else {
    for (int i = 2; i < 4; ++i)
      if (d[i] >= 0 && d[i] % b != 0)
        ctx.fail("spatial dim " + std::to_string(d[i]) + " not divisible by blocksize " + std::to_string(b));
    d = {d[0], mul_sat(d[1], b * b), d[2] < 0 ? -1 : d[2] / b, d[3] < 0 ? -1 : d[3] / b};
  }
  set_output(ctx, 0, x.dtype, true, d);
}

// GridSample: X (N, C, D1..Dr), grid (N, O1..Or, r) -> (N, C, O1..Or).
void infer_grid_sample(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const Value* grid = ctx.input(1);
  if (!grid) ctx.fail("missing input grid");
  if (!x.rank_known && !grid->rank_known) {
    set_output(ctx, 0, x.dtype, false, {});
    return;
  }
  const size_t rank = x.rank_known ? x.dims.size() : grid->dims.size();
  if (rank < 3) ctx.fail("input must have rank >= 3");
  if (x.rank_known && grid->rank_known && grid->dims.size() != rank)
    ctx.fail("grid " + dims_str(grid->dims) + " does not match input rank " + std::to_string(rank));
  std::vector<int64_t> d(rank, -1);
  if (x.rank_known) d[0] = x.dims[0], d[1] = x.dims[1];
  if (grid->rank_known) {
    if (d[0] < 0) d[0] = grid->dims[0];
    for (size_t i = 2; i < rank; ++i) d[i] = grid->dims[i - 1];
  }
  set_output(ctx, 0, x.dtype, true, d);
}

Cost cost_grid_sample(const OpContext& ctx) {
  const Value* y = ctx.output(0);
  if (!y || !y->shape_known()) return {0, 0, false};
  const int64_t t = taps(ctx.attr_string("mode", "linear"), static_cast<int64_t>(y->dims.size()) - 2);
  return {0, mul_sat(product(y->dims), 2 * t), true};
}

// AffineGrid: theta (N, r, r + 1), size = [N, C, spatial...] -> (N, spatial..., r).
void infer_affine_grid(OpContext& ctx) {
  const Value& theta = data_input(ctx);
  const Value* size = ctx.input(1);
  if (!size) ctx.fail("missing input size");
  if (size->values_known) {
    if (size->ints.size() != 4 && size->ints.size() != 5) ctx.fail("size must have 4 or 5 values");
    std::vector<int64_t> d = {size->ints[0]};
    d.insert(d.end(), size->ints.begin() + 2, size->ints.end());
    d.push_back(static_cast<int64_t>(size->ints.size()) - 2);
    set_output(ctx, 0, theta.dtype, true, d);
  } else if (size->shape_known() && size->dims.size() == 1 && (size->dims[0] == 4 || size->dims[0] == 5)) {
    std::vector<int64_t> d(static_cast<size_t>(size->dims[0] - 1), -1);
    d.back() = size->dims[0] - 2;
    set_output(ctx, 0, theta.dtype, true, d);
  } else {
    set_output(ctx, 0, theta.dtype, false, {});
  }
}

// Each output point is theta (r x (r + 1)) times [coords, 1]: r * (r + 1) multiplies and adds.
Cost cost_affine_grid(const OpContext& ctx) {
  const Value* y = ctx.output(0);
  if (!y || !y->shape_known() || y->dims.empty()) return {0, 0, false};
  const int64_t r = y->dims.back();
  return {0, mul_sat(product(y->dims) / std::max<int64_t>(r, 1), 2 * r * (r + 1)), true};
}

}  // namespace

void register_resize(OpRegistry& r) {
  r.add("", "Resize", OpDef{infer_resize, cost_resample, bit(0)});      // roi, scales, sizes are not weights
  r.add("", "Upsample", OpDef{infer_upsample, cost_resample, bit(0)});
  r.add("", "DepthToSpace", OpDef{infer_depth_space, nullptr});
  r.add("", "SpaceToDepth", OpDef{infer_depth_space, nullptr});
  r.add("", "GridSample", OpDef{infer_grid_sample, cost_grid_sample});
  r.add("", "AffineGrid", OpDef{infer_affine_grid, cost_affine_grid, bit(0)});
}

}  // namespace netscore::graph
