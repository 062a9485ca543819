// ModelProto bytes -> IR: walks the wire format once, keeps views into the buffer, skips weight payloads.
#include "onnx/decode.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "netscore/errors.h"
#include "onnx/onnx_fields.h"
#include "onnx/pb_reader.h"

namespace netscore::onnx {

namespace pb {

const char* wire_type_name(uint32_t wire_type) {
  switch (wire_type) {
    case kVarint: return "varint";
    case kFixed64: return "fixed64";
    case kLengthDelimited: return "length-delimited";
    case kStartGroup: return "start-group";
    case kEndGroup: return "end-group";
    case kFixed32: return "fixed32";
    default: return "invalid";
  }
}

void throw_truncated(const char* what, uint32_t field, uint64_t length, size_t at, size_t end, size_t total) {
  std::string msg = "truncated input: ";
  if (field == 0) {
    msg += "field tag";
  } else {
    msg += "field " + std::to_string(field) + " " + what;
    if (std::strcmp(what, "length") == 0) msg += " " + std::to_string(length);
  }
  msg += " at byte " + std::to_string(at) + " runs past the end";
  if (end == total)
    msg += " (" + std::to_string(total) + " bytes)";
  else
    msg += " of its enclosing message at byte " + std::to_string(end) + " (input is " + std::to_string(total) +
           " bytes)";
  throw ModelError(msg);
}

void throw_error(const std::string& problem) { throw ModelError(problem); }

}  // namespace pb

namespace {

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
[[noreturn]] void rethrow_at(const std::string& component) {
  try {
    throw;
  } catch (const LocatedError& e) {
    const bool index = !e.path.empty() && e.path[0] == '[';
    throw LocatedError(component + (index ? "" : ".") + e.path, e.problem);
  } catch (const ModelError& e) {
    throw LocatedError(component, e.what());
  }
}

std::string describe(std::string_view kind, size_t index, std::string_view name) {
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

void check_depth(int depth) {
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

void reset(Tensor& t) {
  t.name = {};
  t.data_type = kUndefined;
  t.dims.clear();
  t.external = false;
  t.values_known = false;
  t.ints.clear();
  t.floats.clear();
}

void reset(ValueInfo& vi) {
  vi.name = {};
  vi.elem_type = kUndefined;
  vi.has_shape = false;
  vi.dims.clear();
}

// Scalars and flat lists only: the attribute's tensors and graphs are refilled by decode_attribute.
void reset(Attribute& a) {
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
void reset(Node& n) {
  n.name = {};
  n.op_type = {};
  n.domain = {};
  n.inputs.clear();
  n.outputs.clear();
}

// Scalars and flat lists only: nodes are refilled by decode_function.
void reset(Function& f) {
  f.name = {};
  f.domain = {};
  f.inputs.clear();
  f.outputs.clear();
  f.attributes.clear();
  f.opsets.clear();
}

void reset(Graph& g) { g.name = {}; }  // its lists are refilled by decode_graph

constexpr size_t kMaxSpare = 4096;

template <class T>
constexpr bool kParked = std::is_same_v<T, Node> || std::is_same_v<T, Attribute> || std::is_same_v<T, Tensor> ||
                         std::is_same_v<T, ValueInfo>;

template <class T>
std::vector<T>& spare() {
  thread_local std::vector<T> pool;
  return pool;
}

// What a parked element may not keep: nested subgraphs (unbounded in size).
void strip(Node& n) {
  for (Attribute& a : n.attributes) a.graphs.clear();
}
void strip(Attribute& a) { a.graphs.clear(); }
void strip(Tensor&) {}
void strip(ValueInfo&) {}

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
// Tensors

double half_to_double(uint32_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  double v;
  if (exp == 0)
    v = static_cast<double>(mant) * (1.0 / 16777216.0);  // subnormal: mant * 2^-24
  else if (exp == 31)
    v = mant ? __builtin_nan("") : __builtin_inf();
  else
    v = static_cast<double>(1024 + mant) * static_cast<double>(uint64_t{1} << exp) * (1.0 / 33554432.0);  // 2^-25
  return sign ? -v : v;
}

double bfloat16_to_double(uint32_t b) {
  uint32_t bits = (b & 0xFFFFu) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

double bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

double bits_to_double(uint64_t u) {
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}

// Bytes per element in raw_data for the types whose values we decode; 0 for the others.
int decodable_width(int32_t dt) {
  switch (dt) {
    case kBool: case kUint8: case kInt8: return 1;
    case kUint16: case kInt16: case kFloat16: case kBfloat16: return 2;
    case kFloat: case kInt32: case kUint32: return 4;
    case kInt64: case kUint64: case kDouble: return 8;
    default: return 0;
  }
}

// Values are decoded up to this many elements: shapes, axes and indices are 32/64-bit integers; every
// other type is a weight (or mask) beyond a handful of elements.
int64_t decode_limit(int32_t dt) {
  switch (dt) {
    case kInt32: case kInt64: case kUint32: case kUint64: return kMaxDecodedElements;
    default: return kMaxDecodedOtherElements;
  }
}

// The typed repeated field that holds a type's values when raw_data is not used.
uint32_t typed_field_for(int32_t dt) {
  switch (dt) {
    case kFloat: return fl::kTensorFloatData;
    case kDouble: return fl::kTensorDoubleData;
    case kInt64: return fl::kTensorInt64Data;
    case kUint32: case kUint64: return fl::kTensorUint64Data;
    default: return fl::kTensorInt32Data;  // int8..int32, uint8, uint16, bool, float16, bfloat16
  }
}

// Interpret one element value (raw bits, zero-extended) of a decodable type and append it.
void append_value(Tensor& t, uint64_t bits) {
  switch (t.data_type) {
    case kFloat: t.floats.push_back(bits_to_float(static_cast<uint32_t>(bits))); break;
    case kDouble: t.floats.push_back(bits_to_double(bits)); break;
    case kFloat16: t.floats.push_back(half_to_double(static_cast<uint32_t>(bits))); break;
    case kBfloat16: t.floats.push_back(bfloat16_to_double(static_cast<uint32_t>(bits))); break;
    case kBool: t.ints.push_back(bits != 0); break;
    case kUint8: t.ints.push_back(static_cast<uint8_t>(bits)); break;
    case kInt8: t.ints.push_back(static_cast<int8_t>(bits)); break;
    case kUint16: t.ints.push_back(static_cast<uint16_t>(bits)); break;
    case kInt16: t.ints.push_back(static_cast<int16_t>(bits)); break;
    case kUint32: t.ints.push_back(static_cast<uint32_t>(bits)); break;
    case kInt32: t.ints.push_back(static_cast<int32_t>(bits)); break;
    default: t.ints.push_back(static_cast<int64_t>(bits)); break;  // int64, uint64 (wraps above 2^63)
  }
}

size_t value_count(const Tensor& t) { return is_float_type(t.data_type) ? t.floats.size() : t.ints.size(); }

void clear_values(Tensor& t) {
  t.values_known = false;
  t.ints.clear();
  t.floats.clear();
}

// Validates dims; returns the element count. One pass; a negative dim anywhere is reported before an
// overflow.
[[noreturn]] NETSCORE_NOINLINE void throw_negative_dim(int64_t d, size_t i) {
  throw ModelError("negative dim " + std::to_string(d) + " at dims[" + std::to_string(i) + "]");
}

[[noreturn]] NETSCORE_NOINLINE void throw_numel_overflow(const std::vector<int64_t>& dims) {
  std::string list;
  for (size_t k = 0; k < dims.size(); ++k) list += (k ? "," : "") + std::to_string(dims[k]);
  throw ModelError("dims [" + list + "] overflow a 64-bit element count");
}

// The messages are built out of line: this runs once per tensor and stays small enough to inline.
int64_t checked_numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  bool overflow = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = dims[i];
    if (NETSCORE_UNLIKELY(d < 0)) throw_negative_dim(d, i);
    overflow = overflow || __builtin_mul_overflow(n, d, &n);
  }
  if (NETSCORE_UNLIKELY(overflow)) throw_numel_overflow(dims);
  return n;
}

// Second pass over a small tensor's message: decode its values when they are present and consistent
// with its dims. Called only when numel <= decode_limit(), so growth is bounded.
void decode_small_values(Reader r, Tensor& t, int64_t numel, bool has_raw, std::string_view raw) {
  const int width = decodable_width(t.data_type);
  if (width == 0) return;
  if (has_raw) {
    if (raw.size() != static_cast<uint64_t>(numel) * static_cast<uint64_t>(width)) return;  // inconsistent
    const uint8_t* p = reinterpret_cast<const uint8_t*>(raw.data());
    // numel is bounded by decode_limit() and matches the payload actually present
    if (is_float_type(t.data_type))
      t.floats.reserve(static_cast<size_t>(numel));
    else
      t.ints.reserve(static_cast<size_t>(numel));
    for (int64_t i = 0; i < numel; ++i, p += width) {
      uint64_t bits;
      switch (width) {
        case 1: bits = p[0]; break;
        case 2: bits = static_cast<uint64_t>(p[0]) | (static_cast<uint64_t>(p[1]) << 8); break;
        case 4: bits = Reader::load32(p); break;
        default: bits = Reader::load64(p); break;
      }
      append_value(t, bits);
    }
    t.values_known = true;
    return;
  }
  const uint32_t want = typed_field_for(t.data_type);
  bool present = false, too_many = false;
  const size_t limit = static_cast<size_t>(numel);
  auto add = [&](uint64_t bits) {
    if (value_count(t) >= limit) {
      too_many = true;
      return;
    }
    append_value(t, bits);
  };
  while (r.next()) {
    if (r.field() != want) {
      r.skip();
      continue;
    }
    present = true;
    switch (want) {
      case fl::kTensorFloatData:
        r.for_each_fixed32([&](uint32_t u) { add(u); });
        break;
      case fl::kTensorDoubleData:
        r.for_each_fixed64([&](uint64_t u) { add(u); });
        break;
      default:
        r.for_each_varint([&](uint64_t u) { add(u); });
        break;
    }
  }
  if (present && !too_many && value_count(t) == limit)
    t.values_known = true;
  else
    clear_values(t);
}

void decode_tensor(Reader r, Tensor& t, bool want_values) {
  const uint8_t* const begin = r.pos();  // the message again for decode_small_values (rarely needed)
  bool has_raw = false, has_typed = false;
  std::string_view raw;
  while (r.next()) {
    switch (r.field()) {
      case fl::kTensorDims: r.append_varints(t.dims); break;
      case fl::kTensorDataType: t.data_type = r.get_int32(); break;
      case fl::kTensorName: t.name = r.get_string(); break;
      case fl::kTensorRawData:
        raw = r.get_view();
        has_raw = true;
        break;
      case fl::kTensorFloatData:
      case fl::kTensorInt32Data:
      case fl::kTensorInt64Data:
      case fl::kTensorDoubleData:
      case fl::kTensorUint64Data:
        has_typed = true;  // only the cursor moves; values are read in a second pass if the tensor is small
        r.skip();
        break;
      case fl::kTensorDataLocation: t.external = r.get_int64() == fl::kLocationExternal; break;
      default: r.skip(); break;
    }
  }
  const int64_t numel = checked_numel(t.dims);
  if (!want_values || t.external || numel > decode_limit(t.data_type)) return;
  if (numel == 0) {  // an empty tensor's values are known: there are none
    t.values_known = decodable_width(t.data_type) != 0;
    return;
  }
  if (has_raw || has_typed) decode_small_values(Reader(begin, r.end(), r.base(), r.total()), t, numel, has_raw, raw);
}

// SparseTensorProto: the dense dims, the values' name and type; indices and values are not read.
void decode_sparse_tensor(Reader r, Tensor& t) {
  while (r.next()) {
    switch (r.field()) {
      case fl::kSparseValues: {
        Tensor values;
        try {
          decode_tensor(r.get_message(), values, false);
        } catch (...) {
          rethrow_at("values");
        }
        t.name = values.name;
        t.data_type = values.data_type;
        t.external = values.external;
        break;
      }
      case fl::kSparseDims: r.append_varints(t.dims); break;
      default: r.skip(); break;
    }
  }
  checked_numel(t.dims);
}

// A TensorProto (values decoded when small) or a SparseTensorProto (dense dims only) into `t`.
void decode_any_tensor(Reader r, Tensor& t, bool sparse) {
  if (sparse)
    decode_sparse_tensor(r, t);
  else
    decode_tensor(r, t, true);
}

// ---------------------------------------------------------------------------------------------------------
// Types

void decode_shape(Reader r, ValueInfo& vi) {
  vi.has_shape = true;
  while (r.next()) {
    if (r.field() != fl::kShapeDim) {
      r.skip();
      continue;
    }
    Dim d;
    Reader dr = r.get_message();
    while (dr.next()) {
      switch (dr.field()) {
        case fl::kDimValue: {
          int64_t v = dr.get_int64();
          d.value = v >= 0 ? v : -1;  // some exporters write -1 for a dynamic dim
          break;
        }
        case fl::kDimParam: d.param = dr.get_string(); break;
        default: dr.skip(); break;
      }
    }
    vi.dims.push_back(d);
  }
}

void decode_tensor_type(Reader r, ValueInfo& vi) {
  while (r.next()) {
    switch (r.field()) {
      case fl::kTypeTensorElemType: vi.elem_type = r.get_int32(); break;
      case fl::kTypeTensorShape: decode_shape(r.get_message(), vi); break;
      default: r.skip(); break;
    }
  }
}

void decode_type(Reader r, ValueInfo& vi) {
  while (r.next()) {
    switch (r.field()) {
      case fl::kTypeTensor:
      case fl::kTypeSparseTensor: decode_tensor_type(r.get_message(), vi); break;
      default: r.skip(); break;  // sequence / map / optional / opaque: no tensor type, no shape
    }
  }
}

void decode_value_info(Reader r, ValueInfo& vi) {
  while (r.next()) {
    switch (r.field()) {
      case fl::kValueInfoName: vi.name = r.get_string(); break;
      case fl::kValueInfoType:
        try {
          decode_type(r.get_message(), vi);
        } catch (...) {
          rethrow_at("type");
        }
        break;
      default: r.skip(); break;
    }
  }
}

OpsetId decode_opset(Reader r) {
  OpsetId o;
  while (r.next()) {
    switch (r.field()) {
      case fl::kOpsetDomain: o.domain = r.get_string(); break;
      case fl::kOpsetVersion: o.version = r.get_int64(); break;
      default: r.skip(); break;
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// Graphs, nodes, attributes (mutually recursive through attribute subgraphs)

// append: a repeated graph field merges into the graph decoded so far (protobuf semantics).
void decode_graph(Reader r, Graph& g, bool append, int graph_depth, int depth);

void decode_attribute(Reader r, Attribute& a, int graph_depth, int depth) {
  check_depth(depth);
  int32_t declared = 0;
  enum : uint32_t {
    kSeenF = 1u << 0, kSeenI = 1u << 1, kSeenS = 1u << 2, kSeenT = 1u << 3, kSeenG = 1u << 4,
    kSeenFloats = 1u << 5, kSeenInts = 1u << 6, kSeenStrings = 1u << 7, kSeenTensors = 1u << 8,
    kSeenGraphs = 1u << 9, kSeenSparse = 1u << 10, kSeenSparses = 1u << 11, kSeenTp = 1u << 12,
    kSeenTps = 1u << 13,
  };
  uint32_t seen = 0;
  bool single_tensor = false, single_graph = false;
  Slots<Tensor> tensors(a.tensors);
  Slots<Graph> graphs(a.graphs);
  while (r.next()) {
    switch (r.field()) {
      case fl::kAttrName: a.name = r.get_string(); break;
      case fl::kAttrRefAttrName: a.ref_attr_name = r.get_string(); break;
      case fl::kAttrType: declared = r.get_int32(); break;
      case fl::kAttrF: a.f = r.get_float(); seen |= kSeenF; break;
      case fl::kAttrI: a.i = r.get_int64(); seen |= kSeenI; break;
      case fl::kAttrS: a.s = r.get_view(); seen |= kSeenS; break;
      case fl::kAttrFloats:
        r.for_each_fixed32([&](uint32_t u) { a.floats.push_back(static_cast<float>(bits_to_float(u))); });
        seen |= kSeenFloats;
        break;
      case fl::kAttrInts:
        r.append_varints(a.ints);
        seen |= kSeenInts;
        break;
      case fl::kAttrStrings: a.strings.push_back(r.get_view()); seen |= kSeenStrings; break;
      case fl::kAttrT:
      case fl::kAttrSparseTensor: {
        // `t` / `sparse_tensor` is tensors[0] wherever it appears in the bytes
        const bool sparse = r.field() == fl::kAttrSparseTensor;
        Reader m = r.get_message();
        // usually the only tensor: decode in place; otherwise put it first
        if (single_tensor) {
          reset(a.tensors[0]);
        } else {
          tensors.next();
          std::rotate(a.tensors.begin(), a.tensors.begin() + static_cast<std::ptrdiff_t>(tensors.used() - 1),
                      a.tensors.begin() + static_cast<std::ptrdiff_t>(tensors.used()));
        }
        single_tensor = true;
        try {
          decode_any_tensor(m, a.tensors[0], sparse);
        } catch (...) {
          rethrow_at(sparse ? "sparse_tensor" : "t");
        }
        seen |= sparse ? kSeenSparse : kSeenT;
        break;
      }
      case fl::kAttrTensors:
      case fl::kAttrSparseTensors: {
        const bool sparse = r.field() == fl::kAttrSparseTensors;
        Reader m = r.get_message();
        Tensor& t = tensors.next();
        try {
          decode_any_tensor(m, t, sparse);
        } catch (...) {
          rethrow_at(std::string(sparse ? "sparse_tensors[" : "tensors[") +
                     std::to_string(tensors.used() - 1 - single_tensor) + "]");
        }
        seen |= sparse ? kSeenSparses : kSeenTensors;
        break;
      }
      case fl::kAttrG: {
        Reader m = r.get_message();
        if (!single_graph) {
          graphs.next();
          std::rotate(a.graphs.begin(), a.graphs.begin() + static_cast<std::ptrdiff_t>(graphs.used() - 1),
                      a.graphs.begin() + static_cast<std::ptrdiff_t>(graphs.used()));
        }
        single_graph = true;
        try {
          decode_graph(m, a.graphs[0], false, graph_depth + 1, depth + 1);
        } catch (...) {
          rethrow_at("g");
        }
        seen |= kSeenG;
        break;
      }
      case fl::kAttrGraphs: {
        Reader m = r.get_message();
        Graph& g = graphs.next();
        try {
          decode_graph(m, g, false, graph_depth + 1, depth + 1);
        } catch (...) {
          rethrow_at("graphs[" + std::to_string(graphs.used() - 1 - single_graph) + "]");
        }
        seen |= kSeenGraphs;
        break;
      }
      case fl::kAttrTp: r.skip(); seen |= kSeenTp; break;
      case fl::kAttrTypeProtos: r.skip(); seen |= kSeenTps; break;
      default: r.skip(); break;
    }
  }
  tensors.finish();
  graphs.finish();
  if (declared != 0) {
    a.type = static_cast<AttrType>(declared);
    return;
  }
  // Old writers (IR version 1) left `type` unset: infer it from the one field present. Lists first, so
  // that a stray default scalar does not hide them.
  static constexpr std::pair<uint32_t, AttrType> kOrder[] = {
      {kSeenFloats, AttrType::kFloats}, {kSeenInts, AttrType::kInts}, {kSeenStrings, AttrType::kStrings},
      {kSeenTensors, AttrType::kTensors}, {kSeenGraphs, AttrType::kGraphs},
      {kSeenSparses, AttrType::kSparseTensors}, {kSeenTps, AttrType::kTypeProtos},
      {kSeenT, AttrType::kTensor}, {kSeenG, AttrType::kGraph}, {kSeenSparse, AttrType::kSparseTensor},
      {kSeenTp, AttrType::kTypeProto}, {kSeenS, AttrType::kString}, {kSeenI, AttrType::kInt},
      {kSeenF, AttrType::kFloat},
  };
  for (const auto& [bit, type] : kOrder) {
    if (seen & bit) {
      a.type = type;
      return;
    }
  }
}

void decode_node(Reader r, Node& n, int graph_depth, int depth) {
  Slots<Attribute> attributes(n.attributes);
  while (r.next()) {
    switch (r.field()) {
      case fl::kNodeInput: n.inputs.push_back(r.get_string()); break;
      case fl::kNodeOutput: n.outputs.push_back(r.get_string()); break;
      case fl::kNodeName: n.name = r.get_string(); break;
      case fl::kNodeOpType: n.op_type = r.get_string(); break;
      case fl::kNodeDomain: n.domain = r.get_string(); break;
      case fl::kNodeAttribute: {
        Reader m = r.get_message();
        Attribute& a = attributes.next();
        try {
          decode_attribute(m, a, graph_depth, depth + 1);
        } catch (...) {
          std::string where = "attribute[" + std::to_string(attributes.used() - 1) + "]";
          if (!a.name.empty()) where.append(" (").append(a.name).append(")");
          rethrow_at(where);
        }
        break;
      }
      default: r.skip(); break;
    }
  }
  attributes.finish();
}

// For an error message: the node's op type and name, read as far as the (damaged) message allows.
void peek_node_identity(Reader r, Node& n) {
  try {
    while (r.next()) {
      if (r.field() == fl::kNodeOpType && r.wire_type() == pb::kLengthDelimited) n.op_type = r.get_string();
      else if (r.field() == fl::kNodeName && r.wire_type() == pb::kLengthDelimited) n.name = r.get_string();
      else r.skip();
    }
  } catch (const ModelError&) {
    // keep what was found before the damage
  }
}

std::string node_location(size_t index, const Node& n) {
  std::string s = "node[" + std::to_string(index) + "]";
  if (!n.op_type.empty() || !n.name.empty()) {
    s += " (";
    s.append(n.op_type.empty() ? std::string_view("?") : n.op_type);
    if (!n.name.empty()) s.append(" '").append(n.name).append("'");
    s += ')';
  }
  return s;
}

void decode_value_infos(Reader m, Slots<ValueInfo>& list, const char* kind) {
  ValueInfo& vi = list.next();
  try {
    decode_value_info(m, vi);
  } catch (...) {
    rethrow_at(describe(kind, list.used() - 1, vi.name));
  }
}

void decode_graph(Reader r, Graph& g, bool append, int graph_depth, int depth) {
  // graph_depth: 0 for the main graph, 1 for a subgraph in one of its nodes' attributes, ...
  if (graph_depth > kMaxGraphDepth)
    throw ModelError("subgraphs nested more than " + std::to_string(kMaxGraphDepth) + " deep");
  check_depth(depth);
  if (!append) reset(g);
  // No counting pre-pass: a reused graph already has room, and without one the first damage found (and so
  // the error reported) is the same for a fresh and a reused Model.
  Slots<Node> nodes(g.nodes, append ? g.nodes.size() : 0);
  Slots<Tensor> initializers(g.initializers, append ? g.initializers.size() : 0);
  Slots<ValueInfo> inputs(g.inputs, append ? g.inputs.size() : 0);
  Slots<ValueInfo> outputs(g.outputs, append ? g.outputs.size() : 0);
  Slots<ValueInfo> value_info(g.value_info, append ? g.value_info.size() : 0);
  while (r.next()) {
    switch (r.field()) {
      case fl::kGraphNode: {
        Reader m = r.get_message();
        Node& n = nodes.next();
        try {
          decode_node(m, n, graph_depth, depth + 1);
        } catch (...) {
          if (n.op_type.empty() || n.name.empty()) peek_node_identity(m, n);
          rethrow_at(node_location(nodes.used() - 1, n));
        }
        break;
      }
      case fl::kGraphName: g.name = r.get_string(); break;
      case fl::kGraphInitializer:
      case fl::kGraphSparseInitializer: {
        const bool sparse = r.field() == fl::kGraphSparseInitializer;
        Reader m = r.get_message();
        Tensor& t = initializers.next();
        try {
          decode_any_tensor(m, t, sparse);
        } catch (...) {
          rethrow_at(describe(sparse ? "sparse_initializer" : "initializer", initializers.used() - 1, t.name));
        }
        break;
      }
      case fl::kGraphInput: decode_value_infos(r.get_message(), inputs, "input"); break;
      case fl::kGraphOutput: decode_value_infos(r.get_message(), outputs, "output"); break;
      case fl::kGraphValueInfo: decode_value_infos(r.get_message(), value_info, "value_info"); break;
      default: r.skip(); break;
    }
  }
  nodes.finish();
  initializers.finish();
  inputs.finish();
  outputs.finish();
  value_info.finish();
}

void decode_function(Reader r, Function& fn) {
  Slots<Node> nodes(fn.nodes);
  while (r.next()) {
    switch (r.field()) {
      case fl::kFunctionName: fn.name = r.get_string(); break;
      case fl::kFunctionDomain: fn.domain = r.get_string(); break;
      case fl::kFunctionInput: fn.inputs.push_back(r.get_string()); break;
      case fl::kFunctionOutput: fn.outputs.push_back(r.get_string()); break;
      case fl::kFunctionAttribute: fn.attributes.push_back(r.get_string()); break;
      case fl::kFunctionAttributeProto: {  // an attribute with a default value: only its name is kept
        Reader m = r.get_message();
        Attribute a;
        try {
          decode_attribute(m, a, 0, 3);
        } catch (...) {
          rethrow_at("attribute_proto[" + std::to_string(fn.attributes.size()) + "]");
        }
        fn.attributes.push_back(a.name);
        break;
      }
      case fl::kFunctionNode: {
        Reader m = r.get_message();
        Node& n = nodes.next();
        try {
          decode_node(m, n, 0, 2);
        } catch (...) {
          if (n.op_type.empty() || n.name.empty()) peek_node_identity(m, n);
          rethrow_at(node_location(nodes.used() - 1, n));
        }
        break;
      }
      case fl::kFunctionOpsetImport: {
        Reader m = r.get_message();
        try {
          fn.opsets.push_back(decode_opset(m));
        } catch (...) {
          rethrow_at("opset_import[" + std::to_string(fn.opsets.size()) + "]");
        }
        break;
      }
      default: r.skip(); break;
    }
  }
  nodes.finish();
}

// A wire type that ModelProto cannot have at this field means the bytes are some other message.
void expect_model_field(const Reader& r, uint32_t wire, const char* field_name) {
  if (r.wire_type() != wire)
    throw ModelError("not an ONNX model: field " + std::to_string(r.field()) + " (ModelProto." + field_name +
                     ") has wire type " + std::to_string(r.wire_type()) + " (" + pb::wire_type_name(r.wire_type()) +
                     "), expected " + pb::wire_type_name(wire) + " at byte " + std::to_string(r.tag_offset()));
}

void decode_model_fields(const uint8_t* data, size_t size, Model& model) {
  model.ir_version = 0;
  model.opsets.clear();
  model.producer_name = {};
  model.producer_version = {};
  Slots<Function> functions(model.functions);
  Reader r(data, size);
  bool has_graph = false;
  while (r.next()) {
    switch (r.field()) {
      case fl::kModelIrVersion:
        expect_model_field(r, pb::kVarint, "ir_version");
        model.ir_version = r.get_int64();
        break;
      case fl::kModelProducerName:
        expect_model_field(r, pb::kLengthDelimited, "producer_name");
        model.producer_name = r.get_string();
        break;
      case fl::kModelProducerVersion:
        expect_model_field(r, pb::kLengthDelimited, "producer_version");
        model.producer_version = r.get_string();
        break;
      case fl::kModelOpsetImport: {
        expect_model_field(r, pb::kLengthDelimited, "opset_import");
        Reader m = r.get_message();
        try {
          model.opsets.push_back(decode_opset(m));
        } catch (...) {
          rethrow_at("opset_import[" + std::to_string(model.opsets.size()) + "]");
        }
        break;
      }
      case fl::kModelGraph: {
        expect_model_field(r, pb::kLengthDelimited, "graph");
        Reader m = r.get_message();
        try {
          decode_graph(m, model.graph, has_graph, 0, 1);
        } catch (...) {
          rethrow_at("graph");
        }
        has_graph = true;
        break;
      }
      case fl::kModelFunctions: {
        expect_model_field(r, pb::kLengthDelimited, "functions");
        Reader m = r.get_message();
        Function& fn = functions.next();
        try {
          decode_function(m, fn);
        } catch (...) {
          rethrow_at(describe("functions", functions.used() - 1, fn.name));
        }
        break;
      }
      case fl::kModelDomain:
      case fl::kModelDocString:
        expect_model_field(r, pb::kLengthDelimited, r.field() == fl::kModelDomain ? "domain" : "doc_string");
        r.skip();
        break;
      case fl::kModelModelVersion:
        expect_model_field(r, pb::kVarint, "model_version");
        r.skip();
        break;
      default: r.skip(); break;
    }
  }
  functions.finish();
  if (!has_graph) throw ModelError("not an ONNX model: no graph");
}

}  // namespace

Model decode_model(const uint8_t* data, size_t size) {
  Model model;
  decode_model_into(data, size, model);
  return model;
}

void decode_model_into(const uint8_t* data, size_t size, Model& model) {
  if (size == 0 || data == nullptr) throw ModelError("empty buffer");
  try {
    decode_model_fields(data, size, model);
  } catch (const LocatedError& e) {
    // Deeply nested subgraphs give locations thousands of characters long: keep both ends.
    constexpr size_t kHead = 240, kTail = 240;
    if (e.path.size() <= kHead + kTail + 16) throw;
    throw ModelError(e.path.substr(0, kHead) + " ... " + e.path.substr(e.path.size() - kTail) + ": " + e.problem);
  }
}

namespace {

struct Workspace {
  Model model;
  bool busy = false;
};

Workspace& thread_workspace() {
  thread_local Workspace w;
  return w;
}

// Above this many elements in the main graph's lists, the workspace frees its memory after use instead of
// keeping it for the thread's next model.
constexpr size_t kMaxKeptElements = size_t{1} << 16;

void release(Workspace& w) {
  const Graph& g = w.model.graph;
  const size_t kept = g.nodes.size() + g.initializers.size() + g.inputs.size() + g.outputs.size() +
                      g.value_info.size() + w.model.functions.size();
  if (kept > kMaxKeptElements) w.model = Model();
  w.busy = false;
}

}  // namespace

ThreadModel::ThreadModel(const uint8_t* data, size_t size) {
  Workspace& w = thread_workspace();
  if (w.busy) {  // nested use on this thread: the outer Model stays intact
    own_ = std::make_unique<Model>();
    decode_model_into(data, size, *own_);
    model_ = own_.get();
    return;
  }
  w.busy = true;
  try {
    decode_model_into(data, size, w.model);
  } catch (...) {
    release(w);
    throw;
  }
  model_ = &w.model;
}

ThreadModel::~ThreadModel() {
  if (!own_) release(thread_workspace());
}

}  // namespace netscore::onnx
