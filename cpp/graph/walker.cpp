// Graph analysis: topological walk with shape inference, constant folding, per-node cost, params and memory.
//
// Counting rules implemented here (the per-op formulas live in the op families and cost.cpp):
// - Order: the model's node order when it is topological, else a stable topological order (Kahn's
//   algorithm, original index as priority). A cycle, a missing input, two producers of one tensor and a
//   node of a domain the model does not import are ModelErrors naming the node and its op type.
// - Constants: initializers (also when a graph input carries the same name: torch's
//   keep_initializers_as_inputs and IR < 4 models list weights as inputs), Constant and ConstantOfShape
//   outputs, and the outputs of every deterministic node whose inputs are all constant ("folded": cost 0,
//   not a compute node, no activation bytes). Shape/Size of a fully known shape fold the same way.
// - Params: counted on *root* constants (initializers, Constant and ConstantOfShape outputs). A constant
//   value carries the roots it derives from through the param positions (OpDef::param_inputs) of folded
//   nodes, so Identity aliases, Transpose/Reshape of weights and DequantizeLinear(int8 W) all lead back
//   to one root. A root counts once, for the first compute node that reads something derived from it at a
//   param position: elements = the root's numel, weight bytes = ceil(numel * element_bits(root dtype) / 8)
//   (an int8 QDQ model counts one byte per weight). Not params: scalars (numel <= 1, e.g. GELU's 0.5 or
//   LayerNorm's epsilon exported as constants), integer-typed roots unless the op reading them (or a folded
//   op they pass through at a param position) declares OpDef::integer_weights (quantized ops) — folded pure
//   data-movement ops (no cost function) pass integer roots on unchanged. An unsupported op counts every
//   floating-point root of its constant inputs. BatchNormalization running statistics
//   (OpDef::stat_inputs) are params and are also summed into Profile::bn_stat_params.
// - Model-local functions (FunctionProto) the registry does not know are inlined before the walk (see
//   inline_functions); their inner layers are named "<call>/<inner>".
// - Unsupported ops (not registered, If/Loop/Scan, or an op that reports a construct it does not handle)
//   are listed by op type with node names, get macs/flops -1 and take output shapes from value_info.
// - Activation bytes: non-constant outputs of compute nodes; -1 when a size is unknown (totals sum the
//   known ones). Peak: see memory.h; graph inputs live from the start, graph outputs to the end,
//   constants are weights (never activations), unknown sizes are skipped.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <queue>
#include <string_view>
#include <unordered_map>

#include "graph/analysis.h"
#include "graph/memory.h"
#include "graph/op_registry.h"
#include "graph/ops/shape_util.h"
#include "netscore/errors.h"
#include "onnx/decode.h"
#include "onnx/loader.h"

namespace netscore::graph {

namespace {

constexpr int64_t kMaxDim = int64_t(1) << 40;  // any larger dim is treated as a malformed model
constexpr uint32_t kNone = 0xffffffffu;
// Values are kept for integer tensors the decoder decoded and for floating-point tensors up to this size:
// shape arithmetic never needs the values of a large float weight, and copying them would dominate the walk.
constexpr int64_t kMaxFloatValues = 64;

bool is_default_domain(std::string_view d) { return d.empty() || d == "ai.onnx"; }

std::string op_label(const onnx::Node& n) {
  if (is_default_domain(n.domain)) return std::string(n.op_type);
  std::string s(n.domain);
  s += "::";
  s += n.op_type;
  return s;
}

// "node 'name' (Op)" for messages; unnamed nodes are identified by their index.
std::string node_label(const onnx::Node& n, size_t index) {
  std::string s = "node ";
  if (n.name.empty()) {
    s += '#';
    s += std::to_string(index);
  } else {
    s += '\'';
    s += n.name;
    s += '\'';
  }
  s += " (";
  s += op_label(n);
  s += ")";
  return s;
}

[[noreturn]] void node_error(const onnx::Node& n, size_t index, const std::string& problem) {
  throw ModelError(node_label(n, index) + ": " + problem);
}

int64_t bytes_of(int64_t numel, int32_t dtype) {
  const int bits = onnx::element_bits(dtype);
  if (numel < 0 || bits <= 0) return -1;
  const uint64_t total_bits = static_cast<uint64_t>(mul_sat(numel, bits));  // >= 0, at most INT64_MAX
  return static_cast<int64_t>((total_bits + 7) / 8);                         // rounded up to whole bytes
}

bool is_subgraph_op(const onnx::Node& n) {
  if (!is_default_domain(n.domain)) return false;
  return n.op_type == "If" || n.op_type == "Loop" || n.op_type == "Scan" || n.op_type == "SequenceMap";
}

// Open-addressing hash map from names (views into the model buffer) to ids: a single allocation instead
// of one node per entry, which matters when a walk must take well under a millisecond.
class NameMap {
 public:
  // 8 bytes at a time, multiply-xorshift mixing: tensor names are long, and this is several times cheaper
  // than a byte-wise hash while the final mix spreads every byte into the low (index) bits.
  static uint64_t hash(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
      p += 8;
      n -= 8;
    }
    uint64_t w = 0;
    if (s.size() >= 8) {
      std::memcpy(&w, s.data() + s.size() - 8, 8);  // the last 8 bytes (overlapping): a fixed-size load
    } else if (n > 0) {  // an empty view may have a null data(): memcpy must not see it
      std::memcpy(&w, p, n);
    }
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
  }

  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n + 2) cap <<= 1;
    slots_.assign(cap, Slot());
    mask_ = cap - 1;
    size_ = 0;
  }
  // A slot keeps the upper half of its name's hash: probes past other names compare that first, so the
  // bytes are compared (almost) only for the name itself.
  uint32_t find(std::string_view name) const {
    if (slots_.empty()) return kNone;
    const uint64_t h = hash(name);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kNone) return kNone;
      if (s.tag == tag && s.name == name) return s.id;
    }
  }
  // Inserts name -> id; when the name is present, overwrites only if `overwrite`. Returns false if present.
  bool insert(std::string_view name, uint32_t id, bool overwrite = false) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    const uint64_t h = hash(name);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id == kNone) {
        s.name = name;
        s.id = id;
        s.tag = tag;
        ++size_;
        return true;
      }
      if (s.tag == tag && s.name == name) {
        if (overwrite) s.id = id;
        return false;
      }
    }
  }

 private:
  struct Slot {
    std::string_view name;
    uint32_t id = kNone;
    uint32_t tag = 0;  // hash(name) >> 32
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    reserve(old.size() < 8 ? 8 : old.size());
    for (const Slot& s : old)
      if (s.id != kNone) insert(s.name, s.id);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

// (domain, name) of an op type or a function, as a hash-map key.
using NamePair = std::pair<std::string_view, std::string_view>;
struct NamePairHash {
  size_t operator()(const NamePair& p) const noexcept {
    const size_t h = std::hash<std::string_view>()(p.first);
    return h ^ (std::hash<std::string_view>()(p.second) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
  }
};

class Walker {
  struct OpCacheEntry {
    std::string_view domain, op_type;
    const OpDef* def = nullptr;      // nullptr: unsupported (not registered, or a subgraph op)
    bool makes_root = false;         // Constant / ConstantOfShape: folded outputs are root constants
    int64_t opset = 0;               // version imported for the domain (by the model, not by a function)
  };

 public:
  Walker(const onnx::Model& model, const Options& options)
      : model_(model), graph_(model.graph), options_(options), registry_(default_registry()) {}

  static constexpr size_t kMaxKeptValues = 1 << 16;

  static std::vector<Value>& thread_values() {
    thread_local std::vector<Value> values;
    return values;
  }

  // Empty the value while keeping its buffers' capacity.
  static void reset_value(Value& v) {
    v.dtype = 0;
    v.rank_known = false;
    v.dims.clear();
    v.is_const = false;
    v.values_known = false;
    v.ints.clear();
    v.floats.clear();
  }

  Profile run() {
    if (options_.batch_size < 1) throw ModelError("batch_size must be >= 1");
    struct TrimWorkspace {  // after a very large model, give its memory back instead of keeping it per thread
      std::vector<Value>& values;
      ~TrimWorkspace() {
        if (values.size() > kMaxKeptValues) std::vector<Value>().swap(values);
      }
    } trim{values_};
    inline_functions();
    index_values();
    resolve_node_edges();
    compute_order();
    bind_inputs();
    index_value_info();
    walk();
    finish_memory();
    return std::move(profile_);
  }

 private:
  // ---- model-local functions ---------------------------------------------------------------------------
  // Calls of model-local functions (FunctionProto) that the registry does not know are replaced by their
  // bodies: inner tensors are renamed "<call node>/<name>", attribute references resolved from the call,
  // inner nodes keep the function's opset imports. Layers of inlined nodes are named "<call node>/<inner
  // node>" and carry the call's node_index. Nested calls are expanded up to kMaxFunctionDepth.
  static constexpr int kMaxFunctionDepth = 16;
  // At most this many nodes come out of inlining (docs/limits.md): nested calls of a 1.5 KB model could
  // otherwise expand to billions. Checked before anything is expanded.
  static constexpr int64_t kMaxInlinedNodes = 1000000;

  const std::vector<onnx::Node>& nodes() const { return *nodes_; }

  const onnx::Function* find_function(const onnx::Node& n) {
    const auto domain_of = [](std::string_view d) { return is_default_domain(d) ? std::string_view() : d; };
    if (functions_.empty())  // the first of equal (domain, name) wins
      for (const onnx::Function& f : model_.functions) functions_.emplace(NamePair{domain_of(f.domain), f.name}, &f);
    auto it = functions_.find({domain_of(n.domain), n.op_type});
    return it == functions_.end() ? nullptr : it->second;
  }

  bool inlinable(const onnx::Node& n) {
    return !is_subgraph_op(n) && find_function(n) != nullptr && registry_.find(n.domain, n.op_type) == nullptr;
  }

  std::string_view own(std::string s) {
    owned_names_.push_back(std::move(s));
    return owned_names_.back();
  }

  void inline_functions() {
    nodes_ = &graph_.nodes;
    if (model_.functions.empty()) return;
    bool any = false;
    for (const onnx::Node& n : graph_.nodes)
      if (inlinable(n)) {
        any = true;
        break;
      }
    if (!any) return;
    int64_t inlined = 0;
    for (const onnx::Node& n : graph_.nodes)
      if (inlinable(n)) inlined = std::min(inlined + inlined_size(*find_function(n), 1), kSaturated);
    if (inlined > kMaxInlinedNodes)
      throw ModelError("model-local functions expand to " + std::to_string(inlined) + " nodes, more than the limit of " +
                       std::to_string(kMaxInlinedNodes) + " nodes after inlining");
    expanded_.reserve(graph_.nodes.size());
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const onnx::Node& n = graph_.nodes[i];
      if (inlinable(n)) {
        const std::string prefix = (n.name.empty() ? std::string(n.op_type) + "_" + std::to_string(i) : std::string(n.name)) + "/";
        expand_call(n, *find_function(n), static_cast<uint32_t>(i), prefix, 1);
      } else {
        expanded_.push_back(n);
        origin_.push_back(static_cast<uint32_t>(i));
        node_function_.push_back(nullptr);
      }
    }
    nodes_ = &expanded_;
  }

  // Nodes a call of f at nesting `depth` expands to (saturating), memoized per function: linear in the
  // size of the functions however deep they nest.
  static constexpr int64_t kSaturated = int64_t(1) << 61;   // a sum of two stays below INT64_MAX
  int64_t inlined_size(const onnx::Function& f, int depth) {
    if (depth > kMaxFunctionDepth)  // the error expand_call would raise on the same path
      throw ModelError("function '" + std::string(f.name) + "' nests deeper than " + std::to_string(kMaxFunctionDepth) +
                       " calls (recursive?)");
    auto it = inlined_size_.find(&f);
    if (it != inlined_size_.end()) return it->second;
    int64_t total = 0;
    for (const onnx::Node& inner : f.nodes)
      total = std::min(total + (inlinable(inner) ? inlined_size(*find_function(inner), depth + 1) : 1), kSaturated);
    inlined_size_.emplace(&f, total);
    return total;
  }

  void expand_call(const onnx::Node& call, const onnx::Function& f, uint32_t origin, const std::string& prefix, int depth) {
    if (depth > kMaxFunctionDepth)
      throw ModelError("function '" + std::string(f.name) + "' nests deeper than " + std::to_string(kMaxFunctionDepth) +
                       " calls (recursive?)");
    std::unordered_map<std::string_view, std::string_view> rename;
    for (size_t k = 0; k < f.inputs.size(); ++k)
      rename[f.inputs[k]] = k < call.inputs.size() ? call.inputs[k] : std::string_view();
    for (size_t k = 0; k < f.outputs.size(); ++k)
      rename[f.outputs[k]] = k < call.outputs.size() && !call.outputs[k].empty() ? call.outputs[k]
                                                                                 : own(prefix + std::string(f.outputs[k]));
    auto map_name = [&](std::string_view name) -> std::string_view {
      if (name.empty()) return name;
      auto it = rename.find(name);
      if (it != rename.end()) return it->second;
      std::string_view renamed = own(prefix + std::string(name));
      rename.emplace(name, renamed);
      return renamed;
    };
    for (size_t j = 0; j < f.nodes.size(); ++j) {
      const onnx::Node& inner = f.nodes[j];
      onnx::Node copy;
      copy.op_type = inner.op_type;
      copy.domain = inner.domain;
      copy.name = own(prefix + (inner.name.empty() ? std::string(inner.op_type) + "_" + std::to_string(j) : std::string(inner.name)));
      copy.inputs.reserve(inner.inputs.size());
      for (std::string_view in : inner.inputs) copy.inputs.push_back(map_name(in));
      copy.outputs.reserve(inner.outputs.size());
      for (std::string_view out : inner.outputs) copy.outputs.push_back(map_name(out));
      for (const onnx::Attribute& a : inner.attributes) {
        if (a.ref_attr_name.empty()) {
          copy.attributes.push_back(a);
        } else if (const onnx::Attribute* given = call.attribute(a.ref_attr_name)) {
          copy.attributes.push_back(*given);
          copy.attributes.back().name = a.name;
        }  // a reference the call does not set: the attribute takes its default
      }
      if (inlinable(copy)) {
        expand_call(copy, *find_function(copy), origin, std::string(copy.name) + "/", depth + 1);
      } else {
        expanded_.push_back(std::move(copy));
        origin_.push_back(origin);
        node_function_.push_back(&f);
      }
    }
  }

  // ---- value table ---------------------------------------------------------------------------------
  // A new value named `name`; kNone (and nothing added) when the name is already taken.
  uint32_t add_value(std::string_view name) {
    const uint32_t id = static_cast<uint32_t>(num_values_);
    if (!index_.insert(name, id)) return kNone;
    if (num_values_ == values_.size()) values_.emplace_back();
    else reset_value(values_[num_values_]);
    ++num_values_;  // producer_ and roots_* were sized for every value index_values adds
    return id;
  }

  void index_values() {
    size_t total_outputs = 0;
    for (const onnx::Node& n : nodes()) total_outputs += n.outputs.size();
    const size_t cap = graph_.initializers.size() + graph_.inputs.size() + total_outputs;
    values_.reserve(cap);
    producer_.assign(cap, -1);
    roots_begin_.assign(cap, 0);
    roots_count_.assign(cap, 0);
    root_pool_.reserve(graph_.initializers.size() + nodes().size());
    index_.reserve(cap);

    for (const onnx::Tensor& t : graph_.initializers) {
      if (t.name.empty()) throw ModelError("an initializer has no name");
      const uint32_t id = add_value(t.name);
      if (id == kNone) throw ModelError("initializer '" + std::string(t.name) + "' is defined twice");
      Value& v = values_[id];
      v.dtype = t.data_type;
      v.rank_known = true;
      v.dims.assign(t.dims.begin(), t.dims.end());
      int64_t numel = 1;  // product(), in the same pass as the bounds check (every dim is >= 0 here)
      for (int64_t d : v.dims) {
        if (d < 0 || d > kMaxDim)
          throw ModelError("initializer '" + std::string(t.name) + "' has an invalid dim " + std::to_string(d));
        numel = mul_sat(numel, d);
      }
      if (numel == std::numeric_limits<int64_t>::max())
        throw ModelError("initializer '" + std::string(t.name) + "' has too many elements");
      v.is_const = true;
      if (t.values_known && (onnx::is_integer_type(t.data_type) || numel <= kMaxFloatValues)) {
        v.values_known = true;
        v.ints = t.ints;
        v.floats = t.floats;
      }
      set_roots(id, &id, 1);
    }
    for (const onnx::ValueInfo& in : graph_.inputs) {
      if (in.name.empty()) throw ModelError("a graph input has no name");
      const uint32_t existing = index_.find(in.name);
      if (existing != kNone) {
        if (producer_[existing] == -1 && values_[existing].is_const) continue;  // initializer listed as input
        throw ModelError("graph input '" + std::string(in.name) + "' is listed twice");
      }
      const uint32_t id = add_value(in.name);
      graph_input_ids_.push_back(id);
      graph_input_infos_.push_back(&in);
    }
    out_ids_.clear();  // node outputs' ids, flattened in node order (kNone for an omitted output)
    out_ids_.reserve(total_outputs);
    for (size_t ni = 0; ni < nodes().size(); ++ni) {
      const onnx::Node& n = nodes()[ni];
      for (std::string_view out : n.outputs) {
        if (out.empty()) {
          out_ids_.push_back(kNone);
          continue;
        }
        const uint32_t id = add_value(out);
        out_ids_.push_back(id);
        if (id == kNone) {
          const int32_t other = producer_[index_.find(out)];
          if (other >= 0)
            node_error(n, ni, "output '" + std::string(out) + "' is also produced by " +
                                  node_label(nodes()[static_cast<size_t>(other)], static_cast<size_t>(other)));
          node_error(n, ni, "output '" + std::string(out) + "' is also an initializer or graph input");
        }
        producer_[id] = static_cast<int32_t>(ni);
      }
    }
  }

  // Input value ids per node, flattened (output ids come from index_values); a missing input is an error.
  void resolve_node_edges() {
    const size_t nn = nodes().size();
    in_begin_.resize(nn + 1);
    out_begin_.resize(nn + 1);
    size_t ni_total = 0, no_total = 0;
    for (size_t i = 0; i < nn; ++i) {
      in_begin_[i] = ni_total;
      out_begin_[i] = no_total;
      ni_total += nodes()[i].inputs.size();
      no_total += nodes()[i].outputs.size();
    }
    in_begin_[nn] = ni_total;
    out_begin_[nn] = no_total;
    in_ids_.resize(ni_total);  // out_ids_ was filled by index_values()
    for (size_t i = 0; i < nn; ++i) {
      const onnx::Node& n = nodes()[i];
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        std::string_view name = n.inputs[k];
        uint32_t id = kNone;
        if (!name.empty()) {
          id = index_.find(name);
          if (id == kNone)
            node_error(n, i, "input '" + std::string(name) +
                                 "' is not produced by any node, initializer or graph input");
        }
        in_ids_[in_begin_[i] + k] = id;
      }
    }
  }

  void compute_order() {
    const size_t nn = nodes().size();
    order_.resize(nn);
    bool topological = true;
    for (size_t i = 0; i < nn && topological; ++i)
      for (size_t k = in_begin_[i]; k < in_begin_[i + 1]; ++k)
        if (in_ids_[k] != kNone && producer_[in_ids_[k]] >= static_cast<int32_t>(i)) {
          topological = false;
          break;
        }
    if (topological) {
      for (size_t i = 0; i < nn; ++i) order_[i] = static_cast<uint32_t>(i);
      return;
    }
    // Kahn's algorithm; ties broken by original index so the order is stable and deterministic.
    std::vector<uint32_t> indegree(nn, 0);
    std::vector<size_t> cons_begin(nn + 1, 0);
    for (size_t i = 0; i < nn; ++i)
      for (size_t k = in_begin_[i]; k < in_begin_[i + 1]; ++k)
        if (in_ids_[k] != kNone && producer_[in_ids_[k]] >= 0) {
          ++indegree[i];
          ++cons_begin[static_cast<size_t>(producer_[in_ids_[k]]) + 1];
        }
    for (size_t i = 0; i < nn; ++i) cons_begin[i + 1] += cons_begin[i];
    std::vector<uint32_t> consumers(cons_begin[nn]);
    std::vector<size_t> fill(cons_begin.begin(), cons_begin.end() - 1);
    for (size_t i = 0; i < nn; ++i)
      for (size_t k = in_begin_[i]; k < in_begin_[i + 1]; ++k)
        if (in_ids_[k] != kNone && producer_[in_ids_[k]] >= 0)
          consumers[fill[static_cast<size_t>(producer_[in_ids_[k]])]++] = static_cast<uint32_t>(i);
    std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<uint32_t>> ready;
    for (size_t i = 0; i < nn; ++i)
      if (indegree[i] == 0) ready.push(static_cast<uint32_t>(i));
    size_t emitted = 0;
    while (!ready.empty()) {
      const uint32_t i = ready.top();
      ready.pop();
      order_[emitted++] = i;
      for (size_t c = cons_begin[i]; c < cons_begin[i + 1]; ++c)
        if (--indegree[consumers[c]] == 0) ready.push(consumers[c]);
    }
    if (emitted == nn) return;
    // A cycle: start at a node left over and follow unfinished producers until one repeats; that one is
    // on the cycle (the start may only be downstream of it).
    size_t cur = 0;
    while (indegree[cur] == 0) ++cur;
    std::vector<char> seen(nn, 0);
    while (!seen[cur]) {
      seen[cur] = 1;
      size_t next = cur;
      for (size_t k = in_begin_[cur]; k < in_begin_[cur + 1]; ++k) {
        if (in_ids_[k] == kNone) continue;
        const int32_t p = producer_[in_ids_[k]];
        if (p >= 0 && indegree[static_cast<size_t>(p)] > 0) {
          next = static_cast<size_t>(p);
          break;
        }
      }
      cur = next;
    }
    node_error(nodes()[cur], cur, "is part of a cycle in the graph");
  }

  // ---- graph inputs, symbolic dims --------------------------------------------------------------------
  int64_t resolve_dim(const onnx::Dim& d) const {
    if (d.value >= 0) return d.value;
    if (!d.param.empty()) {
      auto it = symbols_.find(d.param);
      if (it != symbols_.end()) return it->second;
    }
    return -1;
  }

  void bind_inputs() {
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
    }
  }

  void index_value_info() {
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

  // Fill what inference left unknown (rank, dims, dtype) from value_info / graph outputs.
  void fill_from_value_info(std::string_view name, Value& v) const {
    if (v.dtype != 0 && v.shape_known()) return;  // nothing left to fill: the usual case, checked inline
    fill_unknown_from_value_info(name, v);
  }
  void fill_unknown_from_value_info(std::string_view name, Value& v) const {
    const uint32_t at = info_.find(name);
    if (at == kNone) return;
    const onnx::ValueInfo& vi = *infos_[at];
    if (v.dtype == 0) v.dtype = vi.elem_type;
    if (!vi.has_shape) return;
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

  void set_roots(uint32_t id, const uint32_t* roots, size_t count) {
    roots_begin_[id] = static_cast<uint32_t>(root_pool_.size());
    roots_count_[id] = static_cast<uint32_t>(count);
    for (size_t i = 0; i < count; ++i) root_pool_.push_back(roots[i]);  // mostly 0 or 1 roots
  }

  // What the walk needs to know of a node's op type, looked up once per distinct (domain, op type).
  OpCacheEntry find_op(const onnx::Node& n, size_t index) {
    auto it = op_cache_.find({n.domain, n.op_type});
    if (it != op_cache_.end()) return it->second;
    OpCacheEntry e;
    e.domain = n.domain;
    e.op_type = n.op_type;
    e.opset = opset_for(n, index);  // throws for a domain the model does not import
    e.def = is_subgraph_op(n) ? nullptr : registry_.find(n.domain, n.op_type);
    e.makes_root = is_default_domain(n.domain) && (n.op_type == "Constant" || n.op_type == "ConstantOfShape");
    op_cache_.emplace(NamePair{n.domain, n.op_type}, e);
    return e;
  }

  // ---- the walk --------------------------------------------------------------------------------------
  int64_t opset_for(const onnx::Node& n, size_t index) {
    const std::string_view domain = is_default_domain(n.domain) ? std::string_view() : n.domain;
    const onnx::Function* fn = node_function_.empty() ? nullptr : node_function_[index];
    if (fn) {  // a node inlined from a function body: the function's own opset imports come first
      for (const onnx::OpsetId& o : fn->opsets)
        if ((is_default_domain(o.domain) ? std::string_view() : o.domain) == domain && o.version > 0) return o.version;
    }
    if (opset_cache_.empty())  // the highest version imported per domain, as Model::opset, in one pass
      for (const onnx::OpsetId& o : model_.opsets) {
        int64_t& best = opset_cache_[is_default_domain(o.domain) ? std::string_view() : o.domain];
        best = std::max(best, o.version);
      }
    const auto it = opset_cache_.find(domain);
    int64_t v = it == opset_cache_.end() ? 0 : it->second;
    if (v <= 0 && domain.empty() && model_.opsets.empty()) v = 1;  // IR < 3 models predate opset_import
    if (v <= 0) node_error(n, index, "its domain '" + std::string(n.domain) + "' is not imported by the model");
    return v;
  }

  // Without layer rows only the scratch row's name (when a list needed it) and counts were set: clear those,
  // keeping the name's buffer.
  static void reset_counts(Layer& layer) {
    layer.name.clear();
    layer.supported = true;
    layer.folded = false;
    layer.params = layer.weight_bytes = layer.macs = layer.flops = layer.activation_bytes = 0;
  }

  // The layer's name, built on first use: the node's name, or "<op type>_<node index>" when unnamed.
  static const std::string& set_layer_name(Layer& layer, const onnx::Node& n, size_t index) {
    if (!layer.name.empty()) return layer.name;
    if (n.name.empty()) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, index).ptr;
      layer.name.reserve(n.op_type.size() + 1 + static_cast<size_t>(end - digits));
      layer.name.append(n.op_type).append(1, '_').append(digits, end);
    } else {
      layer.name.assign(n.name);
    }
    return layer.name;
  }

  void mark_unsupported(const onnx::Node& n, const std::string& layer_name) {
    std::string label = op_label(n);
    auto it = unsupported_index_.find(label);
    if (it == unsupported_index_.end()) {
      unsupported_index_.emplace(label, profile_.unsupported_ops.size());
      profile_.unsupported_ops.push_back(UnsupportedOp{std::move(label), {layer_name}});
    } else {
      profile_.unsupported_ops[it->second].node_names.push_back(layer_name);
    }
  }

  // Roots that flow from a constant input at a param position into a folded node's outputs.
  void propagate_roots(const OpDef* def, size_t node, std::vector<uint32_t>& out) {
    const bool pass_integer = def->integer_weights || def->cost == nullptr;
    for (size_t k = in_begin_[node]; k < in_begin_[node + 1]; ++k) {
      const uint32_t id = in_ids_[k];
      const size_t pos = k - in_begin_[node];
      if (id == kNone || !is_param_position(def->param_inputs, pos)) continue;
      for (uint32_t j = 0; j < roots_count_[id]; ++j) {
        const uint32_t r = root_pool_[roots_begin_[id] + j];
        if (onnx::is_integer_type(values_[r].dtype)) {
          if (!pass_integer) continue;
          if (def->integer_weights) integer_admitted_[r] = 1;  // e.g. int8 W through DequantizeLinear
        }
        if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
      }
    }
  }

  static bool is_param_position(uint64_t mask, size_t pos) { return (mask >> (pos < 63 ? pos : 63)) & 1u; }

  void count_params(const OpDef* def, size_t node, Layer& layer) {
    for (size_t k = in_begin_[node]; k < in_begin_[node + 1]; ++k) {
      const uint32_t id = in_ids_[k];
      if (id == kNone || !values_[id].is_const) continue;
      const size_t pos = k - in_begin_[node];
      bool integer_ok = false, stat = false;
      if (def) {
        if (!is_param_position(def->param_inputs, pos)) continue;
        integer_ok = def->integer_weights;
        stat = pos < 64 && ((def->stat_inputs >> pos) & 1u);
      } else if (!onnx::is_float_type(values_[id].dtype)) {
        continue;  // unsupported op: only its floating-point constant inputs count
      }
      for (uint32_t j = 0; j < roots_count_[id]; ++j) {
        const uint32_t r = root_pool_[roots_begin_[id] + j];
        if (counted_[r]) continue;
        const Value& root = values_[r];
        const int64_t n = root.numel();
        if (n <= 1) continue;  // scalars are exporter constants (eps, 0.5, ...), not weights
        if (onnx::is_integer_type(root.dtype) ? !(integer_ok || integer_admitted_[r]) : !onnx::is_float_type(root.dtype))
          continue;
        counted_[r] = 1;
        layer.params = add_sat(layer.params, n);
        layer.weight_bytes = add_sat(layer.weight_bytes, std::max<int64_t>(0, bytes_of(n, root.dtype)));
        if (stat) profile_.bn_stat_params = add_sat(profile_.bn_stat_params, n);
      }
    }
  }

  void walk() {
    const size_t nn = nodes().size();
    const size_t nv = num_values_;
    counted_.assign(nv, 0);
    integer_admitted_.assign(nv, 0);
    last_use_.assign(nv, -1);
    first_use_.assign(nv, -1);
    act_bytes_.assign(nv, -1);
    const bool want_layers = options_.want_layers;
    if (want_layers) profile_.layers.reserve(nn);
    profile_.num_nodes = static_cast<int64_t>(nn);
    Layer scratch_layer;
    std::vector<const Value*> ins;
    std::vector<Value*> outs;
    for (size_t step = 0; step < nn; ++step) {
      const size_t ni = order_[step];
      const onnx::Node& n = nodes()[ni];
      // Without layer rows, one scratch row collects the node's counts; its name is built only when a list
      // (unsupported ops, unknown costs) needs it.
      if (!want_layers) reset_counts(scratch_layer);
      Layer& layer = want_layers ? profile_.layers.emplace_back()  // capacity reserved: the reference stays valid
                                 : scratch_layer;
      layer.node_index = origin_.empty() ? ni : origin_[ni];
      if (want_layers) {
        set_layer_name(layer, n, ni);
        layer.op_type.assign(n.op_type);
        layer.domain.assign(n.domain);
      }

      const OpCacheEntry op = find_op(n, ni);
      const OpDef* def = op.def;
      // Nodes inlined from a function body take the function's opset imports: looked up per node.
      const int64_t opset = node_function_.empty() ? op.opset : opset_for(n, ni);
      ins.clear();
      outs.clear();
      bool all_const = true;
      for (size_t k = in_begin_[ni]; k < in_begin_[ni + 1]; ++k) {
        const uint32_t id = in_ids_[k];
        if (id == kNone) {
          ins.push_back(nullptr);
          continue;
        }
        ins.push_back(&values_[id]);
        if (!values_[id].is_const) all_const = false;
      }
      for (size_t k = out_begin_[ni]; k < out_begin_[ni + 1]; ++k) {
        const uint32_t id = out_ids_[k];
        if (id == kNone) {
          outs.push_back(nullptr);
          continue;
        }
        reset_value(values_[id]);
        outs.push_back(&values_[id]);
      }

      OpContext ctx(n, opset, ins, outs, std::string_view(), def);
      bool supported = def != nullptr;
      if (supported) {
        try {
          def->infer(ctx);
        } catch (const UnsupportedConstruct&) {
          supported = false;
        } catch (const ModelError&) {
          throw;
        } catch (const std::exception& e) {
          node_error(n, ni, std::string("shape inference failed: ") + e.what());
        }
      }
      bool folded = false;
      if (supported) {
        validate_outputs(ctx, outs);
        bool outputs_const = true, any_output = false;
        for (Value* v : outs)
          if (v) {
            any_output = true;
            if (!v->is_const) outputs_const = false;
          }
        folded = def->deterministic && (all_const || (any_output && outputs_const));
        for (size_t k = 0; k < outs.size(); ++k) {
          if (!outs[k]) continue;
          outs[k]->is_const = folded;
          fill_from_value_info(n.outputs[k], *outs[k]);
        }
      } else {
        for (size_t k = 0; k < outs.size(); ++k) {
          if (!outs[k]) continue;
          reset_value(*outs[k]);
          fill_from_value_info(n.outputs[k], *outs[k]);
        }
        mark_unsupported(n, set_layer_name(layer, n, ni));
      }
      layer.supported = supported;
      layer.folded = folded;

      if (folded) {
        const bool makes_root = op.makes_root;
        scratch_roots_.clear();
        if (!makes_root) propagate_roots(def, ni, scratch_roots_);
        for (size_t k = out_begin_[ni]; k < out_begin_[ni + 1]; ++k) {
          const uint32_t id = out_ids_[k];
          if (id == kNone) continue;
          if (makes_root) set_roots(id, &id, 1);
          else set_roots(id, scratch_roots_.data(), scratch_roots_.size());
        }
      } else {
        count_params(supported ? def : nullptr, ni, layer);
        // costs
        if (!supported) {
          layer.macs = layer.flops = -1;
          profile_.unknown_cost_nodes.push_back(set_layer_name(layer, n, ni));
        } else if (def->cost) {
          Cost c;
          try {
            c = def->cost(ctx);
          } catch (const UnsupportedConstruct&) {
            c.known = false;  // a construct the cost function does not handle: list the op as unsupported
            layer.supported = false;
            mark_unsupported(n, set_layer_name(layer, n, ni));
          } catch (const ModelError&) {
            throw;
          } catch (const std::exception& e) {
            node_error(n, ni, std::string("cost failed: ") + e.what());
          }
          if (c.known && c.macs >= 0 && c.flops >= 0) {
            layer.macs = c.macs;
            layer.flops = c.flops;
          } else {
            layer.macs = layer.flops = -1;
            profile_.unknown_cost_nodes.push_back(set_layer_name(layer, n, ni));
          }
        }
        // activations and liveness
        int64_t act = 0;
        for (size_t k = out_begin_[ni]; k < out_begin_[ni + 1]; ++k) {
          const uint32_t id = out_ids_[k];
          if (id == kNone) continue;
          const int64_t b = bytes_of(values_[id].numel(), values_[id].dtype);
          act_bytes_[id] = b;
          first_use_[id] = static_cast<int64_t>(step);
          last_use_[id] = static_cast<int64_t>(step);
          act = (act < 0 || b < 0) ? -1 : add_sat(act, b);
        }
        layer.activation_bytes = act;
        for (size_t k = in_begin_[ni]; k < in_begin_[ni + 1]; ++k) {
          const uint32_t id = in_ids_[k];
          if (id != kNone && !values_[id].is_const) last_use_[id] = static_cast<int64_t>(step);
        }
      }

      if (want_layers) {
        layer.input_shapes.reserve(ins.size());
        for (const Value* v : ins) layer.input_shapes.push_back(v ? v->dims : std::vector<int64_t>());
        layer.output_shapes.reserve(outs.size());
        layer.output_dtypes.reserve(outs.size());
        for (const Value* v : outs) {
          layer.output_shapes.push_back(v ? v->dims : std::vector<int64_t>());
          layer.output_dtypes.push_back(v ? v->dtype : 0);
        }
      }

      profile_.params = add_sat(profile_.params, layer.params);
      profile_.weight_bytes = add_sat(profile_.weight_bytes, layer.weight_bytes);
      if (layer.macs > 0) profile_.macs = add_sat(profile_.macs, layer.macs);
      if (layer.flops > 0) profile_.flops = add_sat(profile_.flops, layer.flops);
      if (layer.activation_bytes > 0) profile_.activation_bytes = add_sat(profile_.activation_bytes, layer.activation_bytes);
      else if (layer.activation_bytes < 0) {
        // still add the outputs whose sizes are known
        for (size_t k = out_begin_[ni]; k < out_begin_[ni + 1]; ++k)
          if (out_ids_[k] != kNone && act_bytes_[out_ids_[k]] > 0)
            profile_.activation_bytes = add_sat(profile_.activation_bytes, act_bytes_[out_ids_[k]]);
      }
    }
  }

  // Every dim an op infers must be -1 or within bounds, and the element count must not overflow.
  void validate_outputs(const OpContext& ctx, const std::vector<Value*>& outs) const {
    for (Value* v : outs) {
      if (!v) continue;
      if (!v->rank_known) {
        v->dims.clear();
        continue;
      }
      int64_t numel = 1;  // product(), in the same pass as the bounds check
      for (int64_t d : v->dims) {
        if (d < -1 || d > kMaxDim) ctx.fail("inferred an invalid output dim " + std::to_string(d));
        if (numel >= 0) numel = d < 0 ? -1 : mul_sat(numel, d);
      }
      if (numel == std::numeric_limits<int64_t>::max()) ctx.fail("output has too many elements");
      if (v->values_known) {
        const int64_t n = v->numel();
        const size_t have = onnx::is_integer_type(v->dtype) ? v->ints.size() : v->floats.size();
        if (n < 0 || static_cast<size_t>(n) != have) v->values_known = false;  // defensive: never trust a mismatch
      }
    }
  }

  void finish_memory() {
    const int64_t steps = static_cast<int64_t>(nodes().size());
    std::vector<TensorLife> lives;
    lives.reserve(num_values_);
    for (uint32_t id : graph_input_ids_) {
      const int64_t b = bytes_of(values_[id].numel(), values_[id].dtype);
      act_bytes_[id] = b;
      first_use_[id] = 0;
      if (last_use_[id] < 0) last_use_[id] = 0;
    }
    for (const onnx::ValueInfo& o : graph_.outputs) {
      const uint32_t id = index_.find(o.name);
      if (id == kNone) throw ModelError("graph output '" + std::string(o.name) + "' is never produced");
      if (first_use_[id] >= 0) last_use_[id] = std::max<int64_t>(steps - 1, 0);
    }
    for (size_t id = 0; id < num_values_; ++id) {
      if (first_use_[id] < 0 || values_[id].is_const) continue;
      if (act_bytes_[id] < 0) continue;  // size unknown: left out of the peak (its layer shows -1 bytes)
      lives.push_back(TensorLife{act_bytes_[id], first_use_[id], last_use_[id]});
    }
    profile_.peak_activation_bytes = peak_live_bytes(lives, steps);
  }

  const onnx::Model& model_;
  const onnx::Graph& graph_;
  const std::vector<onnx::Node>* nodes_ = nullptr;     // graph_.nodes, or expanded_ when functions were inlined
  std::vector<onnx::Node> expanded_;
  std::vector<uint32_t> origin_;                       // expanded node -> index in graph_.nodes
  std::vector<const onnx::Function*> node_function_;
  std::unordered_map<const onnx::Function*, int64_t> inlined_size_;   // nodes a call expands to
  std::unordered_map<NamePair, const onnx::Function*, NamePairHash> functions_;   // by (domain, name)   // expanded node -> function whose body it came from
  std::deque<std::string> owned_names_;                // storage for renamed tensors and nodes (stable)
  const Options& options_;
  const OpRegistry& registry_;

  // The value table lives in a per-thread workspace that the next walk on the thread reuses: its Values
  // keep the capacity of their dims/ints/floats, so steady-state (bulk) profiling allocates far less.
  // Entries [0, num_values_) belong to this walk.
  std::vector<Value>& values_ = thread_values();
  size_t num_values_ = 0;
  std::vector<int32_t> producer_;               // node index, -1 for initializers and graph inputs
  // Root constants each constant value derives from: roots_count_[id] ids at root_pool_[roots_begin_[id]].
  std::vector<uint32_t> roots_begin_, roots_count_, root_pool_, scratch_roots_;
  NameMap index_;
  std::unordered_map<NamePair, OpCacheEntry, NamePairHash> op_cache_;  // registry look-ups by (domain, op type)
  std::vector<uint32_t> graph_input_ids_;
  std::vector<const onnx::ValueInfo*> graph_input_infos_;
  std::vector<size_t> in_begin_, out_begin_;
  std::vector<uint32_t> in_ids_, out_ids_;
  std::vector<uint32_t> order_;
  std::unordered_map<std::string_view, int64_t> symbols_;
  NameMap info_;
  std::vector<const onnx::ValueInfo*> infos_;
  std::unordered_map<std::string_view, int64_t> opset_cache_;   // domain ("" for the default) -> version
  std::unordered_map<std::string, size_t> unsupported_index_;
  std::vector<char> counted_;
  std::vector<char> integer_admitted_;           // integer root that passed a folded integer-weight op
  std::vector<int64_t> first_use_, last_use_, act_bytes_;
  Profile profile_;
};

}  // namespace

Profile analyze(const onnx::Model& model, const Options& options) { return Walker(model, options).run(); }

Profile profile_bytes(const uint8_t* data, size_t size, const std::string& source_name, const Options& options) {
  try {
    const onnx::ThreadModel model(data, size);  // this thread's reused Model: no allocations when warm
    return analyze(model.model(), options);
  } catch (const ModelError& e) {
    throw ModelError(source_name + ": " + e.what());
  }
}

Profile profile_file(const std::string& path, const Options& options) {
  onnx::MappedFile file(path);  // its errors already name the path
  Profile profile;
  try {
    profile = profile_bytes(file.data(), file.size(), path, options);
  } catch (...) {
    file.check_unchanged();  // a file that shrank while read explains any error
    throw;
  }
  file.check_unchanged();
  return profile;
}

}  // namespace netscore::graph
