// int8 depthwise accumulation for the scalar tier, instantiated from qs8-dwconv.list.
#include "kernels/simd/vec-scalar.h"
#include "kernels/qs8-dwconv/qs8-dwconv-impl.h"

namespace netscore::kernels {
#define NS_QS8_DWCONV(isa) NS_KEEP_##isa(NS_QS8_DWCONV_DEFINE(isa))
#include "kernels/qs8-dwconv/qs8-dwconv.list"
#undef NS_QS8_DWCONV
}  // namespace netscore::kernels
