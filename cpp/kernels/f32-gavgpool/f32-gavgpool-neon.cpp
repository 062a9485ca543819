// f32 global average pooling for the neon tier, instantiated from f32-gavgpool.list.
#include "kernels/simd/vec-neon.h"
#include "kernels/f32-pool/f32-pool-impl.h"

namespace netscore::kernels {
#define NS_F32_GAVGPOOL(isa) NS_KEEP_##isa(NS_F32_GAVGPOOL_DEFINE(isa))
#include "kernels/f32-gavgpool/f32-gavgpool.list"
#undef NS_F32_GAVGPOOL
}  // namespace netscore::kernels
