// Liveness sweep: peak activation bytes under a node order.
#include "graph/memory.h"

#include <algorithm>

#include "graph/ops/shape_util.h"

namespace netscore::graph {

std::vector<int64_t> live_bytes_by_step(const std::vector<TensorLife>& lives, int64_t num_steps) {
  if (num_steps < 1) num_steps = 1;  // a graph without nodes still holds its inputs
  // Difference array: +bytes where a life starts, -bytes one past where it ends; the running sum is the
  // live total at each step. Computed with saturating adds over (allocated, freed) pairs.
  std::vector<int64_t> alloc(static_cast<size_t>(num_steps) + 1, 0), freed(static_cast<size_t>(num_steps) + 1, 0);
  for (const TensorLife& t : lives) {
    if (t.bytes <= 0) continue;
    int64_t first = std::clamp<int64_t>(t.first, 0, num_steps - 1);
    int64_t last = std::clamp<int64_t>(t.last, first, num_steps - 1);
    alloc[static_cast<size_t>(first)] = add_sat(alloc[static_cast<size_t>(first)], t.bytes);
    freed[static_cast<size_t>(last) + 1] = add_sat(freed[static_cast<size_t>(last) + 1], t.bytes);
  }
  std::vector<int64_t> live_at(static_cast<size_t>(num_steps), 0);
  int64_t live = 0;
  for (int64_t s = 0; s < num_steps; ++s) {
    live = add_sat(live, alloc[static_cast<size_t>(s)]);
    live -= std::min(live, freed[static_cast<size_t>(s)]);
    live_at[static_cast<size_t>(s)] = live;
  }
  return live_at;
}

int64_t peak_live_bytes(const std::vector<TensorLife>& lives, int64_t num_steps) {
  const std::vector<int64_t> live_at = live_bytes_by_step(lives, num_steps);
  return *std::max_element(live_at.begin(), live_at.end());
}

}  // namespace netscore::graph
