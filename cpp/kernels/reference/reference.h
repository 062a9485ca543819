// Plain scalar reference implementations of every op: direct loops in double precision that call no
// optimised code. Used only by the tests to check each micro-kernel on every ISA tier.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace netscore::kernels::reference {

// residual (shaped like y, or nullptr) is added before the activation.
void conv2d(const Conv2dShape& s, const float* x, const float* w, const float* bias, Activation act, float* y,
            const float* residual = nullptr);
void gemm(const GemmShape& s, const float* x, const float* b, const float* bias, Activation act, float* y);
void pool2d(PoolKind kind, const Pool2dShape& s, const float* x, float* y);
void global_avg_pool(int64_t n, int64_t c, int64_t h, int64_t w, const float* x, float* y);
// Output dims follow NumPy broadcasting; returns them.
std::vector<int64_t> binary(BinaryOp op, const std::vector<int64_t>& a_dims, const float* a,
                            const std::vector<int64_t>& b_dims, const float* b, std::vector<float>* y);
void unary(Activation act, int64_t count, const float* x, float* y);
// int8: exact int32 accumulation of (x - x.zp) * w + bias, then y = clamp(nearbyint(acc * s) + y.zp) with
// s = float(double(x.scale) * w.scale / y.scale) and the activation's clamp range.
void qconv2d(const Conv2dShape& s, const int8_t* x, const int8_t* w, const int32_t* bias, QuantParams xq,
             QuantParams wq, QuantParams yq, Activation act, int8_t* y);
void qgemm(const GemmShape& s, const int8_t* x, const int8_t* b, const int32_t* bias, QuantParams xq,
           QuantParams wq, QuantParams yq, Activation act, int8_t* y);

}  // namespace netscore::kernels::reference
