// Matrix products: Gemm, MatMul, Einsum.
#include "graph/ops/families.h"

namespace netscore::graph {

void register_linear(OpRegistry& r) {}

}  // namespace netscore::graph
