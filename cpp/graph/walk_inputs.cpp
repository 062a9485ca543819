// Graph analysis, the walk's graph inputs: input_shapes, symbolic dims, input_values, subgraph formals,
// value_info annotations (see walker_impl.h).
#include <limits>
#include <string>

#include "graph/walker_impl.h"
#include "netscore/errors.h"

namespace netscore::graph::walk {

void Walker::bind_inputs() {
  const size_t ni = graph_input_ids_.size();
  std::vector<const std::vector<int64_t>*> override_of(ni, nullptr);
  for (const auto& [name, shape] : options_.input_shapes) {
    size_t k = 0;
    while (k < ni && graph_input_infos_[k]->name != name) ++k;
    if (k == ni) {
      std::string names;
      for (size_t j = 0; j < ni; ++j) {
        if (j) names += ", ";
        names += graph_input_infos_[j]->name;
      }
      throw ModelError("input_shapes names '" + name + "', which is not a graph input (inputs: " +
                       (names.empty() ? std::string("none") : names) + ")");
    }
    const onnx::ValueInfo& vi = *graph_input_infos_[k];
    if (vi.has_shape && vi.dims.size() != shape.size())
      throw ModelError("input_shapes gives '" + name + "' rank " + std::to_string(shape.size()) +
                       " but the model declares rank " + std::to_string(vi.dims.size()));
    for (int64_t d : shape)
      if (d < 0 || d > kMaxDim)
        throw ModelError("input_shapes gives '" + name + "' an invalid dim " + std::to_string(d));
    override_of[k] = &shape;
    if (vi.has_shape)
      for (size_t a = 0; a < shape.size(); ++a)
        if (!vi.dims[a].param.empty()) symbols_.emplace(vi.dims[a].param, shape[a]);
  }
  // A symbolic or unknown leading dim takes the batch size (a symbol already bound by an override wins).
  for (size_t k = 0; k < ni; ++k) {
    const onnx::ValueInfo& vi = *graph_input_infos_[k];
    if (override_of[k] || !vi.has_shape || vi.dims.empty() || vi.dims[0].value >= 0) continue;
    if (!vi.dims[0].param.empty()) symbols_.emplace(vi.dims[0].param, options_.batch_size);
  }
  for (size_t k = 0; k < ni; ++k) {
    const onnx::ValueInfo& vi = *graph_input_infos_[k];
    Value& v = values_[graph_input_ids_[k]];
    v.dtype = vi.elem_type;
    if (override_of[k]) {
      v.rank_known = true;
      v.dims = *override_of[k];
    } else if (vi.has_shape) {
      if (vi.dims.size() > static_cast<size_t>(kMaxRank))
        throw ModelError("graph input '" + std::string(vi.name) + "' has rank " + std::to_string(vi.dims.size()) +
                         ", above the limit of " + std::to_string(kMaxRank) + " dims");
      v.rank_known = true;
      v.dims.resize(vi.dims.size());
      for (size_t a = 0; a < vi.dims.size(); ++a) {
        int64_t d = resolve_dim(vi.dims[a]);
        if (a == 0 && d < 0) d = options_.batch_size;
        if (d > kMaxDim) throw ModelError("graph input '" + std::string(vi.name) + "' has an invalid dim");
        v.dims[a] = d;
      }
    }
    if (v.rank_known && product(v.dims) == std::numeric_limits<int64_t>::max())
      throw ModelError("graph input '" + std::string(vi.name) + "' has too many elements");
    if (!v.rank_known || product(v.dims) < 0) {  // an unknown dim left: say which (a hint for the caller)
      OpenInput& open = profile_.open_inputs.emplace_back();
      open.name.assign(vi.name);
      open.rank_known = v.rank_known;
      open.dims = v.dims;
      for (size_t a = 0; a < v.dims.size(); ++a)
        open.symbols.emplace_back(a < vi.dims.size() ? vi.dims[a].param : std::string_view());
    }
  }
}

// A subgraph's inputs: the values its node passes (Loop / Scan), else the graph's declarations.
void Walker::bind_formals() {
  for (size_t k = 0; k < graph_input_ids_.size(); ++k) {
    Value& v = values_[graph_input_ids_[k]];
    if (k < formals_.size() && (formals_[k].dtype != 0 || formals_[k].rank_known)) v = formals_[k];
    fill_unknown_from_value_info(graph_input_infos_[k]->name, v);
  }
}

// options.input_values: known data of (non-constant) graph inputs.
void Walker::bind_input_values() {
  for (const auto& [name, data] : options_.input_values) {
    size_t k = 0;
    while (k < graph_input_ids_.size() && graph_input_infos_[k]->name != name) ++k;
    if (k == graph_input_ids_.size())
      throw ModelError("input_values names '" + name + "', which is not a graph input");
    Value& v = values_[graph_input_ids_[k]];
    const int64_t n = static_cast<int64_t>(data.size());
    if (n == 0 || n > kMaxFloatValues) throw ModelError("input_values gives '" + name + "' " + std::to_string(n) +
                                                         " values (1 to " + std::to_string(kMaxFloatValues) + ")");
    if (!v.rank_known) {
      v.rank_known = true;
      v.dims.assign(n == 1 ? 0 : 1, n);
    } else if (!v.shape_known()) {
      for (int64_t& d : v.dims)
        if (d < 0) d = v.dims.size() == 1 ? n : 1;
    }
    if (v.numel() != n)
      throw ModelError("input_values gives '" + name + "' " + std::to_string(n) + " values for shape " +
                       dims_text(v.dims));
    v.values_known = true;
    v.ints.clear();
    v.floats.clear();
    if (onnx::is_integer_type(v.dtype)) {
      for (double x : data) v.ints.push_back(static_cast<int64_t>(x));
    } else {
      v.floats = data;
    }
  }
}

void Walker::index_value_info() {
  info_.reserve(graph_.value_info.size() + graph_.outputs.size());
  infos_.reserve(graph_.value_info.size() + graph_.outputs.size());
  for (const onnx::ValueInfo& vi : graph_.value_info) {
    infos_.push_back(&vi);
    info_.insert(vi.name, static_cast<uint32_t>(infos_.size() - 1));
  }
  for (const onnx::ValueInfo& vi : graph_.outputs) {  // graph outputs take precedence
    infos_.push_back(&vi);
    info_.insert(vi.name, static_cast<uint32_t>(infos_.size() - 1), true);
  }
}

void Walker::fill_unknown_from_value_info(std::string_view name, Value& v) const {
  const uint32_t at = info_.find(name);
  if (at == kNone) return;
  const onnx::ValueInfo& vi = *infos_[at];
  if (v.dtype == 0) v.dtype = vi.elem_type;
  if (!vi.has_shape || vi.dims.size() > static_cast<size_t>(kMaxRank)) return;  // no use for a hostile rank
  if (!v.rank_known) {
    v.rank_known = true;
    v.dims.assign(vi.dims.size(), -1);
  }
  if (v.dims.size() != vi.dims.size()) return;  // inference knows better than a stale annotation
  for (size_t a = 0; a < v.dims.size(); ++a)
    if (v.dims[a] < 0) {
      const int64_t d = resolve_dim(vi.dims[a]);
      if (d <= kMaxDim) v.dims[a] = d;
    }
}

}  // namespace netscore::graph::walk
