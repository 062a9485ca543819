// Small helpers every op family uses: OpDef input masks, dims in messages, reading inputs, setting outputs,
// the shared shape rule "like input 0", the per-element cost rule and the auto_pad attribute.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/op_registry.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

// Bit i of an OpDef input mask (param_inputs, stat_inputs).
constexpr uint64_t bit(int i) { return 1ull << i; }

// "[1,3,224,224]" for error messages (-1 for an unknown dim).
inline std::string dims_str(IntsView d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size; ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// OpContext::attr_ints without the copy: a view of the attribute's list (or of its single INT value), valid
// while the node is; empty when absent.
inline IntsView attr_ints_view(const OpContext& ctx, std::string_view name) {
  const onnx::Attribute* a = ctx.attr(name);
  if (!a) return {};
  if (a->type == onnx::AttrType::kInts) return IntsView(a->ints);
  if (a->type == onnx::AttrType::kInt) return IntsView(&a->i, 1);  // lenient, as attr_ints
  ctx.attr_ints(name);  // throws the same error as attr_ints
  return {};
}

// Integer and bool tensors keep their values in Value::ints, the others in Value::floats.
inline bool int_storage(int32_t dtype) { return onnx::is_integer_type(dtype); }

// The op's first input, which it cannot do without; `label` names it in the error.
inline const Value& data_input(const OpContext& ctx, std::string_view label = "X") {
  const Value* x = ctx.input(0);
  if (!x) ctx.fail("missing input " + std::string(label));
  return *x;
}

// Output i (when present) := dtype and, when the rank is known, dims; an unknown rank leaves dims empty.
inline void set_output(OpContext& ctx, size_t i, int32_t dtype, bool rank_known, const std::vector<int64_t>& dims) {
  if (Value* v = ctx.output(i)) {
    v->dtype = dtype;
    v->rank_known = rank_known;
    if (rank_known) v->dims.assign(dims.begin(), dims.end());  // reuses the value's buffer
    else v->dims.clear();
  }
}
inline void set_output(OpContext& ctx, size_t i, int32_t dtype, const std::vector<int64_t>& dims) {
  set_output(ctx, i, dtype, true, dims);
}

// A rank read from the model (the length of a shape input, of image_shape): fails above kMaxRank, so
// nothing is allocated from an untrusted count.
inline size_t checked_rank(const OpContext& ctx, int64_t rank) {
  if (rank > kMaxRank)
    ctx.fail("output rank " + std::to_string(rank) + " is above the limit of " + std::to_string(kMaxRank) + " dims");
  return static_cast<size_t>(rank);
}

// Output `o` (when present) := dtype and dims, rank known.
inline void set_out(Value* o, int32_t dtype, const std::vector<int64_t>& dims) {
  if (!o) return;
  o->dtype = dtype;
  o->rank_known = true;
  o->dims.assign(dims.begin(), dims.end());  // reuses the value's buffer
}

// Known values of an input, as integers (floats truncated); false when not known or not representable.
inline bool read_ints(const Value* v, std::vector<int64_t>& out) {
  if (!v || !v->values_known) return false;
  if (int_storage(v->dtype)) {
    out = v->ints;
    return true;
  }
  out.resize(v->floats.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const double f = v->floats[i];
    if (!std::isfinite(f) || std::fabs(f) > 9.2e18) return false;
    out[i] = static_cast<int64_t>(f);
  }
  return true;
}

// Inputs 0 .. N-1 of an op that needs them all; fails with `problem` ("needs X and W") when one is omitted.
template <size_t N>
std::array<const Value*, N> required_inputs(const OpContext& ctx, const char* problem) {
  std::array<const Value*, N> v{};
  for (size_t i = 0; i < N; ++i)
    if (!(v[i] = ctx.input(i))) ctx.fail(problem);
  return v;
}

// Whether a value of these dims is small enough to compute its elements while folding (the decoder's limit).
inline bool small_enough(const std::vector<int64_t>& dims) {
  const int64_t n = product(dims);
  return n >= 0 && n <= onnx::kMaxDecodedElements;
}

// Shape rule of the ops whose output 0 has input 0's type and shape (unary activations, Trilu, Scatter*, ...).
inline void infer_same_as_input0(OpContext& ctx) {
  const Value& x = data_input(ctx);
  set_output(ctx, 0, x.dtype, x.rank_known, x.dims);
}

// Cost rule: `flops` FLOPs (no MACs) per element of `v`; unknown when v is absent or its shape unknown.
inline Cost per_element(const Value* v, int64_t flops) {
  if (!v || !v->shape_known()) return {0, 0, false};
  return {0, mul_sat(product(v->dims), flops), true};
}

// auto_pad of Conv, ConvTranspose, the pooling ops and their quantized forms, with ONNX's default (NOTSET);
// window::parse_auto_pad (netscore/window.h) gives the typed value.
inline constexpr std::string_view kAutoPadDefault = "NOTSET";
inline std::string_view auto_pad_attr(const OpContext& ctx) { return ctx.attr_string("auto_pad", kAutoPadDefault); }

}  // namespace netscore::graph
