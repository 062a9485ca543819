// Normalisation ops: BatchNormalization, LayerNormalization, InstanceNormalization, GroupNormalization, LRN, ...
#include "graph/ops/families.h"

namespace netscore::graph {

void register_norm(OpRegistry& r) {}

}  // namespace netscore::graph
