// The counting conventions in one place (each with its reason in docs/counting.md).
// MACs: multiply-accumulates of Conv, ConvTranspose, Gemm, MatMul, Einsum and the RNNs, bias excluded.
// FLOPs: 2 x MACs, plus bias adds, elementwise, normalisation, activation, pooling and softmax operations.
#pragma once
#include <cstdint>
#include <string_view>

namespace netscore::graph::cost {

constexpr int64_t kFlopsPerMac = 2;  // a fused multiply-add is two floating-point operations

// FLOPs per output element of an elementwise or activation op (Add, Relu, Sigmoid, HardSwish, Gelu, ...).
// Returns -1 for an op type not in the table.
int64_t elementwise_flops_per_element(std::string_view op_type);

}  // namespace netscore::graph::cost
