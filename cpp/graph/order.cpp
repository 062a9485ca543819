// Topological order of the walk (see order.h).
#include "graph/order.h"

#include <functional>
#include <queue>

#include "graph/name_map.h"
#include "graph/walk_util.h"
#include "netscore/cancel.h"

namespace netscore::graph::walk {

void topological_order(const std::vector<onnx::Node>& nodes, const std::vector<size_t>& in_begin,
                       const std::vector<uint32_t>& in_ids, const std::vector<int32_t>& producer,
                       std::vector<uint32_t>& order) {
  const size_t nn = nodes.size();
  order.resize(nn);
  bool topological = true;
  for (size_t i = 0; i < nn && topological; ++i)
    for (size_t k = in_begin[i]; k < in_begin[i + 1]; ++k)
      if (in_ids[k] != kNone && producer[in_ids[k]] >= static_cast<int32_t>(i)) {
        topological = false;
        break;
      }
  if (topological) {
    for (size_t i = 0; i < nn; ++i) order[i] = static_cast<uint32_t>(i);
    return;
  }
  // Kahn's algorithm; ties broken by original index so the order is stable and deterministic.
  std::vector<uint32_t> indegree(nn, 0);
  std::vector<size_t> cons_begin(nn + 1, 0);
  for (size_t i = 0; i < nn; ++i)
    for (size_t k = in_begin[i]; k < in_begin[i + 1]; ++k)
      if (in_ids[k] != kNone && producer[in_ids[k]] >= 0) {
        ++indegree[i];
        ++cons_begin[static_cast<size_t>(producer[in_ids[k]]) + 1];
      }
  for (size_t i = 0; i < nn; ++i) cons_begin[i + 1] += cons_begin[i];
  std::vector<uint32_t> consumers(cons_begin[nn]);
  std::vector<size_t> fill(cons_begin.begin(), cons_begin.end() - 1);
  for (size_t i = 0; i < nn; ++i)
    for (size_t k = in_begin[i]; k < in_begin[i + 1]; ++k)
      if (in_ids[k] != kNone && producer[in_ids[k]] >= 0)
        consumers[fill[static_cast<size_t>(producer[in_ids[k]])]++] = static_cast<uint32_t>(i);
  std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<uint32_t>> ready;
  for (size_t i = 0; i < nn; ++i)
    if (indegree[i] == 0) ready.push(static_cast<uint32_t>(i));
  size_t emitted = 0;
  while (!ready.empty()) {
    check_cancelled();
    const uint32_t i = ready.top();
    ready.pop();
    order[emitted++] = i;
    for (size_t c = cons_begin[i]; c < cons_begin[i + 1]; ++c)
      if (--indegree[consumers[c]] == 0) ready.push(consumers[c]);
  }
  if (emitted == nn) return;
  // A cycle: start at a node left over and follow unfinished producers until one repeats; that one is
  // on the cycle (the start may only be downstream of it).
  size_t cur = 0;
  while (indegree[cur] == 0) ++cur;
  std::vector<char> seen(nn, 0);
  while (!seen[cur]) {
    seen[cur] = 1;
    size_t next = cur;
    for (size_t k = in_begin[cur]; k < in_begin[cur + 1]; ++k) {
      if (in_ids[k] == kNone) continue;
      const int32_t p = producer[in_ids[k]];
      if (p >= 0 && indegree[static_cast<size_t>(p)] > 0) {
        next = static_cast<size_t>(p);
        break;
      }
    }
    cur = next;
  }
  node_error(nodes[cur], cur, "is part of a cycle in the graph");
}

}  // namespace netscore::graph::walk
