// f32 GEMV panels for the neon tier, instantiated from f32-gemv.list.
#include "kernels/simd/vec-neon.h"
#include "kernels/f32-gemm/f32-gemm-impl.h"

namespace netscore::kernels {
#define NS_F32_GEMV(isa, ...) NS_KEEP_##isa(NS_F32_GEMV_DEFINE(isa, __VA_ARGS__))
#include "kernels/f32-gemv/f32-gemv.list"
#undef NS_F32_GEMV
}  // namespace netscore::kernels
