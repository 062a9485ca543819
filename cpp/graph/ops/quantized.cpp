// Quantized ops: QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, Quantize/DequantizeLinear, ...
#include "graph/ops/families.h"

namespace netscore::graph {

void register_quantized(OpRegistry& r) {}

}  // namespace netscore::graph
