// Helpers shared by the data-movement families (shape_ops.cpp, indexing.cpp, concat_split_pad.cpp): values
// moved by index, axes arguments, and the param positions these ops declare.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph::movement {

using Dims = std::vector<int64_t>;

inline void set_out_rank_only(Value* o, int32_t dtype, size_t rank) { set_out(o, dtype, Dims(rank, -1)); }

// dst's values := src's values at the flat indices `idx` (dst dims already set).
inline void gather_values(const Value& src, Value& dst, const Dims& idx) {
  dst.values_known = true;
  if (int_storage(src.dtype)) {
    dst.ints.resize(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) dst.ints[i] = src.ints[static_cast<size_t>(idx[i])];
  } else {
    dst.floats.resize(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) dst.floats[i] = src.floats[static_cast<size_t>(idx[i])];
  }
}

inline void copy_values(const Value& src, Value& dst) {
  if (!src.values_known || !dst.shape_known() || dst.numel() != src.numel()) return;
  dst.values_known = true;
  dst.ints = src.ints;
  dst.floats = src.floats;
}

inline Dims strides_of(const Dims& dims) {
  Dims s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

// For every element of an output of shape `out` (row-major), the flat source index computed by `map`,
// which maps an output multi-index to a source flat index.
template <class F>
inline Dims index_map(const Dims& out, F map) {
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

inline const Value& need(const OpContext& c, size_t i, const char* what) {
  const Value* v = c.input(i);
  if (!v) c.fail(std::string("missing required input ") + what);
  return *v;
}

// Axes from the attribute (before `input_since`) or from input `input_index` (from that opset on).
// Returns false when they are given but not known; `given` says whether any were given.
inline bool read_axes(const OpContext& c, int64_t input_since, size_t input_index, Dims& axes, bool& given) {
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

// Param positions. Data movement costs nothing; its inputs are weights only where the data is.
inline OpDef data_only(InferFn f) {  // input 0 may hold weights; the rest are shape/axes/index arguments
  OpDef d;
  d.infer = f;
  d.param_inputs = 1;
  return d;
}
inline OpDef no_params(InferFn f) {  // no input is ever a weight (only its shape or values matter)
  OpDef d;
  d.infer = f;
  d.param_inputs = 0;
  return d;
}
inline OpDef all_params(InferFn f) {
  OpDef d;
  d.infer = f;
  return d;
}

}  // namespace netscore::graph::movement
