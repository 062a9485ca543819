// f32 implicit im2col packing for the avx512 tier, instantiated from f32-im2col.list.
#include "kernels/simd/vec-avx512.h"
#include "kernels/f32-im2col/f32-im2col-impl.h"

namespace netscore::kernels {
#define NS_F32_IM2COL(isa) NS_KEEP_##isa(NS_F32_IM2COL_DEFINE(isa))
#include "kernels/f32-im2col/f32-im2col.list"
#undef NS_F32_IM2COL
}  // namespace netscore::kernels
