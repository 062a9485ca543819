// int8 GEMM tile written once over the tier's qs8 traits (simd::Qs8Gemm<NR>: accumulators of one row, a
// loaded k group of B, multiply-add of one row's 4 int8 of A, store); each tier's file instantiates it.
#pragma once
#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

template <class Q, int MR, int NR>
inline void qs8_gemm_tile(size_t mr, size_t nc, size_t kc, const int8_t* a, const int8_t* b, int32_t* c,
                          size_t ldc, int accumulate) {
  typename Q::Acc acc[MR];
  for (int r = 0; r < MR; ++r) acc[r] = Q::zero();
  for (size_t k = 0; k < kc; k += 4) {
    const typename Q::B bk = Q::load_b(b);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) Q::madd(acc[r], bk, a + r * 4);
    a += MR * 4;
    b += NR * 4;
  }
  for (int r = 0; r < MR; ++r) {
    if (size_t(r) >= mr) break;
    Q::store(acc[r], c + r * ldc, nc, accumulate);
  }
}

}  // namespace netscore::kernels::impl

#define NS_QS8_GEMM_DEFINE(isa, mr, nr)                                                                       \
  void ns_qs8_gemm_ukernel_##mr##x##nr##__##isa(size_t m, size_t nc, size_t kc, const int8_t* a, const int8_t* b, \
                                                int32_t* c, size_t ldc, int acc) {                            \
    impl::qs8_gemm_tile<simd::Qs8Gemm<nr>, mr, nr>(m, nc, kc, a, b, c, ldc, acc);                             \
  }
