// Joining, splitting and padding ops (Concat, Split, Pad, CenterCropPad): output shapes, and output values
// when the inputs' values are known so shape subgraphs fold. They cost no MACs or FLOPs. Param positions:
// the data inputs (every Concat input; Pad's fill value); split sizes and pads are never weights.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "graph/ops/data_movement.h"
#include "graph/ops/families.h"

namespace netscore::graph {

namespace {

using namespace movement;

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

// ---- CenterCropPad -------------------------------------------------------------------------------------

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

}  // namespace

void register_concat_split_pad(OpRegistry& r) {
  r.add("", "Concat", all_params(infer_concat));
  r.add("", "Split", data_only(infer_split));
  OpDef pad = all_params(infer_pad);
  pad.param_inputs = 0b101;  // data and the constant fill value
  r.add("", "Pad", pad);
  r.add("", "CenterCropPad", data_only(infer_center_crop_pad));
}

}  // namespace netscore::graph
