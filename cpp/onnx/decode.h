// Decode a serialized ModelProto into the IR without copying or reading weight payloads.
#pragma once
#include <cstddef>
#include <cstdint>

#include "onnx/ir.h"

namespace netscore::onnx {

// Limits that keep hostile input from exhausting the stack: graphs nested in attributes
// (If/Loop/Scan bodies) and messages nested in general.
constexpr int kMaxGraphDepth = 64;
constexpr int kMaxMessageDepth = 256;

// Decode [data, data + size) as a ModelProto. The Model's string_views point into the buffer.
// Throws ModelError naming the problem (truncation, bad wire type, over-long varint, ...).
Model decode_model(const uint8_t* data, size_t size);

}  // namespace netscore::onnx
