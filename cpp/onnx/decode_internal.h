// Shared by the decoder's parts (decode.cpp: graphs, nodes, model; decode_tensor.cpp: tensors and types):
// error locations, element reuse, and the entry points of the tensor and type decoders.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "netscore/errors.h"
#include "onnx/decode.h"
#include "onnx/onnx_fields.h"
#include "onnx/pb_reader.h"

namespace netscore::onnx::detail {

using pb::Reader;
namespace fl = fields;

// A ModelError whose location is built up on the way out: "graph.node[12] (Conv 'c').attribute[0] (pads): ...".
struct LocatedError : ModelError {
  LocatedError(std::string where, std::string what_problem)
      : ModelError(where + ": " + what_problem), path(std::move(where)), problem(std::move(what_problem)) {}
  std::string path;
  std::string problem;
};

// Called inside a catch block: rethrow the current error with `component` prepended to its location.
[[noreturn]] inline void rethrow_at(const std::string& component) {
  try {
    throw;
  } catch (const LocatedError& e) {
    const bool index = !e.path.empty() && e.path[0] == '[';
    throw LocatedError(component + (index ? "" : ".") + e.path, e.problem);
  } catch (const ModelError& e) {
    throw LocatedError(component, e.what());
  }
}

inline std::string describe(std::string_view kind, size_t index, std::string_view name) {
  std::string s(kind);
  s += '[';
  s += std::to_string(index);
  s += ']';
  if (!name.empty()) {
    s += " '";
    s.append(name.data(), name.size());
    s += '\'';
  }
  return s;
}

inline void check_depth(int depth) {
  if (depth > kMaxMessageDepth)
    throw ModelError("messages nested more than " + std::to_string(kMaxMessageDepth) + " deep");
}

// ---------------------------------------------------------------------------------------------------------
// Reuse: a decode into a Model that held an earlier one refills its elements by index. Each message's list
// is filled through a Slots cursor: the next element is the old one at that index, emptied but keeping its
// buffers, or a new one past the old size; finish() drops the tail the new message did not use.
// Nodes, attributes, tensors and value infos so dropped are parked per thread with their buffers (up to
// kMaxSpare of each type) and handed to the next list that grows on the thread: bulk decoding of models
// that differ in size (NAS candidates) then moves elements between lists instead of freeing them and
// reallocating every inner list. Subgraphs are not parked.

inline void reset(Tensor& t) {
  t.name = {};
  t.data_type = kUndefined;
  t.dims.clear();
  t.external = false;
  t.values_known = false;
  t.ints.clear();
  t.floats.clear();
}

inline void reset(ValueInfo& vi) {
  vi.name = {};
  vi.elem_type = kUndefined;
  vi.has_shape = false;
  vi.dims.clear();
}

// Scalars and flat lists only: the attribute's tensors and graphs are refilled by decode_attribute.
inline void reset(Attribute& a) {
  a.name = {};
  a.type = AttrType::kUndefined;
  a.f = 0.0f;
  a.i = 0;
  a.s = {};
  a.ref_attr_name = {};
  a.floats.clear();
  a.ints.clear();
  a.strings.clear();
}

// Scalars and flat lists only: attributes are refilled by decode_node.
inline void reset(Node& n) {
  n.name = {};
  n.op_type = {};
  n.domain = {};
  n.inputs.clear();
  n.outputs.clear();
  n.metadata.clear();
}

// Scalars and flat lists only: nodes are refilled by decode_function.
inline void reset(Function& f) {
  f.name = {};
  f.domain = {};
  f.inputs.clear();
  f.outputs.clear();
  f.attributes.clear();
  f.opsets.clear();
}

inline void reset(Graph& g) { g.name = {}; }  // its lists are refilled by decode_graph

inline constexpr size_t kMaxSpare = 4096;

template <class T>
inline constexpr bool kParked = std::is_same_v<T, Node> || std::is_same_v<T, Attribute> || std::is_same_v<T, Tensor> ||
                         std::is_same_v<T, ValueInfo>;

template <class T>
inline std::vector<T>& spare() {
  thread_local std::vector<T> pool;
  return pool;
}

// What a parked element may not keep: nested subgraphs (unbounded in size).
inline void strip(Node& n) {
  for (Attribute& a : n.attributes) a.graphs.clear();
}
inline void strip(Attribute& a) { a.graphs.clear(); }
inline void strip(Tensor&) {}
inline void strip(ValueInfo&) {}

// A list grows by one element: a parked one when there is one. Out of line (as is drop_tail), so that the
// per-field decode loops stay small enough for the cursor's getters to be inlined into them.
template <class T>
NETSCORE_NOINLINE T& grow_list(std::vector<T>& v) {
  if constexpr (kParked<T>) {
    std::vector<T>& pool = spare<T>();
    if (!pool.empty()) {
      T& x = v.emplace_back(std::move(pool.back()));
      pool.pop_back();
      reset(x);
      return x;
    }
  }
  return v.emplace_back();
}

// Drops v[used, end), parking what it can.
template <class T>
NETSCORE_NOINLINE void drop_tail(std::vector<T>& v, size_t used) {
  if constexpr (kParked<T>) {
    std::vector<T>& pool = spare<T>();
    for (size_t i = used; i < v.size() && pool.size() < kMaxSpare; ++i) {
      strip(v[i]);
      pool.push_back(std::move(v[i]));
    }
  }
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(used), v.end());
}

template <class T>
class Slots {
 public:
  explicit Slots(std::vector<T>& v, size_t used = 0) : v_(v), used_(used) {}
  T& next() {
    if (used_ < v_.size()) {
      T& x = v_[used_++];
      reset(x);
      return x;
    }
    ++used_;
    return grow_list(v_);
  }
  size_t used() const { return used_; }
  void finish() {
    if (v_.size() > used_) drop_tail(v_, used_);
  }

 private:
  std::vector<T>& v_;
  size_t used_;
};

// ---------------------------------------------------------------------------------------------------------
// Tensors and types (decode_tensor.cpp)

// A fixed32 field's bits as the float they hold (widened).
inline double bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A TensorProto (values decoded when small) or a SparseTensorProto (dense dims only) into `t`.
void decode_any_tensor(Reader r, Tensor& t, bool sparse);
void decode_value_info(Reader r, ValueInfo& vi);
OpsetId decode_opset(Reader r);

}  // namespace netscore::onnx::detail
