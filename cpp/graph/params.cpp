// Params: roots of constant values and the weights a compute node reads (see params.h).
#include "graph/params.h"

#include <algorithm>
#include <cmath>
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

// Elements of a tensor whose raw_data holds exactly its dims' product of `width`-byte elements; 0 otherwise
// (no raw data, a negative dim, a product that overflows or disagrees with the bytes: never trusted).
size_t raw_numel(const onnx::Tensor& t, size_t width) {
  if (width == 0 || t.raw.empty()) return 0;
  int64_t numel = 1;
  for (int64_t d : t.dims) {
    if (d < 0) return 0;
    numel = mul_sat(numel, d);
  }
  const int64_t bytes = mul_sat(numel, static_cast<int64_t>(width));
  return bytes == static_cast<int64_t>(t.raw.size()) ? static_cast<size_t>(numel) : 0;
}

// Element i of a raw little-endian floating-point tensor is 0 or an additive mask's "never" value (<= -1e30,
// the dtype's lowest finite value, -inf). Types without a raw reading here are never masks.
bool is_mask_element(const onnx::Tensor& t, size_t i) {
  const char* p = t.raw.data();
  switch (t.data_type) {
    case onnx::kFloat: {
      float v;
      std::memcpy(&v, p + i * 4, 4);
      return v == 0.0f || v <= -1e30f;
    }
    case onnx::kDouble: {
      double v;
      std::memcpy(&v, p + i * 8, 8);
      return v == 0.0 || v <= -1e30;
    }
    case onnx::kBfloat16: {
      uint16_t h;
      std::memcpy(&h, p + i * 2, 2);
      const uint32_t bits = static_cast<uint32_t>(h) << 16;
      float v;
      std::memcpy(&v, &bits, 4);
      return v == 0.0f || v <= -1e30f;
    }
    case onnx::kFloat16: {  // +-0, the lowest finite value (-65504) or -inf
      uint16_t h;
      std::memcpy(&h, p + i * 2, 2);
      return h == 0x0000 || h == 0x8000 || h == 0xFBFF || h == 0xFC00;
    }
    default:
      return false;
  }
}

// The shape and values of an additive attention mask (see ParamCounter::find_exporter_data).
bool looks_like_additive_mask(const onnx::Tensor& t) {
  if (!onnx::is_float_type(t.data_type) || t.external || t.dims.size() < 4) return false;
  const size_t r = t.dims.size();
  for (size_t k = 0; k + 2 < r; ++k)
    if (t.dims[k] != 1) return false;
  if (t.dims[r - 2] < 2 || t.dims[r - 1] < 2) return false;
  const size_t width = static_cast<size_t>(onnx::element_bits(t.data_type)) / 8;
  const size_t n = raw_numel(t, width);  // raw_data only (what exporters write)
  if (n == 0) return false;
  for (size_t i = 0; i < n; ++i)
    if (!is_mask_element(t, i)) return false;  // a learned weight stops here at once
  return true;
}

// Element i of a raw float32 / double tensor (the caller checked the type and size).
double raw_element(const onnx::Tensor& t, size_t i) {
  if (t.data_type == onnx::kDouble) {
    double v;
    std::memcpy(&v, t.raw.data() + i * 8, 8);
    return v;
  }
  float v;
  std::memcpy(&v, t.raw.data() + i * 4, 4);
  return v;
}

// A sinusoidal position table: the rotary cosines and sines of the positions (stored by the dynamo exporter),
// a fixed sinusoidal encoding (the Transformer's, Marian's and RoFormer's frozen tables: whole, or the rows of
// the input's positions). A float32 / double tensor with exactly two dims above 1, positions (L >= 3) then the
// last axis (D), where every column c holds cos(p w_c) or sin(p w_c) of the positions p = 0 .. L-1
// (0 < w_c <= pi / 2: an inverse frequency) in any arrangement of the columns. Row 0 is exactly 1 (a cosine
// column) or exactly 0 (a sine column), so a learned weight fails at its first element; the rows after it
// satisfy x[p+1] = 2 cos(w) x[p] - x[p-1], with cos(w) = x[1] for a cosine column and sqrt(1 - x[1]^2) for a
// sine column. An all-zero or all-one tensor (untrained weights) is none: some column must move.
bool looks_like_sinusoid_table(const onnx::Tensor& t) {
  if ((t.data_type != onnx::kFloat && t.data_type != onnx::kDouble) || t.external || t.dims.size() < 2) return false;
  const size_t r = t.dims.size();
  size_t big = 0;
  for (size_t k = 0; k < r; ++k) big += t.dims[k] != 1;
  const size_t width = t.data_type == onnx::kDouble ? 8 : 4;
  const size_t numel = raw_numel(t, width);
  if (big != 2 || numel == 0 || t.dims[r - 1] < 2) return false;
  const size_t cols = static_cast<size_t>(t.dims[r - 1]), rows = numel / cols;
  if (rows < 3) return false;
  // float32 angles p w (w <= 1) are rounded by up to 6e-8 p: three terms of the recurrence, with margin
  auto tolerance = [](size_t p) { return 1e-5 + 5e-7 * static_cast<double>(p + 1); };
  constexpr double kTolerance = 1e-5;
  for (size_t c = 0; c < cols; ++c) {  // row 0 first: a learned weight stops at its first element
    const double x0 = raw_element(t, c);
    if (x0 != 0.0 && x0 != 1.0) return false;
  }
  bool any_moving = false;
  for (size_t c = 0; c < cols; ++c) {
    const double x0 = raw_element(t, c), x1 = raw_element(t, cols + c);
    if (x1 < -1.0 || x1 > 1.0) return false;
    const double cw = x0 == 1.0 ? x1 : std::sqrt(1.0 - x1 * x1);
    if (cw < -kTolerance) return false;  // w beyond pi / 2: not an inverse frequency
    if (x1 != x0) any_moving = true;
    double prev = x0, cur = x1;
    for (size_t p = 1; p + 1 < rows; ++p) {
      const double next = raw_element(t, (p + 1) * cols + c);
      if (std::fabs(next - (2.0 * cw * cur - prev)) > tolerance(p) || std::fabs(next) > 1.0 + kTolerance) return false;
      prev = cur;
      cur = next;
    }
  }
  return any_moving;
}

}  // namespace

void ParamCounter::find_exporter_data(const std::vector<onnx::Tensor>& initializers,
                                      const std::vector<onnx::Node>& nodes, const std::vector<size_t>& in_begin,
                                      const std::vector<uint32_t>& in_ids, const std::vector<size_t>& out_begin,
                                      const std::vector<uint32_t>& out_ids, size_t num_values) {
  // what a value may be, until a reader says otherwise; kRead: some node of this graph reads it
  enum : char { kMask = 1, kAngles = 2, kSinusoid = 4, kAll = 7, kRead = 8 };
  // Readers first (no names, no values): a mask is only ever added to attention scores (or selected by
  // Where); angles are only ever the argument of Sin and Cos; a sinusoidal table is multiplied (rotary),
  // added (a fixed encoding) or looked up by position (Gather). Any other reader makes a tensor a weight.
  std::vector<char>& readers = scratch_flags_;
  readers.assign(num_values, kAll);
  for (size_t ni = 0; ni < nodes.size(); ++ni) {
    const onnx::Node& n = nodes[ni];
    char keep = 0;
    if (is_default_domain(n.domain)) {
      if (n.op_type == "Add") keep = kMask | kSinusoid;
      else if (n.op_type == "Where") keep = kMask;
      else if (n.op_type == "Sin" || n.op_type == "Cos") keep = kAngles;
      else if (n.op_type == "Mul" || n.op_type == "Gather") keep = kSinusoid;
    }
    for (size_t k = in_begin[ni]; k < in_begin[ni + 1]; ++k)
      if (in_ids[k] != kNone && in_ids[k] < num_values)
        readers[in_ids[k]] = static_cast<char>((readers[in_ids[k]] & keep) | kRead);
  }
  // Then the stored tensors those readers allow: shapes, and values last (the weights of MatMul, Conv,
  // Gemm and normalisation layers are never read).
  exporter_data_.assign(num_values, 0);
  auto check = [&](const onnx::Tensor& t, uint32_t id) {
    if (id == kNone || id >= num_values || readers[id] == kRead || !(readers[id] & kRead) ||
        !onnx::is_float_type(t.data_type))
      return;
    int64_t numel = 1;
    for (int64_t d : t.dims) numel = mul_sat(numel, d);
    if (numel <= 1) return;
    char flags = static_cast<char>(readers[id] & kAll);
    if ((flags & kMask) && !looks_like_additive_mask(t)) flags &= ~kMask;
    if ((flags & kSinusoid) && !looks_like_sinusoid_table(t)) flags &= ~kSinusoid;
    exporter_data_[id] = flags;
  };
  for (size_t k = 0; k < initializers.size(); ++k) check(initializers[k], static_cast<uint32_t>(k));
  for (size_t ni = 0; ni < nodes.size(); ++ni) {
    const onnx::Node& n = nodes[ni];
    if (n.op_type != "Constant" || !is_default_domain(n.domain) || out_begin[ni] == out_begin[ni + 1]) continue;
    for (const onnx::Attribute& a : n.attributes)
      if (a.name == "value" && !a.tensors.empty()) check(a.tensors[0], out_ids[out_begin[ni]]);
  }
}

namespace {

// Elements of a raw row-major tensor that can differ (dedupe_weights), when that is fewer than it stores: a
// tensor whose slices along an axis are all equal is one slice broadcast (the dynamo exporter's folded
// token-type embedding: one row repeated over the sequence), and one whose last two axes are constant along
// every diagonal is a table gathered by the relative position j - i (T5, MPNet and WavLM relative attention
// biases, folded): it holds one value per diagonal. 0: every element can differ.
int64_t distinct_elements(const onnx::Tensor& t, size_t width) {
  const size_t rank = t.dims.size();
  const size_t numel = raw_numel(t, width);
  if (rank == 0 || numel == 0) return 0;
  const char* p = t.raw.data();
  size_t distinct = numel;
  std::vector<char> broadcast(rank, 0);
  size_t inner = numel;  // elements per index of axis k and below: product of dims[k..]
  for (size_t k = 0; k < rank; ++k) {
    const size_t dk = static_cast<size_t>(t.dims[k]);
    const size_t block = inner / dk;          // elements of one slice within one outer index
    const size_t outer = numel / inner;
    inner = block;
    if (dk < 2 || block == 0) continue;
    bool same = true;
    for (size_t o = 0; o < outer && same; ++o) {
      const char* base = p + o * dk * block * width;
      for (size_t j = 1; j < dk && same; ++j) same = std::memcmp(base, base + j * block * width, block * width) == 0;
    }
    if (same) {
      broadcast[k] = 1;
      distinct /= dk;
    }
  }
  if (rank >= 2 && !broadcast[rank - 1] && !broadcast[rank - 2]) {
    const size_t rows = static_cast<size_t>(t.dims[rank - 2]), cols = static_cast<size_t>(t.dims[rank - 1]);
    if (rows >= 2 && cols >= 2) {
      const size_t row_bytes = cols * width;
      bool toeplitz = true;
      for (size_t m = 0; m < numel / (rows * cols) && toeplitz; ++m)
        for (size_t i = 0; i + 1 < rows && toeplitz; ++i) {
          const char* a = p + (m * rows + i) * row_bytes;
          toeplitz = std::memcmp(a, a + row_bytes + width, (cols - 1) * width) == 0;
        }
      if (toeplitz) distinct = distinct / (rows * cols) * (rows + cols - 1);
    }
  }
  return distinct < numel ? static_cast<int64_t>(distinct) : 0;
}

// Learned values of a floating-point tensor gathered from a smaller table by an index shared by its slices
// along one axis (dedupe_weights): timm's eval-mode attention-bias caches (LeViT's and EfficientFormer's
// attention_biases [heads, offsets] stored as attention_biases[:, idxs], [heads, queries, keys], by the
// dynamo exporter) hold heads x offsets learned values. 0: not gathered.
int64_t gathered_table_values(const onnx::Tensor& t) {
  if (!onnx::is_float_type(t.data_type) || t.dims.size() < 2) return 0;
  const size_t width = static_cast<size_t>(onnx::element_bits(t.data_type)) / 8;
  const size_t numel = t.raw.size() / width;
  for (int64_t d : t.dims)
    if (d <= 0) return 0;
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
    if (values.size() * 4 > sample * 3) return 0;
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
  return best < static_cast<int64_t>(numel) ? best : 0;
}

}  // namespace

void ParamCounter::find_duplicates(const std::vector<onnx::Tensor>& initializers, const std::vector<onnx::Node>& nodes,
                                   const std::function<uint32_t(std::string_view)>& find) {
  same_as_.clear();
  distinct_.clear();
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
    int64_t distinct = distinct_elements(t, width);
    if (const int64_t gathered = gathered_table_values(t); gathered > 0 && (distinct == 0 || gathered < distinct))
      distinct = gathered;
    if (distinct > 0) {
      if (distinct_.size() <= id) distinct_.resize(id + 1, 0);
      distinct_[id] = distinct;
    }
    groups[{t.data_type, t.raw.size()}].push_back(Entry{id, &t, 0, 0, {}});
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
      if (r < exporter_data_.size() && exporter_data_[r]) continue;  // a mask the exporter stored: data
      if (r < uniform_.size() && uniform_[r]) continue;  // dedupe_weights: one value repeated, not learned
      if (r < same_as_.size() && same_as_[r] != r) {  // a copy of a weight (dedupe_weights)
        if (counted_[same_as_[r]]) continue;
        counted_[same_as_[r]] = 1;
      }
      if (r < distinct_.size() && distinct_[r] > 0) n = distinct_[r];  // dedupe_weights: a broadcast / gathered table
      layer.params = add_sat(layer.params, n);
      layer.weight_bytes = add_sat(layer.weight_bytes, std::max<int64_t>(0, bytes_of(n, root.dtype)));
      if (stat) bn_stat_params = add_sat(bn_stat_params, n);
    }
  }
}

}  // namespace netscore::graph::walk
