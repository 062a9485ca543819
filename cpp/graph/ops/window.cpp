// Sliding-window output size shared by Conv and pooling, with auto_pad and ceil_mode.
#include "graph/ops/shape_util.h"

namespace netscore::graph {

std::optional<WindowResult> window_output(const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                                          const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                          const std::vector<int64_t>& pads, std::string_view auto_pad,
                                          bool ceil_mode) {
  return std::nullopt;
}

}  // namespace netscore::graph
