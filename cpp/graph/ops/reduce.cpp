// Reductions and the softmax family: Reduce*, Softmax, LogSoftmax, Hardmax, ArgMax/ArgMin, TopK, CumSum,
// CumProd, and the losses built on them (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss).
// Small known ReduceSum/Prod/Max/Min/Mean inputs are folded (dynamic exports compute numel this way).
#include <algorithm>
#include <cmath>
#include <string>

#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

int64_t checked_axis(const OpContext& ctx, int64_t axis, size_t rank) {
  auto a = normalize_axis(axis, static_cast<int64_t>(rank));
  if (!a) ctx.fail("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return *a;
}

// ---- Reduce* ----
struct ReduceSpec {
  bool axes_known = true;        // false: an axes input whose values are unknown
  int64_t axes_count = -1;       // number of axes when only the axes input's length is known
  std::vector<int64_t> axes;     // as given (may be negative)
  bool identity = false;         // empty axes with noop_with_empty_axes
  bool keepdims = true;
};

ReduceSpec reduce_spec(const OpContext& ctx) {
  ReduceSpec s;
  s.keepdims = ctx.attr_int("keepdims", 1) != 0;
  const bool axes_input = ctx.node().op_type == "ReduceSum" ? ctx.opset() >= 13 : ctx.opset() >= 18;
  if (axes_input) {
    if (const Value* a = ctx.input(1)) {
      if (a->values_known) {
        s.axes = a->ints;
      } else {
        s.axes_known = false;
        if (a->shape_known() && a->dims.size() == 1) {
          s.axes_count = a->dims[0];
          if (s.axes_count == 0) s.axes_known = true;  // an empty axes tensor
        }
      }
    }
  } else {
    s.axes = ctx.attr_ints("axes");
  }
  s.identity = s.axes_known && s.axes.empty() && ctx.attr_int("noop_with_empty_axes", 0) != 0;
  return s;
}

// Fold a reduction over small known values (row-major; `reduced` marks the reduced axes).
template <typename T>
std::vector<T> fold_reduce(std::string_view op, const std::vector<T>& in, const std::vector<int64_t>& dims,
                           const std::vector<bool>& reduced) {
  std::vector<int64_t> out_dims;
  for (size_t i = 0; i < dims.size(); ++i) out_dims.push_back(reduced[i] ? 1 : dims[i]);
  const int64_t out_n = product(out_dims);
  std::vector<T> out(static_cast<size_t>(out_n));
  std::vector<int64_t> count(static_cast<size_t>(out_n), 0);
  std::vector<int64_t> idx(dims.size(), 0);
  for (size_t flat = 0; flat < in.size(); ++flat) {
    int64_t o = 0;
    for (size_t d = 0; d < dims.size(); ++d) o = o * out_dims[d] + (reduced[d] ? 0 : idx[d]);
    T& acc = out[static_cast<size_t>(o)];
    const T v = in[flat];
    if (count[o]++ == 0) acc = v;
    else if (op == "ReduceSum" || op == "ReduceMean") acc += v;
    else if (op == "ReduceProd") acc *= v;
    else if (op == "ReduceMax") acc = std::max(acc, v);
    else acc = std::min(acc, v);
    for (size_t d = dims.size(); d-- > 0;) {  // advance the row-major index
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  for (size_t o = 0; o < out.size(); ++o) {
    if (count[o] == 0) out[o] = op == "ReduceProd" ? T(1) : T(0);  // reducing an empty axis
    else if (op == "ReduceMean") out[o] = out[o] / static_cast<T>(count[o]);
  }
  return out;
}

void infer_reduce(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const ReduceSpec s = reduce_spec(ctx);
  if (s.identity) {
    set_output(ctx, 0, x.dtype, x.rank_known, x.dims);
    if (Value* y = ctx.output(0); y && x.values_known) {
      y->values_known = true;
      y->ints = x.ints;
      y->floats = x.floats;
    }
    return;
  }
  if (!x.rank_known) {
    set_output(ctx, 0, x.dtype, false, {});
    return;
  }
  const size_t rank = x.dims.size();
  if (!s.axes_known) {
    if (s.keepdims) set_output(ctx, 0, x.dtype, true, std::vector<int64_t>(rank, -1));
    else if (s.axes_count >= 0 && s.axes_count <= static_cast<int64_t>(rank))
      set_output(ctx, 0, x.dtype, true, std::vector<int64_t>(rank - s.axes_count, -1));
    else set_output(ctx, 0, x.dtype, false, {});
    return;
  }
  std::vector<bool> reduced(rank, s.axes.empty());
  for (int64_t a : s.axes) reduced[checked_axis(ctx, a, rank)] = true;
  std::vector<int64_t> dims;
  for (size_t i = 0; i < rank; ++i) {
    if (!reduced[i]) dims.push_back(x.dims[i]);
    else if (s.keepdims) dims.push_back(1);
  }
  set_output(ctx, 0, x.dtype, true, dims);
  const std::string_view op = ctx.node().op_type;
  const bool foldable = op == "ReduceSum" || op == "ReduceProd" || op == "ReduceMax" || op == "ReduceMin" ||
                        op == "ReduceMean";
  Value* y = ctx.output(0);
  if (y && foldable && x.values_known && x.shape_known()) {
    if (onnx::is_integer_type(x.dtype) && static_cast<int64_t>(x.ints.size()) == product(x.dims)) {
      y->ints = fold_reduce<int64_t>(op, x.ints, x.dims, reduced);
      y->values_known = true;
    } else if (onnx::is_float_type(x.dtype) && static_cast<int64_t>(x.floats.size()) == product(x.dims)) {
      y->floats = fold_reduce<double>(op, x.floats, x.dims, reduced);
      y->values_known = true;
    }
  }
}

// FLOPs per input element and per output element of each reduction.
struct ReduceFlops {
  std::string_view op;
  int64_t per_input, per_output;
};
constexpr ReduceFlops kReduceFlops[] = {
    {"ReduceSum", 1, 0},       {"ReduceMean", 1, 1},  // adds; one divide per output
    {"ReduceMax", 1, 0},       {"ReduceMin", 1, 0},       {"ReduceProd", 1, 0},
    {"ReduceL1", 2, 0},                                    // abs, add
    {"ReduceL2", 2, 1},                                    // square, add; sqrt per output
    {"ReduceSumSquare", 2, 0},                             // square, add
    {"ReduceLogSum", 1, 1},                                // add; log per output
    {"ReduceLogSumExp", 2, 1},                             // exp, add; log per output
};

Cost cost_reduce(const OpContext& ctx) {
  if (reduce_spec(ctx).identity) return {0, 0, true};
  const Value* x = ctx.input(0);
  const Value* y = ctx.output(0);
  if (!x || !y || !x->shape_known() || !y->shape_known()) return {0, 0, false};
  for (const ReduceFlops& f : kReduceFlops)
    if (f.op == ctx.node().op_type)
      return {0, add_sat(mul_sat(product(x->dims), f.per_input), mul_sat(product(y->dims), f.per_output)), true};
  return {0, 0, false};
}

// ---- Softmax, LogSoftmax, Hardmax: same shape; the axis must exist (default 1 before opset 13, -1 after).
void infer_softmax(OpContext& ctx) {
  const Value& x = data_input(ctx);
  if (x.rank_known && !x.dims.empty()) checked_axis(ctx, ctx.attr_int("axis", ctx.opset() >= 13 ? -1 : 1), x.dims.size());
  set_output(ctx, 0, x.dtype, x.rank_known, x.dims);
}


// Softmax: running max (compare), subtract, exp, sum (add), divide = 5 per element.
Cost cost_softmax(const OpContext& ctx) { return per_element(ctx.input(0), 5); }
// LogSoftmax: max, subtract, exp, sum, subtract log-sum = 5 per element.
Cost cost_log_softmax(const OpContext& ctx) { return per_element(ctx.input(0), 5); }
// Hardmax, ArgMax, ArgMin, CumSum, CumProd: one compare, add or multiply per element.
Cost cost_one_per_element(const OpContext& ctx) { return per_element(ctx.input(0), 1); }

// ---- ArgMax / ArgMin: int64 indices, axis reduced (kept as 1 with keepdims).
void infer_arg_reduce(OpContext& ctx) {
  const Value& x = data_input(ctx);
  if (!x.rank_known) {
    set_output(ctx, 0, onnx::kInt64, false, {});
    return;
  }
  const int64_t axis = checked_axis(ctx, ctx.attr_int("axis", 0), x.dims.size());
  std::vector<int64_t> dims = x.dims;
  if (ctx.attr_int("keepdims", 1) != 0) dims[axis] = 1;
  else dims.erase(dims.begin() + axis);
  set_output(ctx, 0, onnx::kInt64, true, dims);
}

// ---- TopK: k from the attribute (opset 1) or the K input (opset 10+); values and int64 indices.
int64_t topk_k(const OpContext& ctx) {
  if (ctx.opset() < 10) return ctx.attr_int("k", -1);
  const Value* k = ctx.input(1);
  if (!k) ctx.fail("missing input K");
  if (k->values_known && k->ints.size() == 1) {
    if (k->ints[0] < 0) ctx.fail("K must be non-negative");
    return k->ints[0];
  }
  return -1;
}

void infer_topk(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const int64_t k = topk_k(ctx);
  if (!x.rank_known) {
    set_output(ctx, 0, x.dtype, false, {});
    set_output(ctx, 1, onnx::kInt64, false, {});
    return;
  }
  const int64_t axis = checked_axis(ctx, ctx.attr_int("axis", -1), x.dims.size());
  if (k >= 0 && x.dims[axis] >= 0 && k > x.dims[axis])
    ctx.fail("K = " + std::to_string(k) + " exceeds axis size " + std::to_string(x.dims[axis]));
  std::vector<int64_t> dims = x.dims;
  dims[axis] = k;
  set_output(ctx, 0, x.dtype, true, dims);
  set_output(ctx, 1, onnx::kInt64, true, dims);
}

// Selection with a heap of k: about ceil(log2 k) compares per input element (at least one).
Cost cost_topk(const OpContext& ctx) {
  const int64_t k = topk_k(ctx);
  if (k < 0) return {0, 0, false};
  int64_t log2k = 1;
  while ((int64_t{1} << log2k) < k && log2k < 62) ++log2k;
  return per_element(ctx.input(0), log2k);
}

void infer_cumsum(OpContext& ctx) {
  const Value& x = data_input(ctx);
  set_output(ctx, 0, x.dtype, x.rank_known, x.dims);
}

// ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss: input (N, C, d...), target (N, d...);
// reduction "none" keeps the target's shape, "sum" / "mean" give a scalar. SoftmaxCrossEntropyLoss's optional
// log_prob output has the scores' shape.
enum class LossReduction { kNone, kSum, kMean };

// The reduction attribute, ONNX default "mean".
LossReduction loss_reduction(const OpContext& ctx) {
  const std::string_view reduction = ctx.attr_string("reduction", "mean");
  if (reduction == "none") return LossReduction::kNone;
  if (reduction == "sum") return LossReduction::kSum;
  if (reduction != "mean") ctx.fail("unknown reduction '" + std::string(reduction) + "'");
  return LossReduction::kMean;
}

void infer_loss(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const Value* target = ctx.input(1);
  if (!target) ctx.fail("missing the target / labels input");
  const LossReduction reduction = loss_reduction(ctx);
  if (x.rank_known && x.dims.size() < 2) ctx.fail("input must have rank >= 2 (N, C, ...)");
  if (x.rank_known && target->rank_known && target->dims.size() + 1 != x.dims.size())
    ctx.fail("target rank " + std::to_string(target->dims.size()) + " does not fit input rank " +
             std::to_string(x.dims.size()));
  if (reduction != LossReduction::kNone) {
    set_output(ctx, 0, x.dtype, true, {});
  } else if (target->rank_known) {
    std::vector<int64_t> d = target->dims;
    if (x.rank_known)
      for (size_t i = 0; i < d.size(); ++i) if (d[i] < 0) d[i] = x.dims[i == 0 ? 0 : i + 1];
    set_output(ctx, 0, x.dtype, true, d);
  } else if (x.rank_known) {
    std::vector<int64_t> d = x.dims;
    d.erase(d.begin() + 1);
    set_output(ctx, 0, x.dtype, true, d);
  } else {
    set_output(ctx, 0, x.dtype, false, {});
  }
  set_output(ctx, 1, x.dtype, x.rank_known, x.dims);  // log_prob (SoftmaxCrossEntropyLoss)
}

// Per target element: pick, negate, weight (with a weight input), accumulate; plus the divide for "mean".
// SoftmaxCrossEntropyLoss adds LogSoftmax over the scores (5 per score element).
Cost cost_loss(const OpContext& ctx) {
  const Value* x = ctx.input(0);
  if (!x || !x->shape_known() || x->dims.size() < 2) return {0, 0, false};
  const int64_t per_class = x->dims[1];
  const int64_t targets = per_class > 0 ? product(x->dims) / per_class : 0;
  int64_t flops = mul_sat(targets, 2 + (ctx.input(2) ? 1 : 0));
  if (ctx.node().op_type == "SoftmaxCrossEntropyLoss") flops = add_sat(flops, mul_sat(product(x->dims), 5));
  if (loss_reduction(ctx) == LossReduction::kMean) flops = add_sat(flops, 1);
  return {0, flops, true};
}

}  // namespace

void register_reduce(OpRegistry& r) {
  for (const ReduceFlops& f : kReduceFlops) r.add("", f.op, OpDef{infer_reduce, cost_reduce, bit(0)});
  r.add("", "Softmax", OpDef{infer_softmax, cost_softmax});
  r.add("", "LogSoftmax", OpDef{infer_softmax, cost_log_softmax});
  r.add("", "Hardmax", OpDef{infer_softmax, cost_one_per_element});
  r.add("", "ArgMax", OpDef{infer_arg_reduce, cost_one_per_element});
  r.add("", "ArgMin", OpDef{infer_arg_reduce, cost_one_per_element});
  r.add("", "TopK", OpDef{infer_topk, cost_topk, bit(0)});
  r.add("", "CumSum", OpDef{infer_cumsum, cost_one_per_element, bit(0)});
  r.add("", "CumProd", OpDef{infer_cumsum, cost_one_per_element, bit(0)});
  // the class weights may be constants; targets are indices
  r.add("", "NegativeLogLikelihoodLoss", OpDef{infer_loss, cost_loss, bit(0) | bit(2)});
  r.add("", "SoftmaxCrossEntropyLoss", OpDef{infer_loss, cost_loss, bit(0) | bit(2)});
}

}  // namespace netscore::graph
