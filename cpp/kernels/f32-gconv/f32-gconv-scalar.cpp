// f32 direct grouped convolution for the scalar tier, instantiated from f32-gconv.list.
#include "kernels/simd/vec-scalar.h"
#include "kernels/f32-dwconv/f32-dwconv-impl.h"

namespace netscore::kernels {
#define NS_F32_GCONV(isa, ...) NS_KEEP_##isa(NS_F32_GCONV_DEFINE(isa, __VA_ARGS__))
#include "kernels/f32-gconv/f32-gconv.list"
#undef NS_F32_GCONV
}  // namespace netscore::kernels
