// Params: roots of constant values and the weights a compute node reads (see params.h).
#include "graph/params.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "graph/name_map.h"
#include "graph/walk_util.h"
#include "graph/walker_impl.h"

namespace netscore::graph::walk {

namespace {

// A BatchNormalization computing Y from batch statistics (training_mode, or opset < 14 outputs past Y).
bool is_training_batch_norm(const onnx::Node& n) {
  if (n.op_type != "BatchNormalization" || !is_default_domain(n.domain)) return false;
  for (const onnx::Attribute& a : n.attributes)
    if (a.name == "training_mode") return a.i != 0;
  for (size_t k = 1; k < n.outputs.size(); ++k)
    if (!n.outputs[k].empty()) return true;
  return false;
}

}  // namespace

void ParamCounter::find_duplicates(const std::vector<onnx::Tensor>& initializers, const std::vector<onnx::Node>& nodes,
                                   const std::function<uint32_t(std::string_view)>& find) {
  same_as_.clear();
  gathered_.clear();
  // the stored tensors by value id: initializers, then the tensors of Constant nodes (the TorchScript
  // exporter writes its all-zero biases as Constant nodes)
  std::vector<std::pair<const onnx::Tensor*, uint32_t>> stored;
  for (const onnx::Tensor& t : initializers) stored.emplace_back(&t, find(t.name));
  for (const onnx::Node& n : nodes)
    if (n.op_type == "Constant" && is_default_domain(n.domain) && !n.outputs.empty())
      for (const onnx::Attribute& a : n.attributes)
        if (a.name == "value" && !a.tensors.empty()) stored.emplace_back(&a.tensors[0], find(n.outputs[0]));
  struct Entry {
    uint32_t id;
    const onnx::Tensor* t;
    uint64_t bytes_hash, sorted_hash;
    std::string sorted;  // the elements as byte strings, in byte order: equal for any permutation
  };
  std::map<std::pair<int32_t, size_t>, std::vector<Entry>> groups;  // (type, bytes) -> tensors
  uniform_.clear();
  for (const auto& [tensor, id] : stored) {
    const onnx::Tensor& t = *tensor;
    const size_t width = static_cast<size_t>(onnx::element_bits(t.data_type)) / 8;
    if (t.raw.empty() || width == 0 || t.raw.size() <= width || t.raw.size() % width) continue;
    if (id == kNone) continue;
    bool uniform = true;  // one value repeated: a zero bias or an all-ones mask the exporter made
    for (size_t i = width; i < t.raw.size() && uniform; i += width)
      uniform = t.raw.compare(i, width, t.raw, 0, width) == 0;
    if (uniform) {
      if (uniform_.size() <= id) uniform_.resize(id + 1, 0);
      uniform_[id] = 1;
      continue;
    }
    groups[{t.data_type, t.raw.size()}].push_back(Entry{id, &t, 0, 0, {}});
    find_gathered_table(id, t);
  }
  const std::hash<std::string_view> hash;
  for (auto& [key, entries] : groups) {
    if (entries.size() < 2) continue;
    const size_t width = static_cast<size_t>(onnx::element_bits(key.first)) / 8;
    for (Entry& e : entries) {
      e.bytes_hash = hash(e.t->raw);
      const size_t n = e.t->raw.size() / width;
      std::vector<std::string_view> elems(n);
      for (size_t i = 0; i < n; ++i) elems[i] = e.t->raw.substr(i * width, width);
      std::sort(elems.begin(), elems.end());
      e.sorted.reserve(e.t->raw.size());
      for (std::string_view x : elems) e.sorted.append(x);
      e.sorted_hash = hash(e.sorted);
    }
    for (size_t i = 1; i < entries.size(); ++i)
      for (size_t j = 0; j < i; ++j) {
        const Entry &a = entries[i], &b = entries[j];
        const bool same = (a.bytes_hash == b.bytes_hash && a.t->raw == b.t->raw) ||
                          (a.sorted_hash == b.sorted_hash && a.sorted == b.sorted);
        if (!same) continue;
        const uint32_t first = b.id < same_as_.size() ? same_as_[b.id] : b.id;
        if (same_as_.size() <= std::max(a.id, first)) {
          const size_t old = same_as_.size();
          same_as_.resize(std::max<size_t>(a.id, first) + 1);
          for (size_t k = old; k < same_as_.size(); ++k) same_as_[k] = static_cast<uint32_t>(k);
        }
        same_as_[a.id] = first;
        break;
      }
  }
}

void ParamCounter::find_gathered_table(uint32_t id, const onnx::Tensor& t) {
  if (!onnx::is_float_type(t.data_type) || t.dims.size() < 2) return;
  const size_t width = static_cast<size_t>(onnx::element_bits(t.data_type)) / 8;
  const size_t numel = t.raw.size() / width;
  for (int64_t d : t.dims)
    if (d <= 0) return;
  {  // cheap rejection: a gathered tensor repeats its values from the start (each slice reads a few table
     // entries many times), a learned weight's first values are nearly all distinct
    const size_t sample = std::min<size_t>(numel, 16384);
    std::unordered_set<uint64_t> values;
    values.reserve(sample);
    for (size_t i = 0; i < sample; ++i) {
      uint64_t v = 0;
      std::memcpy(&v, t.raw.data() + i * width, std::min<size_t>(width, sizeof v));
      values.insert(v);
    }
    if (values.size() * 4 > sample * 3) return;
  }
  int64_t best = static_cast<int64_t>(numel);
  std::unordered_map<uint64_t, std::vector<size_t>> seen;  // column hash -> positions holding a distinct column
  for (size_t axis = 0; axis < t.dims.size(); ++axis) {
    // slices along `axis` (the heads) share one index: position p holds table[h, index[p]] in slice h, so the
    // column (the values at p across the slices) repeats for every p with the same index
    const size_t heads = static_cast<size_t>(t.dims[axis]);
    if (heads < 2) continue;
    size_t inner = 1;
    for (size_t k = axis + 1; k < t.dims.size(); ++k) inner *= static_cast<size_t>(t.dims[k]);
    const size_t positions = numel / heads, limit = positions / 2;  // more distinct columns: not gathered
    const size_t stride = inner * width;
    auto start = [&](size_t p) { return ((p / inner) * heads * inner + p % inner) * width; };
    auto same = [&](size_t a, size_t b) {
      for (size_t h = 0; h < heads; ++h)
        if (t.raw.compare(a + h * stride, width, t.raw, b + h * stride, width) != 0) return false;
      return true;
    };
    seen.clear();
    size_t distinct = 0;
    for (size_t p = 0; p < positions && distinct <= limit; ++p) {
      const size_t s = start(p);
      uint64_t h = 1469598103934665603ull;  // FNV-1a over the column's bytes
      for (size_t k = 0; k < heads; ++k)
        for (size_t b = 0; b < width; ++b)
          h = (h ^ static_cast<unsigned char>(t.raw[s + k * stride + b])) * 1099511628211ull;
      std::vector<size_t>& bucket = seen[h];
      bool found = false;
      for (size_t other : bucket)
        if ((found = same(other, s))) break;
      if (!found) {
        bucket.push_back(s);
        ++distinct;
      }
    }
    if (distinct <= limit) best = std::min<int64_t>(best, static_cast<int64_t>(heads * distinct));
  }
  if (best >= static_cast<int64_t>(numel)) return;
  if (gathered_.size() <= id) gathered_.resize(id + 1, 0);
  gathered_[id] = best;
}

void ParamCounter::find_live_slots(const std::vector<onnx::Node>& nodes, const std::vector<uint32_t>& order,
                                   const std::vector<size_t>& in_begin, const std::vector<uint32_t>& in_ids,
                                   const std::vector<size_t>& out_begin, const std::vector<uint32_t>& out_ids,
                                   const std::vector<uint32_t>& output_ids, size_t num_values, int depth,
                                   const std::function<uint32_t(std::string_view)>& find) {
  live_slot_.clear();
  std::vector<char> live(num_values, 0);
  bool any_output = false;
  for (uint32_t id : output_ids)
    if (id != kNone && id < num_values) live[id] = any_output = 1;
  if (!any_output) return;  // nothing to trace back from: every slot stays live
  live_slot_.assign(in_ids.size(), 0);
  std::vector<std::string_view> reads;
  for (size_t step = order.size(); step-- > 0;) {
    const size_t ni = order[step];
    bool node_live = false;
    for (size_t k = out_begin[ni]; k < out_begin[ni + 1] && !node_live; ++k)
      node_live = out_ids[k] != kNone && live[out_ids[k]];
    if (!node_live) continue;
    const onnx::Node& n = nodes[ni];
    bool stats_live = true;
    if (is_training_batch_norm(n)) {
      stats_live = false;
      for (size_t k = out_begin[ni] + 1; k < out_begin[ni + 1] && k < out_begin[ni] + 3; ++k)
        stats_live = stats_live || (out_ids[k] != kNone && live[out_ids[k]]);
    }
    for (size_t k = in_begin[ni]; k < in_begin[ni + 1]; ++k) {
      const size_t pos = k - in_begin[ni];
      if (!stats_live && (pos == 3 || pos == 4)) continue;
      live_slot_[k] = 1;
      if (in_ids[k] != kNone) live[in_ids[k]] = 1;
    }
    for (const onnx::Attribute& a : n.attributes)  // names the node's subgraphs read from this scope
      for (const onnx::Graph& sub : a.graphs) {
        reads.clear();
        free_names(sub, reads, depth + 1);
        for (std::string_view name : reads) {
          const uint32_t id = find(name);
          if (id != kNone && id < num_values) live[id] = 1;
        }
      }
  }
}

void ParamCounter::propagate_roots(const OpDef* def, const uint32_t* in_ids, size_t num_inputs,
                                   const std::vector<Value>& values, std::vector<uint32_t>& out, size_t first_slot) {
  const bool pass_integer = def->integer_weights || def->cost == nullptr;
  const bool data_table = data_operand_is_table(def, in_ids, num_inputs, values);
  for (size_t pos = 0; pos < num_inputs; ++pos) {
    const uint32_t id = in_ids[pos];
    if (id == kNone || !is_param_position(def->param_inputs, pos)) continue;
    if (pos == 0 && data_table) continue;  // a table pushed through the layer, not a weight
    if (!live_slot_.empty() && !live_slot_[first_slot + pos]) continue;
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

bool ParamCounter::data_operand_is_table(const OpDef* def, const uint32_t* in_ids, size_t num_inputs,
                                         const std::vector<Value>& values) {
  if (!def->product || num_inputs < 2 || in_ids[0] == kNone || in_ids[1] == kNone) return false;
  const int64_t data = values[in_ids[0]].numel(), weight = values[in_ids[1]].numel();
  return weight > 0 && data > weight;
}

void ParamCounter::fold(const OpDef* def, bool makes_root, const uint32_t* in_ids, size_t num_inputs,
                        const uint32_t* out_ids, size_t num_outputs, const std::vector<Value>& values,
                        std::vector<uint32_t>& scratch, size_t first_slot) {
  bool derived = false;  // a non-constant input (its dims made the output: Shape, Size) or a derived one
  for (size_t pos = 0; pos < num_inputs && !derived; ++pos) {
    const uint32_t id = in_ids[pos];
    if (id != kNone && (!values[id].is_const || shape_derived_[id])) derived = true;
  }
  scratch.clear();
  if (!makes_root) propagate_roots(def, in_ids, num_inputs, values, scratch, first_slot);
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
                                Layer& layer, int64_t& bn_stat_params, size_t first_slot) {
  for (size_t pos = 0; pos < num_inputs; ++pos) {
    const uint32_t id = in_ids[pos];
    if (id == kNone || !values[id].is_const) continue;
    if (!live_slot_.empty() && !live_slot_[first_slot + pos]) continue;  // cannot change an output
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
      int64_t n = root.numel();
      if (n <= 1) continue;  // scalars are exporter constants (eps, 0.5, ...), not weights
      if (onnx::is_integer_type(root.dtype) ? !(integer_ok || integer_admitted_[r]) : !onnx::is_float_type(root.dtype))
        continue;
      counted_[r] = 1;
      if (r < uniform_.size() && uniform_[r]) continue;  // dedupe_weights: one value repeated, not learned
      if (r < same_as_.size() && same_as_[r] != r) {  // a copy of a weight (dedupe_weights)
        if (counted_[same_as_[r]]) continue;
        counted_[same_as_[r]] = 1;
      }
      if (r < gathered_.size() && gathered_[r] > 0) n = gathered_[r];  // a gathered table: its learned values
      layer.params = add_sat(layer.params, n);
      layer.weight_bytes = add_sat(layer.weight_bytes, std::max<int64_t>(0, bytes_of(n, root.dtype)));
      if (stat) bn_stat_params = add_sat(bn_stat_params, n);
    }
  }
}

}  // namespace netscore::graph::walk
