// Indexing ops (Slice, Gather*, Scatter*, Trilu, ReverseSequence, NonZero, Compress, OneHot, Unique,
// NonMaxSuppression): output shapes, and output values when the inputs' values are known so shape
// subgraphs fold. They cost no MACs or FLOPs. Param positions: data (and updates, on/off values) only;
// indices are never weights.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "graph/ops/data_movement.h"
#include "graph/ops/families.h"

namespace netscore::graph {

namespace {

using namespace movement;

// ---- Gather family, Scatter family --------------------------------------------------------------------

void infer_gather(OpContext& c) {
  const Value& x = need(c, 0, "data");
  const Value& ind = need(c, 1, "indices");
  Value* o = c.output(0);
  if (!x.rank_known || !ind.rank_known) {
    if (o) o->dtype = x.dtype;
    return;
  }
  const int64_t r = static_cast<int64_t>(x.dims.size());
  if (r < 1) c.fail("data must have rank >= 1");
  const int64_t axis_attr = c.attr_int("axis", 0);
  auto na = normalize_axis(axis_attr, r);
  if (!na) c.fail("axis " + std::to_string(axis_attr) + " out of range for rank " + std::to_string(r));
  const size_t axis = static_cast<size_t>(*na);
  Dims out(x.dims.begin(), x.dims.begin() + axis);
  out.insert(out.end(), ind.dims.begin(), ind.dims.end());
  out.insert(out.end(), x.dims.begin() + axis + 1, x.dims.end());
  set_out(o, x.dtype, out);
  Dims idx;
  if (!o || !x.values_known || !x.shape_known() || !read_ints(&ind, idx) || !o->shape_known() ||
      !small_enough(out))
    return;
  const int64_t dim = x.dims[axis];
  for (int64_t& i : idx) {
    if (i < -dim || i >= dim) c.fail("index " + std::to_string(i) + " out of range for size " + std::to_string(dim));
    if (i < 0) i += dim;
  }
  const Dims str = strides_of(x.dims);
  const size_t ir = ind.dims.size();
  const Dims istr = strides_of(ind.dims);
  gather_values(x, *o, index_map(out, [&](const Dims& p) {
                  int64_t f = 0;
                  for (size_t a = 0; a < axis; ++a) f += p[a] * str[a];
                  int64_t k = 0;
                  for (size_t a = 0; a < ir; ++a) k += p[axis + a] * istr[a];
                  f += idx[static_cast<size_t>(k)] * str[axis];
                  for (size_t a = axis + 1; a < x.dims.size(); ++a) f += p[a + ir - 1] * str[a];
                  return f;
                }));
}

void infer_gather_elements(OpContext& c) {
  const Value& x = need(c, 0, "data");
  const Value& ind = need(c, 1, "indices");
  Value* o = c.output(0);
  if (x.rank_known && ind.rank_known && x.dims.size() != ind.dims.size())
    c.fail("data and indices must have the same rank");
  if (!ind.rank_known) {
    if (o) o->dtype = x.dtype;
    return;
  }
  set_out(o, x.dtype, ind.dims);
}

void infer_gather_nd(OpContext& c) {
  const Value& x = need(c, 0, "data");
  const Value& ind = need(c, 1, "indices");
  Value* o = c.output(0);
  if (!x.rank_known || !ind.rank_known || ind.dims.empty() || ind.dims.back() < 0) {
    if (o) o->dtype = x.dtype;
    return;
  }
  const int64_t b = c.attr_int("batch_dims", 0);
  const int64_t last = ind.dims.back();
  const int64_t xr = static_cast<int64_t>(x.dims.size());
  if (b < 0 || b > xr || last > xr - b) c.fail("indices' last dim " + std::to_string(last) + " too large for data rank");
  Dims out(ind.dims.begin(), ind.dims.end() - 1);
  out.insert(out.end(), x.dims.begin() + b + last, x.dims.end());
  set_out(o, x.dtype, out);
}

// ---- Slice ------------------------------------------------------------------------------------------

void infer_slice(OpContext& c) {
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  Dims starts, ends, axes, steps;
  bool known = true, axes_given = false, steps_given = false;
  if (c.opset() < 10) {
    starts = c.attr_ints("starts");
    ends = c.attr_ints("ends");
    axes_given = c.has_attr("axes");
    axes = c.attr_ints("axes");
  } else {
    known = read_ints(&need(c, 1, "starts"), starts) && read_ints(&need(c, 2, "ends"), ends);
    if (c.input(3)) {
      axes_given = true;
      known = known && read_ints(c.input(3), axes);
    }
    if (c.input(4)) {
      steps_given = true;
      known = known && read_ints(c.input(4), steps);
    }
  }
  if (!x.rank_known) {
    if (o) o->dtype = x.dtype;
    return;
  }
  const int64_t r = static_cast<int64_t>(x.dims.size());
  if (!known) {
    Dims out = x.dims;
    if (axes_given && read_ints(c.input(3), axes)) {
      for (int64_t a : axes)
        if (auto na = normalize_axis(a, r)) out[static_cast<size_t>(*na)] = -1;
    } else {
      std::fill(out.begin(), out.end(), -1);
    }
    return set_out(o, x.dtype, out);
  }
  if (starts.size() != ends.size()) c.fail("starts and ends have different lengths");
  if (!axes_given) {
    axes.resize(starts.size());
    for (size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int64_t>(i);
  }
  if (!steps_given) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    c.fail("starts, ends, axes and steps must have the same length");
  Dims out(x.dims.begin(), x.dims.end());
  Dims begin(x.dims.size(), 0);
  Dims step(x.dims.size(), 1);
  std::vector<char> seen(x.dims.size(), 0);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto na = normalize_axis(axes[i], r);
    if (!na) c.fail("axis " + std::to_string(axes[i]) + " out of range for rank " + std::to_string(r));
    const size_t a = static_cast<size_t>(*na);
    if (seen[a]) c.fail("axis " + std::to_string(axes[i]) + " repeated");
    seen[a] = 1;
    const int64_t s = steps[i];
    if (s == 0) c.fail("step must not be 0");
    const int64_t dim = x.dims[a];
    if (dim < 0) {
      out[a] = -1;
      continue;
    }
    int64_t st = starts[i], en = ends[i];
    if (st < 0) st = st < -dim ? -1 : st + dim;  // written to avoid overflow with INT64_MIN
    if (en < 0) en = en < -dim ? -1 : en + dim;
    if (s > 0) {
      st = std::clamp<int64_t>(st, 0, dim);
      en = std::clamp<int64_t>(en, 0, dim);
      out[a] = en > st ? (en - st - 1) / s + 1 : 0;   // ceil((en - st) / s) without overflow for huge steps
    } else {
      st = std::clamp<int64_t>(st, 0, dim - 1);
      en = std::clamp<int64_t>(en, -1, dim - 1);
      const uint64_t magnitude = uint64_t(0) - static_cast<uint64_t>(s);   // -s, also for INT64_MIN
      out[a] = st > en ? static_cast<int64_t>(static_cast<uint64_t>(st - en - 1) / magnitude) + 1 : 0;
    }
    begin[a] = st;
    step[a] = s;
  }
  set_out(o, x.dtype, out);
  if (o && x.values_known && x.shape_known() && o->shape_known()) {
    const Dims str = strides_of(x.dims);
    gather_values(x, *o, index_map(out, [&](const Dims& p) {
                    int64_t f = 0;
                    for (size_t a = 0; a < p.size(); ++a) f += (begin[a] + p[a] * step[a]) * str[a];
                    return f;
                  }));
  }
}

// ---- NonZero, Compress, OneHot ---------------------------------------------------------------------------

void infer_nonzero(OpContext& c) {
  const Value& x = need(c, 0, "X");
  Value* o = c.output(0);
  if (!x.rank_known) return set_out_rank_only(o, onnx::kInt64, 2);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  if (!o || !x.values_known || !x.shape_known()) return set_out(o, onnx::kInt64, {r, -1});
  // data-dependent size, computable when the values are known
  const size_t n = int_storage(x.dtype) ? x.ints.size() : x.floats.size();
  Dims hits;
  for (size_t i = 0; i < n; ++i)
    if (int_storage(x.dtype) ? x.ints[i] != 0 : x.floats[i] != 0.0) hits.push_back(static_cast<int64_t>(i));
  const int64_t count = static_cast<int64_t>(hits.size());
  set_out(o, onnx::kInt64, {r, count});
  const Dims str = strides_of(x.dims);
  o->values_known = true;
  o->ints.assign(static_cast<size_t>(r * count), 0);
  for (int64_t k = 0; k < count; ++k)
    for (int64_t a = 0; a < r; ++a)
      o->ints[static_cast<size_t>(a * count + k)] = (hits[static_cast<size_t>(k)] / str[static_cast<size_t>(a)]) %
                                                     x.dims[static_cast<size_t>(a)];
}

void infer_compress(OpContext& c) {
  const Value& x = need(c, 0, "input");
  Dims cv;  // the condition's values, when known: `selected` counts its true elements
  int64_t selected =
      read_ints(&need(c, 1, "condition"), cv) ? std::count_if(cv.begin(), cv.end(), [](int64_t v) { return v != 0; }) : -1;
  Value* o = c.output(0);
  if (!c.has_attr("axis")) {
    if (selected >= 0 && x.numel() >= 0) selected = std::min(selected, x.numel());
    return set_out(o, x.dtype, {selected});
  }
  if (!x.rank_known) {
    if (o) o->dtype = x.dtype;
    return;
  }
  const int64_t r = static_cast<int64_t>(x.dims.size());
  auto na = normalize_axis(c.attr_int("axis", 0), r);
  if (!na) c.fail("axis out of range");
  Dims out = x.dims;
  int64_t& d = out[static_cast<size_t>(*na)];
  if (selected >= 0 && d >= 0 && static_cast<int64_t>(cv.size()) > d) {
    selected = 0;
    for (int64_t i = 0; i < d; ++i) selected += cv[static_cast<size_t>(i)] != 0;
  }
  d = selected;
  set_out(o, x.dtype, out);
}

void infer_onehot(OpContext& c) {
  const Value& ind = need(c, 0, "indices");
  const Value& depth = need(c, 1, "depth");
  const Value& vals = need(c, 2, "values");
  Value* o = c.output(0);
  Dims dv;
  int64_t d = -1;
  if (read_ints(&depth, dv)) {
    if (dv.size() != 1) c.fail("depth must have one element");
    d = dv[0];
    if (d < 1) c.fail("depth must be >= 1");
  }
  if (!ind.rank_known) {
    if (o) o->dtype = vals.dtype;
    return;
  }
  const int64_t r = static_cast<int64_t>(ind.dims.size()) + 1;
  auto na = normalize_axis(c.attr_int("axis", -1), r);
  if (!na) c.fail("axis out of range");
  Dims out = ind.dims;
  out.insert(out.begin() + *na, d);
  set_out(o, vals.dtype, out);
}

// ---- Unique, NonMaxSuppression ---------------------------------------------------------------------------

// Unique: the number of distinct values is data dependent (known only when the input's values are).
void infer_unique(OpContext& c) {
  const Value& x = need(c, 0, "X");
  const bool has_axis = c.has_attr("axis");
  int64_t distinct = -1;
  if (!has_axis && x.values_known) {
    if (int_storage(x.dtype)) {
      Dims v = x.ints;
      std::sort(v.begin(), v.end());
      distinct = std::unique(v.begin(), v.end()) - v.begin();
    } else if (std::none_of(x.floats.begin(), x.floats.end(), [](double f) { return std::isnan(f); })) {
      std::vector<double> v = x.floats;  // (NaN would break the sort's ordering)
      std::sort(v.begin(), v.end());
      distinct = std::unique(v.begin(), v.end()) - v.begin();
    }
  }
  Dims y{distinct};
  int64_t along = x.numel();
  if (has_axis) {
    if (!x.rank_known) {
      if (Value* o = c.output(0)) o->dtype = x.dtype;
    } else {
      auto na = normalize_axis(c.attr_int("axis", 0), static_cast<int64_t>(x.dims.size()));
      if (!na) c.fail("axis out of range");
      y = x.dims;
      y[static_cast<size_t>(*na)] = -1;
      along = x.dims[static_cast<size_t>(*na)];
    }
  }
  if (!has_axis || x.rank_known) set_out(c.output(0), x.dtype, y);
  set_out(c.output(1), onnx::kInt64, {distinct});
  set_out(c.output(2), onnx::kInt64, {along});
  set_out(c.output(3), onnx::kInt64, {distinct});
}

// NonMaxSuppression: selected_indices is [num_selected, 3] (batch, class, box); num_selected depends on data.
void infer_nms(OpContext& c) {
  need(c, 0, "boxes");
  need(c, 1, "scores");
  set_out(c.output(0), onnx::kInt64, {-1, 3});
}

}  // namespace

void register_indexing(OpRegistry& r) {
  OpDef scatter = all_params(infer_same_as_input0);
  scatter.param_inputs = 0b101;  // data and updates; never the indices
  r.add("", "ScatterND", scatter);
  r.add("", "ScatterElements", scatter);
  r.add("", "Scatter", scatter);
  r.add("", "Slice", data_only(infer_slice));
  r.add("", "Gather", data_only(infer_gather));
  r.add("", "GatherElements", data_only(infer_gather_elements));
  r.add("", "GatherND", data_only(infer_gather_nd));
  r.add("", "Trilu", data_only(infer_same_as_input0));
  r.add("", "ReverseSequence", data_only(infer_same_as_input0));
  r.add("", "NonZero", no_params(infer_nonzero));
  r.add("", "Compress", data_only(infer_compress));
  OpDef onehot = all_params(infer_onehot);
  onehot.param_inputs = 0b100;  // the (off, on) values
  r.add("", "OneHot", onehot);
  r.add("", "Unique", no_params(infer_unique));
  r.add("", "NonMaxSuppression", no_params(infer_nms));
}

}  // namespace netscore::graph
