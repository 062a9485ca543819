// Op family: elementwise (being filled in).
#include "graph/ops/families.h"

namespace netscore::graph {

void register_elementwise(OpRegistry& r) {}

}  // namespace netscore::graph
