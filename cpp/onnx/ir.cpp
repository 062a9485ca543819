// Data-type facts and small lookups on the decoded IR.
#include "onnx/ir.h"

namespace netscore::onnx {

int element_bits(int32_t data_type) {
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

bool is_integer_type(int32_t data_type) {
  switch (data_type) {
    case kUint8: case kInt8: case kUint16: case kInt16: case kInt32: case kInt64: case kBool:
    case kUint32: case kUint64: case kUint4: case kInt4: case kUint2: case kInt2:
      return true;
    default:
      return false;
  }
}

bool is_float_type(int32_t data_type) {
  switch (data_type) {
    case kFloat: case kFloat16: case kDouble: case kBfloat16: case kFloat8E4M3FN: case kFloat8E4M3FNUZ:
    case kFloat8E5M2: case kFloat8E5M2FNUZ: case kFloat4E2M1: case kFloat8E8M0:
      return true;
    default:
      return false;
  }
}

int64_t Model::opset(std::string_view domain) const {
  auto is_default = [](std::string_view d) { return d.empty() || d == "ai.onnx"; };
  const bool want_default = is_default(domain);
  int64_t best = 0;
  for (const OpsetId& o : opsets) {
    // A model may (redundantly) list a domain twice; the highest version wins.
    if ((want_default ? is_default(o.domain) : o.domain == domain) && o.version > best) best = o.version;
  }
  return best;
}

}  // namespace netscore::onnx
