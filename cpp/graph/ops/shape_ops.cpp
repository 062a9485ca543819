// Shape and layout ops (Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Identity, Transpose, Expand,
// Tile, Cast, CastLike, Dropout, BitCast): output shapes, and output values when the inputs' values are
// known so shape subgraphs fold. They cost no MACs or FLOPs. Param positions: only the data inputs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "graph/ops/data_movement.h"
#include "graph/ops/families.h"

namespace netscore::graph {

namespace {

using namespace movement;

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
      if (s.rank_known && s.dims.size() == 1 && s.dims[0] >= 0)
        return set_out_rank_only(o, x.dtype, checked_rank(c, s.dims[0]));
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
      return set_out_rank_only(o, x.dtype, std::max<size_t>(x.dims.size(), checked_rank(c, s.dims[0])));
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

// ---- Dropout, BitCast ----------------------------------------------------------------------------------

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

}  // namespace

void register_shape_ops(OpRegistry& r) {
  r.add("", "Shape", no_params(infer_shape));
  r.add("", "Size", no_params(infer_size));
  r.add("", "Reshape", data_only(infer_reshape));
  r.add("", "Flatten", data_only(infer_flatten));
  r.add("", "Squeeze", data_only(infer_squeeze));
  r.add("", "Unsqueeze", data_only(infer_unsqueeze));
  r.add("", "Identity", data_only(infer_identity));
  r.add("", "Transpose", data_only(infer_transpose));
  r.add("", "Expand", data_only(infer_expand));
  r.add("", "Tile", data_only(infer_tile));
  r.add("", "Cast", data_only(infer_cast));
  r.add("", "CastLike", data_only(infer_cast_like));
  r.add("", "Dropout", data_only(infer_dropout));
  r.add("", "BitCast", data_only(infer_bitcast));
}

}  // namespace netscore::graph
