// qs8 GEMM tiles for the scalar tier, instantiated from qs8-gemm.list.
#include "kernels/simd/vec-scalar.h"
#include "kernels/ukernels.h"

namespace netscore::kernels {
namespace {
template <int MR, int NR>
void qs8_gemm_scalar(size_t mr, size_t nc, size_t kc, const int8_t* a, const int8_t* b, int32_t* c, size_t ldc,
                     int accumulate) {
  int32_t acc[MR][NR] = {};
  for (size_t k = 0; k < kc; k += 4) {
    for (int r = 0; r < MR; ++r)
      for (int n = 0; n < NR; ++n)
        for (int q = 0; q < 4; ++q) acc[r][n] += int32_t(a[r * 4 + q]) * int32_t(b[n * 4 + q]);
    a += MR * 4;
    b += NR * 4;
  }
  for (size_t r = 0; r < mr; ++r)
    for (size_t n = 0; n < nc; ++n) c[r * ldc + n] = (accumulate ? c[r * ldc + n] : 0) + acc[r][n];
}
}  // namespace

#define NS_QS8_GEMM(isa, mr, nr)                                                                             \
  NS_KEEP_##isa(void ns_qs8_gemm_ukernel_##mr##x##nr##__##isa(size_t m, size_t nc, size_t kc, const int8_t* a, \
                                                              const int8_t* b, int32_t* c, size_t ldc, int acc) { \
    qs8_gemm_scalar<mr, nr>(m, nc, kc, a, b, c, ldc, acc);                                                   \
  })
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
}  // namespace netscore::kernels
