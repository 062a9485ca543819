// Decoder part: TensorProto / SparseTensorProto (values of small tensors), value infos and their types,
// opset imports.
#include <cstring>

#include "onnx/decode_internal.h"

namespace netscore::onnx::detail {

namespace {

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
  t.raw = raw;  // a view only: read by the opt-in weight deduplication (graph::Options::dedupe_weights)
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

}  // namespace

// A TensorProto (values decoded when small) or a SparseTensorProto (dense dims only) into `t`.
void decode_any_tensor(Reader r, Tensor& t, bool sparse) {
  if (sparse)
    decode_sparse_tensor(r, t);
  else
    decode_tensor(r, t, true);
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

}  // namespace netscore::onnx::detail
