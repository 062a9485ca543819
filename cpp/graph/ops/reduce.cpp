// Reductions and softmax family: Reduce*, Softmax, LogSoftmax, Hardmax, ArgMax/ArgMin, TopK, CumSum.
#include "graph/ops/families.h"

namespace netscore::graph {

void register_reduce(OpRegistry& r) {}

}  // namespace netscore::graph
