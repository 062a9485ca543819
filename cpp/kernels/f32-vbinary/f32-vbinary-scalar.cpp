// f32 elementwise add / multiply for the scalar tier, instantiated from f32-vbinary.list.
#include "kernels/simd/vec-scalar.h"
#include "kernels/f32-vbinary/f32-vbinary-impl.h"

namespace netscore::kernels {
#define NS_F32_VBINARY(isa, ...) NS_KEEP_##isa(NS_F32_VBINARY_DEFINE(isa, __VA_ARGS__))
#include "kernels/f32-vbinary/f32-vbinary.list"
#undef NS_F32_VBINARY
}  // namespace netscore::kernels
