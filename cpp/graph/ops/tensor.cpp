// Data-movement and shape ops (Shape, Reshape, Gather, Concat, Slice, Transpose, Pad, ...): output shapes,
// and output values when the inputs' values are known so shape subgraphs fold. They cost no MACs or FLOPs.
// Param positions: only the data inputs; shape, axes, index, repeats and pads arguments are never weights.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

using Dims = std::vector<int64_t>;

void set_out_rank_only(Value* o, int32_t dtype, size_t rank) { set_out(o, dtype, Dims(rank, -1)); }

bool small_enough(const Dims& dims) {
  const int64_t n = product(dims);
  return n >= 0 && n <= onnx::kMaxDecodedElements;
}

// dst's values := src's values at the flat indices `idx` (dst dims already set).
void gather_values(const Value& src, Value& dst, const Dims& idx) {
  dst.values_known = true;
  if (int_storage(src.dtype)) {
    dst.ints.resize(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) dst.ints[i] = src.ints[static_cast<size_t>(idx[i])];
  } else {
    dst.floats.resize(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) dst.floats[i] = src.floats[static_cast<size_t>(idx[i])];
  }
}

void copy_values(const Value& src, Value& dst) {
  if (!src.values_known || !dst.shape_known() || dst.numel() != src.numel()) return;
  dst.values_known = true;
  dst.ints = src.ints;
  dst.floats = src.floats;
}

Dims strides_of(const Dims& dims) {
  Dims s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

// For every element of an output of shape `out` (row-major), the flat source index computed by `map`,
// which maps an output multi-index to a source flat index.
template <class F>
Dims index_map(const Dims& out, F map) {
  const int64_t n = product(out);
  Dims idx(static_cast<size_t>(n));
  Dims pos(out.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    idx[static_cast<size_t>(i)] = map(pos);
    for (size_t a = out.size(); a-- > 0;) {
      if (++pos[a] < out[a]) break;
      pos[a] = 0;
    }
  }
  return idx;
}

const Value& need(const OpContext& c, size_t i, const char* what) {
  const Value* v = c.input(i);
  if (!v) c.fail(std::string("missing required input ") + what);
  return *v;
}

// Axes from the attribute (before `input_since`) or from input `input_index` (from that opset on).
// Returns false when they are given but not known; `given` says whether any were given.
bool read_axes(const OpContext& c, int64_t input_since, size_t input_index, Dims& axes, bool& given) {
  if (c.opset() < input_since) {
    given = c.has_attr("axes");
    axes = c.attr_ints("axes");
    return true;
  }
  const Value* a = c.input(input_index);
  given = a != nullptr;
  if (!a) {
    axes.clear();
    return true;
  }
  return read_ints(a, axes);
}

// ---- Shape, Size -------------------------------------------------------------------------------------

void infer_shape(OpContext& c) {
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  if (!x.rank_known) return set_out(o, onnx::kInt64, {-1});
  const int64_t r = static_cast<int64_t>(x.dims.size());
  int64_t start = c.attr_int("start", 0), end = c.attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, start, r);
  Dims vals(x.dims.begin() + start, x.dims.begin() + end);
  set_out(o, onnx::kInt64, {end - start});
  if (o && std::all_of(vals.begin(), vals.end(), [](int64_t d) { return d >= 0; })) {
    o->values_known = true;
    o->ints = std::move(vals);
    o->is_const = true;  // a fully known shape is a constant: the shape subgraph folds
  }
}

void infer_size(OpContext& c) {
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  set_out(o, onnx::kInt64, {});
  const int64_t n = x.numel();
  if (o && n >= 0) {
    o->values_known = true;
    o->ints = {n};
    o->is_const = true;
  }
}

// ---- Reshape, Flatten, Squeeze, Unsqueeze, Identity ---------------------------------------------------

void infer_reshape(OpContext& c) {
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  Dims shape;
  if (c.opset() < 5) {
    if (!c.has_attr("shape")) c.fail("needs the 'shape' attribute");
    shape = c.attr_ints("shape");
  } else {
    const Value& s = need(c, 1, "shape");
    if (!read_ints(&s, shape)) {
      if (s.rank_known && s.dims.size() == 1 && s.dims[0] >= 0) return set_out_rank_only(o, x.dtype, s.dims[0]);
      if (o) o->dtype = x.dtype;
      return;
    }
  }
  const bool allowzero = c.attr_int("allowzero", 0) != 0;
  Dims out(shape.size());
  int64_t infer_at = -1, known_product = 1;
  bool unknown = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t d = shape[i];
    if (d == 0 && !allowzero) {
      if (!x.rank_known) {
        d = -1;
        unknown = true;
      } else if (i >= x.dims.size()) {
        c.fail("shape " + dims_str(shape) + " copies dim " + std::to_string(i) + " but the input has rank " +
               std::to_string(x.dims.size()));
      } else {
        d = x.dims[i];
        if (d < 0) unknown = true;
      }
      out[i] = d;
    } else if (d == -1) {
      if (infer_at >= 0) c.fail("shape " + dims_str(shape) + " has more than one -1");
      infer_at = static_cast<int64_t>(i);
      out[i] = -1;
      continue;
    } else if (d < -1) {
      c.fail("shape " + dims_str(shape) + " has an invalid dim " + std::to_string(d));
    } else {
      out[i] = d;
    }
    if (out[i] >= 0) known_product = mul_sat(known_product, out[i]);
  }
  if (infer_at >= 0 && allowzero && std::find(shape.begin(), shape.end(), 0) != shape.end())
    c.fail("allowzero shape " + dims_str(shape) + " has both 0 and -1");
  const int64_t n = x.numel();
  if (infer_at >= 0 && !unknown && n >= 0) {
    if (known_product == 0) {
      if (n != 0) c.fail("cannot infer -1 in shape " + dims_str(shape) + " from " + dims_str(x.dims));
      out[static_cast<size_t>(infer_at)] = 0;
    } else {
      if (n % known_product != 0)
        c.fail("cannot reshape " + dims_str(x.dims) + " into " + dims_str(shape));
      out[static_cast<size_t>(infer_at)] = n / known_product;
    }
  }
  if (n >= 0 && product(out) >= 0 && product(out) != n)
    c.fail("cannot reshape " + dims_str(x.dims) + " (" + std::to_string(n) + " elements) into " + dims_str(out));
  set_out(o, x.dtype, out);
  if (o) copy_values(x, *o);
}

void infer_flatten(OpContext& c) {
  const Value& x = need(c, 0, "input");
  Value* o = c.output(0);
  if (!x.rank_known) return set_out_rank_only(o, x.dtype, 2);
  const int64_t r = static_cast<int64_t>(x.dims.size());
  int64_t axis = c.attr_int("axis", 1);
  if (axis < -r || axis > r) c.fail("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  const Dims head(x.dims.begin(), x.dims.begin() + axis), tail(x.dims.begin() + axis, x.dims.end());
  set_out(o, x.dtype, {product(head), product(tail)});
  if (o) copy_values(x, *o);
}

// Squeeze/Unsqueeze: their axes (attribute before opset 13, input since). False when the output rank cannot
// be known (axes values or the input rank unknown): the output then gets only the input's dtype.
bool squeeze_axes(const OpContext& c, const Value& x, Value* o, bool axes_required, Dims& axes, bool& given) {
  const bool axes_known = read_axes(c, 13, 1, axes, given);
  if (axes_required && !given) {
    if (o) o->dtype = x.dtype;
    c.fail("needs axes");
  }
  if (axes_known && x.rank_known) return true;
  if (o) o->dtype = x.dtype;
  return false;
}

void infer_squeeze(OpContext& c) {
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  Dims axes;
  bool given = false;
  if (!squeeze_axes(c, x, o, false, axes, given)) return;
  const int64_t r = static_cast<int64_t>(x.dims.size());
  std::vector<char> drop(x.dims.size(), 0);
  if (!given || axes.empty()) {
    for (size_t i = 0; i < x.dims.size(); ++i) {
      if (x.dims[i] < 0) {  // whether it is 1 decides the rank
        if (o) o->dtype = x.dtype;
        return;
      }
      drop[i] = x.dims[i] == 1;
    }
  } else {
    for (int64_t a : axes) {
      auto na = normalize_axis(a, r);
      if (!na) c.fail("axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
      const int64_t d = x.dims[static_cast<size_t>(*na)];
      if (d >= 0 && d != 1) c.fail("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(d));
      drop[static_cast<size_t>(*na)] = 1;
    }
  }
  Dims out;
  for (size_t i = 0; i < x.dims.size(); ++i)
    if (!drop[i]) out.push_back(x.dims[i]);
  set_out(o, x.dtype, out);
  if (o) copy_values(x, *o);
}

void infer_unsqueeze(OpContext& c) {
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  Dims axes;
  bool given = false;
  if (!squeeze_axes(c, x, o, true, axes, given)) return;
  const int64_t r = static_cast<int64_t>(x.dims.size() + axes.size());
  // Y's dims are built in place (no copies per node): an axis puts a 1 at its position, the positions left
  // (kFree) take X's dims in order.
  constexpr int64_t kFree = -2;  // below every dim value, -1 (unknown) included
  Dims unused;
  Dims& out = o ? o->dims : unused;
  out.assign(static_cast<size_t>(r), kFree);
  for (int64_t a : axes) {
    auto na = normalize_axis(a, r);
    if (!na) c.fail("axis " + std::to_string(a) + " out of range for output rank " + std::to_string(r));
    if (out[static_cast<size_t>(*na)] != kFree) c.fail("axis " + std::to_string(a) + " repeated");
    out[static_cast<size_t>(*na)] = 1;
  }
  size_t k = 0;
  for (int64_t& d : out)
    if (d == kFree) d = x.dims[k++];
  if (!o) return;
  o->dtype = x.dtype;
  o->rank_known = true;
  copy_values(x, *o);
}

void infer_identity(OpContext& c) {
  const Value& x = need(c, 0, "input");
  Value* o = c.output(0);
  if (!o) return;
  const bool keep_const = o->is_const;
  *o = x;
  o->is_const = keep_const;  // the walker decides constness
}

// ---- Concat, Split --------------------------------------------------------------------------------------

void infer_concat(OpContext& c) {
  Value* o = c.output(0);
  if (!c.has_attr("axis")) c.fail("needs the 'axis' attribute");
  const int64_t axis_attr = c.attr_int("axis", 0);
  int32_t dtype = 0;
  int64_t rank = -1;
  std::vector<const Value*> ins;
  ins.reserve(c.num_inputs());  // one allocation, however many inputs (DenseNet concatenates dozens)
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    const Value* v = c.input(i);
    if (!v) continue;
    ins.push_back(v);
    if (!dtype) dtype = v->dtype;
    if (v->rank_known) {
      if (rank >= 0 && rank != static_cast<int64_t>(v->dims.size()))
        c.fail("inputs have different ranks (" + std::to_string(rank) + " and " + std::to_string(v->dims.size()) + ")");
      rank = static_cast<int64_t>(v->dims.size());
    }
  }
  if (ins.empty()) c.fail("needs at least one input");
  if (rank < 0) {
    if (o) o->dtype = dtype;
    return;
  }
  auto na = normalize_axis(axis_attr, rank);
  if (!na) c.fail("axis " + std::to_string(axis_attr) + " out of range for rank " + std::to_string(rank));
  const size_t axis = static_cast<size_t>(*na);
  Dims out(static_cast<size_t>(rank), -1);
  int64_t total = 0;
  for (const Value* v : ins) {
    if (!v->rank_known) {
      total = -1;
      continue;
    }
    for (size_t a = 0; a < out.size(); ++a) {
      if (a == axis) continue;
      const int64_t d = v->dims[a];
      if (d < 0) continue;
      if (out[a] >= 0 && out[a] != d)
        c.fail("inputs disagree on dim " + std::to_string(a) + " (" + std::to_string(out[a]) + " vs " +
               std::to_string(d) + ")");
      out[a] = d;
    }
    total = (total < 0 || v->dims[axis] < 0) ? -1 : add_sat(total, v->dims[axis]);
  }
  out[axis] = total;
  set_out(o, dtype, out);
  if (!o || !o->shape_known() || !small_enough(out)) return;
  for (const Value* v : ins)
    if (!v->values_known || !v->shape_known() || int_storage(v->dtype) != int_storage(dtype)) return;
  // outer = product of dims before axis; each input contributes blocks of dims[axis] * inner
  int64_t outer = 1, inner = 1;
  for (size_t a = 0; a < axis; ++a) outer *= out[a];
  for (size_t a = axis + 1; a < out.size(); ++a) inner *= out[a];
  o->values_known = true;
  for (int64_t b = 0; b < outer; ++b)
    for (const Value* v : ins) {
      const int64_t block = v->dims[axis] * inner;
      if (int_storage(dtype))
        o->ints.insert(o->ints.end(), v->ints.begin() + b * block, v->ints.begin() + (b + 1) * block);
      else
        o->floats.insert(o->floats.end(), v->floats.begin() + b * block, v->floats.begin() + (b + 1) * block);
    }
}

void infer_split(OpContext& c) {
  const Value& x = need(c, 0, "input");
  const size_t n_out = c.num_outputs();
  if (n_out == 0) c.fail("needs at least one output");
  auto outputs_keep_rank = [&] {  // split sizes unknown: every output has X's rank, its dims unknown
    for (size_t k = 0; k < n_out; ++k) {
      Value* o = c.output(k);
      if (o && x.rank_known) set_out_rank_only(o, x.dtype, x.dims.size());
      else if (o) o->dtype = x.dtype;
    }
  };
  Dims split;
  bool have_split = false;
  if (c.opset() < 13) {
    have_split = c.has_attr("split");
    split = c.attr_ints("split");
    if (!have_split && c.opset() < 2 && c.input(1)) {
      if (!read_ints(c.input(1), split)) return outputs_keep_rank();
      have_split = true;
    }
  } else if (c.input(1)) {
    have_split = true;
    if (!read_ints(c.input(1), split)) return outputs_keep_rank();
  }
  if (!x.rank_known) {
    for (size_t k = 0; k < n_out; ++k)
      if (Value* o = c.output(k)) o->dtype = x.dtype;
    return;
  }
  const int64_t r = static_cast<int64_t>(x.dims.size());
  const int64_t axis_attr = c.attr_int("axis", 0);
  auto na = normalize_axis(axis_attr, r);
  if (!na) c.fail("axis " + std::to_string(axis_attr) + " out of range for rank " + std::to_string(r));
  const size_t axis = static_cast<size_t>(*na);
  const int64_t dim = x.dims[axis];
  Dims sizes(n_out, -1);
  if (have_split) {
    if (split.size() != n_out)
      c.fail("split has " + std::to_string(split.size()) + " entries for " + std::to_string(n_out) + " outputs");
    int64_t sum = 0;
    for (int64_t s : split) {
      if (s < 0) c.fail("split has a negative size");
      sum = add_sat(sum, s);
    }
    if (dim >= 0 && sum != dim)
      c.fail("split sizes sum to " + std::to_string(sum) + " but the axis has size " + std::to_string(dim));
    sizes = split;
  } else if (dim >= 0) {
    const int64_t num = c.opset() >= 18 && c.has_attr("num_outputs") ? c.attr_int("num_outputs", 0)
                                                                     : static_cast<int64_t>(n_out);
    if (num != static_cast<int64_t>(n_out))
      c.fail("num_outputs " + std::to_string(num) + " but the node has " + std::to_string(n_out) + " outputs");
    if (c.opset() >= 18 && c.has_attr("num_outputs")) {
      const int64_t chunk = (dim + num - 1) / num;  // last chunk smaller when uneven
      int64_t left = dim;
      for (size_t k = 0; k < n_out; ++k) {
        sizes[k] = std::min(chunk, left);
        left -= sizes[k];
      }
    } else {
      if (dim % static_cast<int64_t>(n_out) != 0)
        c.fail("axis of size " + std::to_string(dim) + " does not split evenly into " + std::to_string(n_out));
      for (size_t k = 0; k < n_out; ++k) sizes[k] = dim / static_cast<int64_t>(n_out);
    }
  }
  int64_t offset = 0;
  for (size_t k = 0; k < n_out; ++k) {
    Dims d = x.dims;
    d[axis] = sizes[k];
    Value* o = c.output(k);
    set_out(o, x.dtype, d);
    if (o && x.values_known && x.shape_known() && sizes[k] >= 0) {
      const int64_t off = offset;
      const Dims st = strides_of(x.dims);
      gather_values(x, *o, index_map(d, [&](const Dims& p) {
                      int64_t f = 0;
                      for (size_t a = 0; a < p.size(); ++a) f += (a == axis ? p[a] + off : p[a]) * st[a];
                      return f;
                    }));
    }
    offset = sizes[k] < 0 ? 0 : offset + sizes[k];
  }
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

void infer_same_as_input0(OpContext& c) {  // ScatterND, ScatterElements, Trilu, ReverseSequence, ...
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  if (!o) return;
  o->dtype = x.dtype;
  o->rank_known = x.rank_known;
  o->dims = x.dims;
}

// ---- Transpose, Expand, Tile --------------------------------------------------------------------------

void infer_transpose(OpContext& c) {
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  Dims perm = c.attr_ints("perm");
  if (!x.rank_known) {
    if (!perm.empty()) return set_out_rank_only(o, x.dtype, perm.size());
    if (o) o->dtype = x.dtype;
    return;
  }
  const size_t r = x.dims.size();
  if (perm.empty()) {
    perm.resize(r);
    for (size_t i = 0; i < r; ++i) perm[i] = static_cast<int64_t>(r - 1 - i);
  }
  if (perm.size() != r) c.fail("perm " + dims_str(perm) + " does not match rank " + std::to_string(r));
  std::vector<char> used(r, 0);
  Dims out(r);
  for (size_t i = 0; i < r; ++i) {
    auto p = normalize_axis(perm[i], static_cast<int64_t>(r));
    if (!p || used[static_cast<size_t>(*p)]) c.fail("perm " + dims_str(perm) + " is not a permutation");
    used[static_cast<size_t>(*p)] = 1;
    perm[i] = *p;
    out[i] = x.dims[static_cast<size_t>(*p)];
  }
  set_out(o, x.dtype, out);
  if (o && x.values_known && x.shape_known()) {
    const Dims str = strides_of(x.dims);
    gather_values(x, *o, index_map(out, [&](const Dims& p) {
                    int64_t f = 0;
                    for (size_t i = 0; i < r; ++i) f += p[i] * str[static_cast<size_t>(perm[i])];
                    return f;
                  }));
  }
}

// Values of a broadcast (Expand) or repeat (Tile): output index -> input index by per-axis modulo.
void tile_values(const Value& x, Value& o) {
  if (!x.values_known || !x.shape_known() || !o.shape_known() || !small_enough(o.dims)) return;
  const size_t r = o.dims.size(), off = r - x.dims.size();
  const Dims str = strides_of(x.dims);
  gather_values(x, o, index_map(o.dims, [&](const Dims& p) {
                  int64_t f = 0;
                  for (size_t a = off; a < r; ++a) f += (p[a] % x.dims[a - off]) * str[a - off];
                  return f;
                }));
}

void infer_expand(OpContext& c) {
  const Value& x = need(c, 0, "input");
  const Value& s = need(c, 1, "shape");
  Value* o = c.output(0);
  Dims shape;
  if (!read_ints(&s, shape)) {
    if (s.rank_known && s.dims.size() == 1 && s.dims[0] >= 0 && x.rank_known)
      return set_out_rank_only(o, x.dtype, std::max<size_t>(x.dims.size(), static_cast<size_t>(s.dims[0])));
    if (o) o->dtype = x.dtype;
    return;
  }
  for (int64_t d : shape)
    if (d < 0) c.fail("shape " + dims_str(shape) + " has a negative dim");
  if (!x.rank_known) return set_out_rank_only(o, x.dtype, shape.size());
  // Expand's rule: a 1 in `shape` keeps the input's dim (numpy broadcasting both ways).
  auto b = broadcast_shapes(x.dims, shape);
  if (!b) c.fail("cannot expand " + dims_str(x.dims) + " to " + dims_str(shape));
  set_out(o, x.dtype, *b);
  if (o) tile_values(x, *o);
}

void infer_tile(OpContext& c) {
  const Value& x = need(c, 0, "input");
  Value* o = c.output(0);
  Dims reps;
  bool known;
  if (c.opset() < 6) {  // Tile-1: tiles and axis inputs
    known = false;
  } else {
    known = read_ints(&need(c, 1, "repeats"), reps);
  }
  if (!x.rank_known) {
    if (o) o->dtype = x.dtype;
    return;
  }
  if (!known) return set_out_rank_only(o, x.dtype, x.dims.size());
  if (reps.size() != x.dims.size()) c.fail("repeats has " + std::to_string(reps.size()) + " entries for rank " +
                                           std::to_string(x.dims.size()));
  Dims out(x.dims.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (reps[i] < 0) c.fail("repeats must be >= 0");
    out[i] = mul_sat(x.dims[i], reps[i]);
  }
  set_out(o, x.dtype, out);
  if (o) tile_values(x, *o);
}

// ---- Cast, CastLike ------------------------------------------------------------------------------------

void cast_values(const Value& x, Value& o) {
  if (!x.values_known) return;
  const bool from_int = int_storage(x.dtype), to_int = int_storage(o.dtype);
  o.values_known = true;
  if (to_int) {
    o.ints.resize(from_int ? x.ints.size() : x.floats.size());
    for (size_t i = 0; i < o.ints.size(); ++i) {
      int64_t v;
      if (from_int) {
        v = x.ints[i];
      } else {
        const double f = x.floats[i];
        if (o.dtype == onnx::kBool) v = f != 0.0;
        else if (!std::isfinite(f) || std::fabs(f) > 9.2e18) {
          o.values_known = false;
          o.ints.clear();
          return;
        } else {
          v = static_cast<int64_t>(f);  // truncation toward zero, like C
        }
      }
      if (o.dtype == onnx::kBool) v = v != 0;
      o.ints[i] = v;
    }
  } else {
    o.floats.resize(from_int ? x.ints.size() : x.floats.size());
    for (size_t i = 0; i < o.floats.size(); ++i) o.floats[i] = from_int ? static_cast<double>(x.ints[i]) : x.floats[i];
  }
}

void infer_cast_common(OpContext& c, int32_t to) {
  const Value& x = need(c, 0, "input");
  Value* o = c.output(0);
  if (!o) return;
  o->dtype = to;
  o->rank_known = x.rank_known;
  o->dims = x.dims;
  if (to != onnx::kString && x.dtype != onnx::kString) cast_values(x, *o);
}

void infer_cast(OpContext& c) {
  if (!c.has_attr("to")) c.fail("needs the 'to' attribute");
  int64_t to = 0;
  const onnx::Attribute* a = c.attr("to");
  if (a->type == onnx::AttrType::kString) {  // Cast-1 spelled the type as a string
    static const std::pair<std::string_view, int32_t> names[] = {
        {"FLOAT", onnx::kFloat}, {"FLOAT16", onnx::kFloat16}, {"DOUBLE", onnx::kDouble}, {"INT8", onnx::kInt8},
        {"INT16", onnx::kInt16}, {"INT32", onnx::kInt32}, {"INT64", onnx::kInt64}, {"UINT8", onnx::kUint8},
        {"UINT16", onnx::kUint16}, {"UINT32", onnx::kUint32}, {"UINT64", onnx::kUint64}, {"BOOL", onnx::kBool},
        {"STRING", onnx::kString}};
    for (const auto& [n, t] : names)
      if (a->s == n) to = t;
  } else {
    to = c.attr_int("to", 0);
  }
  if (to <= 0 || to > 64) c.fail("invalid target type " + std::to_string(to));
  infer_cast_common(c, static_cast<int32_t>(to));
}

void infer_cast_like(OpContext& c) { infer_cast_common(c, need(c, 1, "target_type").dtype); }

// ---- Pad ---------------------------------------------------------------------------------------------

void infer_pad(OpContext& c) {
  const Value& x = need(c, 0, "data");
  Value* o = c.output(0);
  Dims pads, axes;
  bool known = true;
  if (c.opset() < 11) {
    pads = c.has_attr("pads") ? c.attr_ints("pads") : c.attr_ints("paddings");
  } else {
    known = read_ints(&need(c, 1, "pads"), pads);
    if (c.input(3)) known = known && read_ints(c.input(3), axes);
  }
  const std::string_view mode = c.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    c.fail("unknown mode '" + std::string(mode) + "'");
  if (!x.rank_known) {
    if (o) o->dtype = x.dtype;
    return;
  }
  const int64_t r = static_cast<int64_t>(x.dims.size());
  if (!known) {
    Dims out(x.dims.size(), -1);
    if (c.input(3)) {  // only the listed axes change
      out = x.dims;
      if (read_ints(c.input(3), axes)) {
        for (int64_t a : axes)
          if (auto na = normalize_axis(a, r)) out[static_cast<size_t>(*na)] = -1;
      } else {
        std::fill(out.begin(), out.end(), -1);
      }
    }
    return set_out(o, x.dtype, out);
  }
  if (axes.empty()) {
    axes.resize(static_cast<size_t>(r));
    for (int64_t i = 0; i < r; ++i) axes[static_cast<size_t>(i)] = i;
  }
  if (pads.size() != 2 * axes.size())
    c.fail("pads has " + std::to_string(pads.size()) + " values for " + std::to_string(axes.size()) + " axes");
  Dims out = x.dims;
  const size_t na_count = axes.size();
  for (size_t i = 0; i < na_count; ++i) {
    auto na = normalize_axis(axes[i], r);
    if (!na) c.fail("axis " + std::to_string(axes[i]) + " out of range");
    int64_t& d = out[static_cast<size_t>(*na)];
    if (d < 0) continue;
    int64_t nd;
    if (__builtin_add_overflow(d, pads[i], &nd) || __builtin_add_overflow(nd, pads[i + na_count], &nd) || nd < 0)
      c.fail("pads " + dims_str(pads) + " make an invalid dim");
    d = nd;
  }
  set_out(o, x.dtype, out);
}

// ---- Dropout, NonZero, Compress, OneHot ----------------------------------------------------------------

void infer_dropout(OpContext& c) {
  const Value& x = need(c, 0, "data");
  if (Value* o = c.output(0)) {
    o->dtype = x.dtype;
    o->rank_known = x.rank_known;
    o->dims = x.dims;
    // inference mode: the output is the input (training_mode is rarely exported as true)
    Dims t;
    const bool training = c.input(2) && read_ints(c.input(2), t) && !t.empty() && t[0] != 0;
    if (!training) copy_values(x, *o);
  }
  if (Value* m = c.output(1)) {
    m->dtype = c.opset() >= 10 ? onnx::kBool : x.dtype;
    m->rank_known = x.rank_known;
    m->dims = x.dims;
  }
}

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
  const Value& cond = need(c, 1, "condition");
  Value* o = c.output(0);
  Dims cv;
  int64_t selected = -1;
  if (read_ints(&cond, cv)) {
    selected = 0;
    for (int64_t v : cv) selected += v != 0;
  }
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

// ---- BitCast, CenterCropPad, Unique, NonMaxSuppression --------------------------------------------------

void infer_bitcast(OpContext& c) {
  const Value& x = need(c, 0, "input");
  if (!c.has_attr("to")) c.fail("needs the 'to' attribute");
  const int64_t to = c.attr_int("to", 0);
  if (to <= 0 || to > 64) c.fail("invalid target type " + std::to_string(to));
  const int in_bits = onnx::element_bits(x.dtype), out_bits = onnx::element_bits(static_cast<int32_t>(to));
  if (in_bits && out_bits && in_bits != out_bits)
    c.fail("BitCast needs equal bit widths (" + std::to_string(in_bits) + " vs " + std::to_string(out_bits) + ")");
  Value* o = c.output(0);
  if (!o) return;
  o->dtype = static_cast<int32_t>(to);
  o->rank_known = x.rank_known;
  o->dims = x.dims;
}

void infer_center_crop_pad(OpContext& c) {
  const Value& x = need(c, 0, "input_data");
  const Value& s = need(c, 1, "shape");
  Value* o = c.output(0);
  if (!x.rank_known) {
    if (o) o->dtype = x.dtype;
    return;
  }
  const int64_t r = static_cast<int64_t>(x.dims.size());
  Dims axes = c.attr_ints("axes"), shape;
  if (axes.empty()) {
    axes.resize(x.dims.size());
    for (int64_t i = 0; i < r; ++i) axes[static_cast<size_t>(i)] = i;
  }
  Dims out = x.dims;
  const bool known = read_ints(&s, shape);
  if (known && shape.size() != axes.size())
    c.fail("shape has " + std::to_string(shape.size()) + " values for " + std::to_string(axes.size()) + " axes");
  for (size_t i = 0; i < axes.size(); ++i) {
    auto na = normalize_axis(axes[i], r);
    if (!na) c.fail("axis " + std::to_string(axes[i]) + " out of range");
    const int64_t d = known ? shape[i] : -1;
    if (known && d < 0) c.fail("shape has a negative dim");
    out[static_cast<size_t>(*na)] = d;  // crop or pad to exactly the requested size
  }
  set_out(o, x.dtype, out);
}

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

void register_tensor(OpRegistry& r) {
  auto data_only = [](InferFn f) {  // input 0 may hold weights; the rest are shape/axes/index arguments
    OpDef d;
    d.infer = f;
    d.param_inputs = 1;
    return d;
  };
  auto none = [](InferFn f) {  // no input is ever a weight (only its shape or values matter)
    OpDef d;
    d.infer = f;
    d.param_inputs = 0;
    return d;
  };
  auto all = [](InferFn f) {
    OpDef d;
    d.infer = f;
    return d;
  };
  r.add("", "Shape", none(infer_shape));
  r.add("", "Size", none(infer_size));
  r.add("", "Reshape", data_only(infer_reshape));
  r.add("", "Flatten", data_only(infer_flatten));
  r.add("", "Squeeze", data_only(infer_squeeze));
  r.add("", "Unsqueeze", data_only(infer_unsqueeze));
  r.add("", "Identity", data_only(infer_identity));
  r.add("", "Concat", all(infer_concat));
  r.add("", "Split", data_only(infer_split));
  r.add("", "Slice", data_only(infer_slice));
  r.add("", "Gather", data_only(infer_gather));
  r.add("", "GatherElements", data_only(infer_gather_elements));
  r.add("", "GatherND", data_only(infer_gather_nd));
  OpDef scatter = all(infer_same_as_input0);
  scatter.param_inputs = 0b101;  // data and updates; never the indices
  r.add("", "ScatterND", scatter);
  r.add("", "ScatterElements", scatter);
  r.add("", "Scatter", scatter);
  r.add("", "Transpose", data_only(infer_transpose));
  r.add("", "Expand", data_only(infer_expand));
  r.add("", "Tile", data_only(infer_tile));
  r.add("", "Cast", data_only(infer_cast));
  r.add("", "CastLike", data_only(infer_cast_like));
  OpDef pad = all(infer_pad);
  pad.param_inputs = 0b101;  // data and the constant fill value
  r.add("", "Pad", pad);
  r.add("", "Dropout", data_only(infer_dropout));
  r.add("", "NonZero", none(infer_nonzero));
  r.add("", "Compress", data_only(infer_compress));
  OpDef onehot = all(infer_onehot);
  onehot.param_inputs = 0b100;  // the (off, on) values
  r.add("", "OneHot", onehot);
  r.add("", "Trilu", data_only(infer_same_as_input0));
  r.add("", "ReverseSequence", data_only(infer_same_as_input0));
  r.add("", "BitCast", data_only(infer_bitcast));
  r.add("", "CenterCropPad", data_only(infer_center_crop_pad));
  r.add("", "Unique", none(infer_unique));
  r.add("", "NonMaxSuppression", none(infer_nms));
}

}  // namespace netscore::graph
