// f32 activations for the avx2 tier, instantiated from f32-vact.list.
#include "kernels/simd/vec-avx2.h"
#include "kernels/f32-vact/f32-vact-impl.h"

namespace netscore::kernels {
#define NS_F32_VACT(isa) NS_KEEP_##isa(NS_F32_VACT_DEFINE(isa))
#include "kernels/f32-vact/f32-vact.list"
#undef NS_F32_VACT
}  // namespace netscore::kernels
