// Conv and ConvTranspose: shapes and costs; depthwise/pointwise/grouped are parameters of one function.
#include "graph/ops/families.h"

namespace netscore::graph {

void register_conv(OpRegistry& r) {}

}  // namespace netscore::graph
