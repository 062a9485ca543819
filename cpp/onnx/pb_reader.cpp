// Protobuf cursor: the messages of its (cold, out-of-line) errors.
#include "onnx/pb_reader.h"

#include <cstring>
#include <string>

#include "netscore/errors.h"

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

}  // namespace netscore::onnx
