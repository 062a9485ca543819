// int8 requantisation for the avx2 tier, instantiated from qs8-requant.list.
#include "kernels/simd/vec-avx2.h"
#include "kernels/qs8-dwconv/qs8-dwconv-impl.h"

namespace netscore::kernels {
#define NS_QS8_REQUANT(isa) NS_KEEP_##isa(NS_QS8_REQUANT_DEFINE(isa))
#include "kernels/qs8-requant/qs8-requant.list"
#undef NS_QS8_REQUANT
}  // namespace netscore::kernels
