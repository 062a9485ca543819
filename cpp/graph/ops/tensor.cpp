// Op family: tensor (being filled in).
#include "graph/ops/families.h"

namespace netscore::graph {

void register_tensor(OpRegistry& r) {}

}  // namespace netscore::graph
