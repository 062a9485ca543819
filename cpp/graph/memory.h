// Activation memory under a node order: liveness of tensors and the peak of live bytes.
#pragma once
#include <cstdint>
#include <vector>

namespace netscore::graph {

// One activation tensor: its size and the steps (positions in the node order) at which it is live.
// It is live from `first` (its producer; 0 for graph inputs) to `last` (its last consumer; the final
// step for graph outputs), both inclusive.
struct TensorLife {
  int64_t bytes = 0;
  int64_t first = 0;
  int64_t last = 0;
};

// The bytes of tensors live at each step 0..num_steps-1 (at least one step). Lives are clamped to the step
// range; sizes saturate instead of overflowing.
std::vector<int64_t> live_bytes_by_step(const std::vector<TensorLife>& lives, int64_t num_steps);

// Maximum over steps of live_bytes_by_step: the peak activation memory under the node order.
int64_t peak_live_bytes(const std::vector<TensorLife>& lives, int64_t num_steps);

}  // namespace netscore::graph
