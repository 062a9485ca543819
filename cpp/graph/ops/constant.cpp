// Op family: constant (being filled in).
#include "graph/ops/families.h"

namespace netscore::graph {

void register_constant(OpRegistry& r) {}

}  // namespace netscore::graph
