// Decode a serialized ModelProto into the IR without copying or reading weight payloads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "onnx/ir.h"

namespace netscore::onnx {

// Limits that keep hostile input from exhausting the stack: graphs nested in attributes
// (If/Loop/Scan bodies) and messages nested in general.
constexpr int kMaxGraphDepth = 64;
constexpr int kMaxMessageDepth = 256;

// Decode [data, data + size) as a ModelProto. The Model's string_views point into the buffer.
// Throws ModelError naming the problem (truncation, bad wire type, over-long varint, ...).
Model decode_model(const uint8_t* data, size_t size);

// Decode into `model`, replacing everything it held, while keeping the capacity of its vectors: elements
// are reused by index (inner lists cleared, not destroyed), only a tail beyond the new sizes is freed. A
// Model decoded before from a similar file is refilled without heap allocations. Same errors as above;
// after an error `model` holds a partial decode that is only fit to be decoded into again.
void decode_model_into(const uint8_t* data, size_t size, Model& model);

// This thread's reused Model, decoded from [data, data + size) and valid until the object is destroyed:
// for callers that finish with the Model before decoding the next (graph::profile_bytes). The workspace is
// thread_local, so threads never share one; a second object alive on the same thread decodes into a Model
// of its own. After a very large model the workspace's memory is released rather than kept.
class ThreadModel {
 public:
  ThreadModel(const uint8_t* data, size_t size);
  ~ThreadModel();
  ThreadModel(const ThreadModel&) = delete;
  ThreadModel& operator=(const ThreadModel&) = delete;
  const Model& model() const { return *model_; }

 private:
  Model* model_ = nullptr;
  std::unique_ptr<Model> own_;  // set when the thread's workspace was already in use
};

}  // namespace netscore::onnx
