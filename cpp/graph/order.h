// The order in which the walk visits nodes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "onnx/ir.h"

namespace netscore::graph::walk {

// The model's node order when it is topological, else a stable topological order (Kahn's algorithm,
// original index as priority), into `order`. in_ids[in_begin[i] .. in_begin[i + 1]) are node i's input
// value ids (kNone when omitted); producer[id] is the node producing value id, -1 for initializers and
// graph inputs. A cycle is a ModelError naming a node on it.
void topological_order(const std::vector<onnx::Node>& nodes, const std::vector<size_t>& in_begin,
                       const std::vector<uint32_t>& in_ids, const std::vector<int32_t>& producer,
                       std::vector<uint32_t>& order);

}  // namespace netscore::graph::walk
