// Constant producers (Constant, ConstantOfShape, Range, EyeLike) and random generators (never constant).
// Constant and ConstantOfShape outputs are root constants for the params rule (see graph/params.h); their
// inputs (a shape) are never weights. Random* / Bernoulli / Multinomial are registered non-deterministic so
// their outputs are activations even when every input is constant.
#include <cmath>
#include <string>

#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

using Dims = std::vector<int64_t>;

// Floating-point values are materialised only up to this size: shape arithmetic never needs more, and
// filling large weight-like tensors (ConstantOfShape placeholders of stripped models) would dominate.
constexpr int64_t kMaxFloatValues = 64;

bool keep_values(int32_t dtype, int64_t n) {
  return n >= 0 && n <= (int_storage(dtype) ? onnx::kMaxDecodedElements : kMaxFloatValues);
}

// Output := a decoded tensor (dims, dtype, values when the decoder kept them).
void set_from_tensor(Value* o, const onnx::Tensor& t) {
  if (!o) return;
  set_out(o, t.data_type, t.dims);
  if (t.values_known && keep_values(t.data_type, product(t.dims))) {
    o->values_known = true;
    o->ints = t.ints;
    o->floats = t.floats;
  }
}

void infer_constant(OpContext& c) {
  Value* o = c.output(0);
  const onnx::Attribute* a = nullptr;
  for (const onnx::Attribute& at : c.node().attributes)
    if (at.name.substr(0, 5) == "value" || at.name == "sparse_value") {
      if (a) c.fail("needs exactly one value attribute");
      a = &at;
    }
  if (!a) c.fail("has no value attribute");
  if (a->name == "value" || a->name == "sparse_value") {
    if (a->tensors.empty()) c.fail("attribute '" + std::string(a->name) + "' holds no tensor");
    return set_from_tensor(o, a->tensors[0]);
  }
  if (a->name == "value_float") {
    set_out(o, onnx::kFloat, {});
    if (o) o->values_known = true, o->floats = {static_cast<double>(a->f)};
  } else if (a->name == "value_floats") {
    set_out(o, onnx::kFloat, {static_cast<int64_t>(a->floats.size())});
    if (o) {
      o->values_known = keep_values(onnx::kFloat, static_cast<int64_t>(a->floats.size()));
      if (o->values_known) o->floats.assign(a->floats.begin(), a->floats.end());
    }
  } else if (a->name == "value_int") {
    set_out(o, onnx::kInt64, {});
    if (o) o->values_known = true, o->ints = {a->i};
  } else if (a->name == "value_ints") {
    set_out(o, onnx::kInt64, {static_cast<int64_t>(a->ints.size())});
    if (o) {
      o->values_known = a->ints.size() <= static_cast<size_t>(onnx::kMaxDecodedElements);
      if (o->values_known) o->ints = a->ints;
    }
  } else if (a->name == "value_string") {
    set_out(o, onnx::kString, {});
  } else if (a->name == "value_strings") {
    set_out(o, onnx::kString, {static_cast<int64_t>(a->strings.size())});
  } else {
    c.fail("unknown attribute '" + std::string(a->name) + "'");
  }
}

void infer_constant_of_shape(OpContext& c) {
  const Value* s = c.input(0);
  if (!s) c.fail("needs the shape input");
  Value* o = c.output(0);
  int32_t dtype = onnx::kFloat;  // default fill: float 0
  bool fill_int = false;
  double fill_f = 0.0;
  int64_t fill_i = 0;
  bool fill_known = true;
  if (const onnx::Attribute* a = c.attr("value")) {
    if (a->tensors.empty()) c.fail("attribute 'value' holds no tensor");
    const onnx::Tensor& t = a->tensors[0];
    if (product(t.dims) != 1) c.fail("attribute 'value' must hold one element");
    dtype = t.data_type;
    fill_int = int_storage(dtype);
    fill_known = t.values_known;
    if (t.values_known) {
      if (fill_int && !t.ints.empty()) fill_i = t.ints[0];
      if (!fill_int && !t.floats.empty()) fill_f = t.floats[0];
    }
  }
  Dims converted;
  const Dims* shape_ptr = &s->ints;  // the usual int64 shape is read in place
  if (!s->values_known || (!int_storage(s->dtype) && !read_ints(s, converted))) {
    if (s->rank_known && s->dims.size() == 1 && s->dims[0] >= 0)
      return set_out(o, dtype, Dims(checked_rank(c, s->dims[0]), -1));
    if (o) o->dtype = dtype;
    return;
  }
  if (!int_storage(s->dtype)) shape_ptr = &converted;
  const Dims& shape = *shape_ptr;
  for (int64_t d : shape)
    if (d < 0) c.fail("shape has a negative dim " + std::to_string(d));
  set_out(o, dtype, shape);
  const int64_t n = product(shape);
  if (o && fill_known && keep_values(dtype, n)) {
    o->values_known = true;
    if (fill_int) o->ints.assign(static_cast<size_t>(n), fill_i);
    else o->floats.assign(static_cast<size_t>(n), fill_f);
  }
}

void infer_range(OpContext& c) {
  const Value* start = c.input(0);
  const Value* limit = c.input(1);
  const Value* delta = c.input(2);
  if (!start || !limit || !delta) c.fail("needs start, limit and delta");
  Value* o = c.output(0);
  const int32_t dtype = start->dtype;
  if (!start->values_known || !limit->values_known || !delta->values_known) return set_out(o, dtype, {-1});
  auto scalar = [&](const Value* v) -> double {
    const size_t n = int_storage(v->dtype) ? v->ints.size() : v->floats.size();
    if (n != 1) c.fail("start, limit and delta must be scalars");
    return int_storage(v->dtype) ? static_cast<double>(v->ints[0]) : v->floats[0];
  };
  const double s = scalar(start), l = scalar(limit), d = scalar(delta);
  if (d == 0.0) c.fail("delta must not be 0");
  double count = std::ceil((l - s) / d);  // number_of_elements = max(ceil((limit - start) / delta), 0)
  const bool exact = int_storage(start->dtype) && int_storage(limit->dtype) && int_storage(delta->dtype);
  int64_t si = 0, di = 0;
  if (exact) {  // in integers: doubles round values near INT64_MAX (and casting 2^63 back is undefined)
    si = start->ints[0], di = delta->ints[0];
    const int64_t li = limit->ints[0];
    const uint64_t span = di > 0 ? static_cast<uint64_t>(li) - static_cast<uint64_t>(si)
                                 : static_cast<uint64_t>(si) - static_cast<uint64_t>(li);
    const uint64_t step = di > 0 ? static_cast<uint64_t>(di) : uint64_t(0) - static_cast<uint64_t>(di);
    count = (di > 0 ? li > si : si > li) ? static_cast<double>((span - 1) / step + 1) : 0.0;
  }
  if (!std::isfinite(count) || count > 1e12) c.fail("range is too long");
  const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  set_out(o, dtype, {n});
  if (o && keep_values(dtype, n)) {
    o->values_known = true;
    if (int_storage(dtype)) {
      if (!exact) si = static_cast<int64_t>(s), di = static_cast<int64_t>(d);
      o->ints.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)  // every element lies in [start, limit): wrapping arithmetic is exact
        o->ints[static_cast<size_t>(i)] =
            static_cast<int64_t>(static_cast<uint64_t>(si) + static_cast<uint64_t>(i) * static_cast<uint64_t>(di));
    } else {
      o->floats.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) o->floats[static_cast<size_t>(i)] = s + static_cast<double>(i) * d;
    }
  }
}

// The dtype attribute of the *Like ops; absent, the output takes `fallback` (the input's type).
int32_t dtype_attr_or(const OpContext& c, int32_t fallback) {
  return c.has_attr("dtype") ? static_cast<int32_t>(c.attr_int("dtype", 1)) : fallback;
}

void infer_eye_like(OpContext& c) {
  const Value* x = c.input(0);
  if (!x) c.fail("needs the input");
  Value* o = c.output(0);
  const int32_t dtype = dtype_attr_or(c, x->dtype);
  if (!x->rank_known) {
    set_out(o, dtype, {-1, -1});
    return;
  }
  if (x->dims.size() != 2) c.fail("input must be 2-D");
  set_out(o, dtype, x->dims);
  const int64_t n = x->numel();
  if (o && keep_values(dtype, n)) {
    const int64_t k = c.attr_int("k", 0), rows = x->dims[0], cols = x->dims[1];
    o->values_known = true;
    if (int_storage(dtype)) o->ints.assign(static_cast<size_t>(n), 0);
    else o->floats.assign(static_cast<size_t>(n), 0.0);
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t j = i + k;
      if (j < 0 || j >= cols) continue;
      if (int_storage(dtype)) o->ints[static_cast<size_t>(i * cols + j)] = 1;
      else o->floats[static_cast<size_t>(i * cols + j)] = 1.0;
    }
  }
}

void infer_random(OpContext& c) {  // RandomNormal, RandomUniform: shape and dtype from attributes
  if (!c.has_attr("shape")) c.fail("needs the 'shape' attribute");
  const Dims shape = c.attr_ints("shape");
  for (int64_t d : shape)
    if (d < 0) c.fail("shape has a negative dim");
  set_out(c.output(0), static_cast<int32_t>(c.attr_int("dtype", onnx::kFloat)), shape);
}

void infer_random_like(OpContext& c) {  // RandomNormalLike, RandomUniformLike, Bernoulli: the input's shape
  const Value* x = c.input(0);
  if (!x) c.fail("needs the input");
  Value* o = c.output(0);
  if (!o) return;
  o->dtype = dtype_attr_or(c, x->dtype);
  o->rank_known = x->rank_known;
  o->dims = x->dims;
}

void infer_multinomial(OpContext& c) {
  const Value* x = c.input(0);
  if (!x) c.fail("needs the input");
  Value* o = c.output(0);
  const int32_t dtype = static_cast<int32_t>(c.attr_int("dtype", onnx::kInt32));
  const int64_t samples = c.attr_int("sample_size", 1);
  if (samples < 1) c.fail("sample_size must be >= 1");
  if (x->rank_known && x->dims.size() != 2) c.fail("input must be [batch_size, class_size]");
  set_out(o, dtype, {x->rank_known ? x->dims[0] : -1, samples});
}

// HannWindow, HammingWindow, BlackmanWindow: a [size] window of output_datatype (default float).
void infer_window(OpContext& c) {
  const Value* size = c.input(0);
  if (!size) c.fail("needs the size input");
  const int32_t dtype = static_cast<int32_t>(c.attr_int("output_datatype", onnx::kFloat));
  Dims n;
  if (!read_ints(size, n)) return set_out(c.output(0), dtype, {-1});
  if (n.size() != 1 || n[0] < 0) c.fail("size must be a non-negative scalar");
  set_out(c.output(0), dtype, {n[0]});
}

}  // namespace

void register_constant(OpRegistry& r) {
  auto def = [](InferFn f, bool deterministic) {
    OpDef d;
    d.infer = f;
    d.param_inputs = 0;  // their inputs only give a shape, bounds or probabilities
    d.deterministic = deterministic;
    return d;
  };
  r.add("", "Constant", def(infer_constant, true));
  r.add("", "ConstantOfShape", def(infer_constant_of_shape, true));
  r.add("", "Range", def(infer_range, true));
  r.add("", "EyeLike", def(infer_eye_like, true));
  r.add("", "RandomNormal", def(infer_random, false));
  r.add("", "RandomUniform", def(infer_random, false));
  r.add("", "RandomNormalLike", def(infer_random_like, false));
  r.add("", "RandomUniformLike", def(infer_random_like, false));
  r.add("", "Bernoulli", def(infer_random_like, false));
  r.add("", "Multinomial", def(infer_multinomial, false));
  r.add("", "HannWindow", def(infer_window, true));
  r.add("", "HammingWindow", def(infer_window, true));
  r.add("", "BlackmanWindow", def(infer_window, true));
}

}  // namespace netscore::graph
