// f32 indirect GEMM tiles for the avx512 tier, instantiated from f32-igemm.list.
#include "kernels/simd/vec-avx512.h"
#include "kernels/f32-gemm/f32-gemm-impl.h"

namespace netscore::kernels {
#define NS_F32_IGEMM(isa, ...) NS_KEEP_##isa(NS_F32_IGEMM_DEFINE(isa, __VA_ARGS__))
#include "kernels/f32-igemm/f32-igemm.list"
#undef NS_F32_IGEMM
}  // namespace netscore::kernels
