// f32 depthwise convolution for the neon tier, instantiated from f32-dwconv.list.
#include "kernels/simd/vec-neon.h"
#include "kernels/f32-dwconv/f32-dwconv-impl.h"

namespace netscore::kernels {
#define NS_F32_DWCONV(isa, ...) NS_KEEP_##isa(NS_F32_DWCONV_DEFINE(isa, __VA_ARGS__))
#include "kernels/f32-dwconv/f32-dwconv.list"
#undef NS_F32_DWCONV
}  // namespace netscore::kernels
