// f32 GEMM tiles for the neon tier, instantiated from f32-gemm.list.
#include "kernels/simd/vec-neon.h"
#include "kernels/f32-gemm/f32-gemm-impl.h"

namespace netscore::kernels {
#define NS_F32_GEMM(isa, ...) NS_KEEP_##isa(NS_F32_GEMM_DEFINE(isa, __VA_ARGS__))
#include "kernels/f32-gemm/f32-gemm.list"
#undef NS_F32_GEMM
}  // namespace netscore::kernels
