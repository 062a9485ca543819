// FLOPs per element of elementwise and activation ops: the table documented in docs/counting.md.
#include "graph/cost.h"

namespace netscore::graph::cost {

int64_t elementwise_flops_per_element(std::string_view op_type) { return -1; }

}  // namespace netscore::graph::cost
