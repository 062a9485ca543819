// Params: roots of constant values and the weights a compute node reads (see params.h).
#include "graph/params.h"

#include <algorithm>

#include "graph/name_map.h"
#include "graph/walk_util.h"

namespace netscore::graph::walk {

void ParamCounter::propagate_roots(const OpDef* def, const uint32_t* in_ids, size_t num_inputs,
                                   const std::vector<Value>& values, std::vector<uint32_t>& out) {
  const bool pass_integer = def->integer_weights || def->cost == nullptr;
  for (size_t pos = 0; pos < num_inputs; ++pos) {
    const uint32_t id = in_ids[pos];
    if (id == kNone || !is_param_position(def->param_inputs, pos)) continue;
    for (uint32_t j = 0; j < roots_count_[id]; ++j) {
      const uint32_t r = root_pool_[roots_begin_[id] + j];
      if (onnx::is_integer_type(values[r].dtype)) {
        if (!pass_integer) continue;
        if (def->integer_weights) integer_admitted_[r] = 1;  // e.g. int8 W through DequantizeLinear
      }
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    }
  }
}

void ParamCounter::fold(const OpDef* def, bool makes_root, const uint32_t* in_ids, size_t num_inputs,
                        const uint32_t* out_ids, size_t num_outputs, const std::vector<Value>& values,
                        std::vector<uint32_t>& scratch) {
  bool derived = false;  // a non-constant input (its dims made the output: Shape, Size) or a derived one
  for (size_t pos = 0; pos < num_inputs && !derived; ++pos) {
    const uint32_t id = in_ids[pos];
    if (id != kNone && (!values[id].is_const || shape_derived_[id])) derived = true;
  }
  scratch.clear();
  if (!makes_root) propagate_roots(def, in_ids, num_inputs, values, scratch);
  for (size_t k = 0; k < num_outputs; ++k) {
    const uint32_t id = out_ids[k];
    if (id == kNone) continue;
    shape_derived_[id] = derived;
    if (!makes_root) set_roots(id, scratch.data(), scratch.size());
    else if (derived) set_roots(id, nullptr, 0);  // a table sized by the input: data, not a weight
    else set_roots(id, &id, 1);
  }
}

void ParamCounter::count_params(const OpDef* def, const uint32_t* in_ids, size_t num_inputs, const std::vector<Value>& values,
                                Layer& layer, int64_t& bn_stat_params) {
  for (size_t pos = 0; pos < num_inputs; ++pos) {
    const uint32_t id = in_ids[pos];
    if (id == kNone || !values[id].is_const) continue;
    bool integer_ok = false, stat = false;
    if (def) {
      if (!is_param_position(def->param_inputs, pos)) continue;
      integer_ok = def->integer_weights;
      stat = pos < 64 && ((def->stat_inputs >> pos) & 1u);
    } else if (!onnx::is_float_type(values[id].dtype)) {
      continue;  // unsupported op: only its floating-point constant inputs count
    }
    for (uint32_t j = 0; j < roots_count_[id]; ++j) {
      const uint32_t r = root_pool_[roots_begin_[id] + j];
      if (counted_[r]) continue;
      const Value& root = values[r];
      const int64_t n = root.numel();
      if (n <= 1) continue;  // scalars are exporter constants (eps, 0.5, ...), not weights
      if (onnx::is_integer_type(root.dtype) ? !(integer_ok || integer_admitted_[r]) : !onnx::is_float_type(root.dtype))
        continue;
      counted_[r] = 1;
      layer.params = add_sat(layer.params, n);
      layer.weight_bytes = add_sat(layer.weight_bytes, std::max<int64_t>(0, bytes_of(n, root.dtype)));
      if (stat) bn_stat_params = add_sat(bn_stat_params, n);
    }
  }
}

}  // namespace netscore::graph::walk
