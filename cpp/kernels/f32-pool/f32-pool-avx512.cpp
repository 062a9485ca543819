// f32 max / average pooling for the avx512 tier, instantiated from f32-pool.list.
#include "kernels/simd/vec-avx512.h"
#include "kernels/f32-pool/f32-pool-impl.h"

namespace netscore::kernels {
#define NS_F32_POOL(isa, ...) NS_KEEP_##isa(NS_F32_POOL_DEFINE(isa, __VA_ARGS__))
#include "kernels/f32-pool/f32-pool.list"
#undef NS_F32_POOL
}  // namespace netscore::kernels
