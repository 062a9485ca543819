// Pooling ops: MaxPool, AveragePool, LpPool, global pools, MaxUnpool, MaxRoiPool.
#include "graph/ops/families.h"

namespace netscore::graph {

void register_pool(OpRegistry& r) {}

}  // namespace netscore::graph
