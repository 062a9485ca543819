// Attention (ai.onnx) and com.microsoft attention-style fused ops.
#include "graph/ops/families.h"

namespace netscore::graph {

void register_attention(OpRegistry& r) {}

}  // namespace netscore::graph
