// Small helpers of the walk shared by its parts (walker, function inlining, params): node labels for
// messages, op kinds, byte sizes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "graph/ops/shape_util.h"
#include "onnx/ir.h"

namespace netscore::graph::walk {

constexpr int64_t kMaxDim = int64_t(1) << 40;  // any larger dim is treated as a malformed model

inline bool is_default_domain(std::string_view d) { return d.empty() || d == "ai.onnx"; }

// "Op", or "domain::Op" outside the default domain.
std::string op_label(const onnx::Node& n);

// "node 'name' (Op)" for messages; unnamed nodes are identified by their index.
std::string node_label(const onnx::Node& n, size_t index);

[[noreturn]] void node_error(const onnx::Node& n, size_t index, const std::string& problem);

inline int64_t bytes_of(int64_t numel, int32_t dtype) {
  const int bits = onnx::element_bits(dtype);
  if (numel < 0 || bits <= 0) return -1;
  const uint64_t total_bits = static_cast<uint64_t>(mul_sat(numel, bits));  // >= 0, at most INT64_MAX
  return static_cast<int64_t>((total_bits + 7) / 8);                         // rounded up to whole bytes
}

inline bool is_subgraph_op(const onnx::Node& n) {
  if (!is_default_domain(n.domain)) return false;
  return n.op_type == "If" || n.op_type == "Loop" || n.op_type == "Scan" || n.op_type == "SequenceMap";
}

}  // namespace netscore::graph::walk
