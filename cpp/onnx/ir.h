// Typed IR of a decoded ONNX model: names, types and shapes only. Weight payloads stay in the buffer.
// Every string_view points into the caller's buffer, which must outlive the Model.
#pragma once
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace netscore::onnx {

// TensorProto.DataType values.
enum DataType : int32_t {
  kUndefined = 0, kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7,
  kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13, kComplex64 = 14,
  kComplex128 = 15, kBfloat16 = 16, kFloat8E4M3FN = 17, kFloat8E4M3FNUZ = 18, kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20, kUint4 = 21, kInt4 = 22, kFloat4E2M1 = 23, kFloat8E8M0 = 24, kUint2 = 25, kInt2 = 26,
};

// Bits per element of a data type; 0 when unknown or variable (strings). Inline: the walk asks per value.
inline int element_bits(int32_t data_type) {
  switch (data_type) {
    case kBool: case kUint8: case kInt8:
    case kFloat8E4M3FN: case kFloat8E4M3FNUZ: case kFloat8E5M2: case kFloat8E5M2FNUZ: case kFloat8E8M0:
      return 8;
    case kUint16: case kInt16: case kFloat16: case kBfloat16: return 16;
    case kFloat: case kInt32: case kUint32: return 32;
    case kInt64: case kUint64: case kDouble: case kComplex64: return 64;
    case kComplex128: return 128;
    case kUint4: case kInt4: case kFloat4E2M1: return 4;
    case kUint2: case kInt2: return 2;
    default: return 0;  // undefined, string, or a type this build does not know
  }
}

inline bool is_integer_type(int32_t data_type) {  // integer or bool
  switch (data_type) {
    case kUint8: case kInt8: case kUint16: case kInt16: case kInt32: case kInt64: case kBool:
    case kUint32: case kUint64: case kUint4: case kInt4: case kUint2: case kInt2:
      return true;
    default:
      return false;
  }
}

inline bool is_float_type(int32_t data_type) {
  switch (data_type) {
    case kFloat: case kFloat16: case kDouble: case kBfloat16: case kFloat8E4M3FN: case kFloat8E4M3FNUZ:
    case kFloat8E5M2: case kFloat8E5M2FNUZ: case kFloat4E2M1: case kFloat8E8M0:
      return true;
    default:
      return false;
  }
}

// Small tensors whose values matter for shape arithmetic are decoded; above this they are not.
constexpr int64_t kMaxDecodedElements = 1 << 16;
// Other types than 32/64-bit integers (float, float16, bfloat16, double, 8/16-bit integers, bool) are
// weights or masks beyond a few elements: their values are decoded only up to this many, so loading a
// full-weight model never converts megabytes of weights. The analysis folds floats only this small.
constexpr int64_t kMaxDecodedOtherElements = 64;

struct Tensor {                     // a TensorProto without its payload
  std::string_view name;
  int32_t data_type = kUndefined;
  std::vector<int64_t> dims;
  bool external = false;            // data_location == EXTERNAL: only dims are needed
  bool values_known = false;        // small numeric tensor: values below hold the data
  std::string_view raw;             // raw_data: a view into the model's bytes (empty when not used)
  std::vector<int64_t> ints;        // integer and bool types
  std::vector<double> floats;       // floating-point types
};

struct Dim {                        // TensorShapeProto.Dimension
  int64_t value = -1;               // -1: not a fixed value
  std::string_view param;           // symbolic name, may be empty
};

struct ValueInfo {
  std::string_view name;
  int32_t elem_type = kUndefined;   // 0 when the type is not a tensor or not given
  bool has_shape = false;           // rank known
  std::vector<Dim> dims;
};

struct Graph;

enum class AttrType : int32_t {
  kUndefined = 0, kFloat = 1, kInt = 2, kString = 3, kTensor = 4, kGraph = 5, kFloats = 6, kInts = 7,
  kStrings = 8, kTensors = 9, kGraphs = 10, kSparseTensor = 11, kSparseTensors = 12, kTypeProto = 13,
  kTypeProtos = 14,
};

struct Attribute {
  std::string_view name;
  AttrType type = AttrType::kUndefined;   // inferred from the fields present when the writer left it unset
  float f = 0.0f;
  int64_t i = 0;
  std::string_view s;
  std::string_view ref_attr_name;         // inside functions
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string_view> strings;
  std::vector<Tensor> tensors;            // `t` (and sparse_tensor values) is tensors[0]; `tensors` follow
  std::vector<Graph> graphs;              // `g` is graphs[0]; `graphs` follow
};

struct Node {
  std::string_view name;
  std::string_view op_type;
  std::string_view domain;                // "" and "ai.onnx" are the default domain
  std::vector<std::string_view> inputs;   // "" marks an omitted optional input
  std::vector<std::string_view> outputs;
  std::vector<Attribute> attributes;
  // metadata_props (key, value): exporters put the source module here ("pkg.torch.onnx.name_scopes").
  std::vector<std::pair<std::string_view, std::string_view>> metadata;

  std::string_view metadata_value(std::string_view key) const {
    for (const auto& [k, v] : metadata)
      if (k == key) return v;
    return {};
  }

  const Attribute* attribute(std::string_view attr_name) const {
    for (const Attribute& a : attributes)
      if (a.name == attr_name) return &a;
    return nullptr;
  }
};

struct Graph {
  std::string_view name;
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;       // sparse initializers are listed here with their dense dims
  std::vector<ValueInfo> inputs;          // IR < 4 lists initializers here too
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> value_info;
};

struct OpsetId {
  std::string_view domain;
  int64_t version = 0;
};

struct Function {
  std::string_view name;
  std::string_view domain;
  std::vector<std::string_view> inputs;
  std::vector<std::string_view> outputs;
  std::vector<std::string_view> attributes;
  std::vector<Node> nodes;
  std::vector<OpsetId> opsets;
};

struct Model {
  int64_t ir_version = 0;
  std::vector<OpsetId> opsets;
  std::string_view producer_name;
  std::string_view producer_version;
  Graph graph;
  std::vector<Function> functions;

  // Opset version imported for a domain ("" and "ai.onnx" are one); 0 when not imported.
  int64_t opset(std::string_view domain) const;
};

}  // namespace netscore::onnx
