// qs8 GEMM tiles for the avx2 tier, instantiated from qs8-gemm.list.
// Each k group of 4 int8 is widened to int16 and multiplied with vpmaddwd (pairs of k summed into int32);
// the pair sums are folded with one horizontal add per tile at the end.
#include "kernels/simd/vec-avx2.h"
#include "kernels/ukernels.h"

namespace netscore::kernels {
namespace {
template <int MR, int NR>
void qs8_gemm_avx2(size_t mr, size_t nc, size_t kc, const int8_t* a, const int8_t* b, int32_t* c, size_t ldc,
                   int accumulate) {
  static_assert(NR == 8, "one ymm pair covers 8 columns");
  __m256i acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_si256();
  for (size_t k = 0; k < kc; k += 4) {
    const __m256i braw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(braw));       // columns 0..3
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(braw, 1));  // columns 4..7
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t a4;
      __builtin_memcpy(&a4, a + r * 4, 4);
      const __m256i av = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(a4)));
      acc0[r] = _mm256_add_epi32(acc0[r], _mm256_madd_epi16(b0, av));
      acc1[r] = _mm256_add_epi32(acc1[r], _mm256_madd_epi16(b1, av));
    }
    a += MR * 4;
    b += NR * 4;
  }
  for (int r = 0; r < MR; ++r) {
    if (size_t(r) >= mr) break;
    __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc0[r], acc1[r]), 0xD8);
    int32_t* cr = c + r * ldc;
    if (nc == 8) {
      if (accumulate) s = _mm256_add_epi32(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cr)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr), s);
    } else {
      alignas(32) int32_t t[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(t), s);
      for (size_t n = 0; n < nc; ++n) cr[n] = (accumulate ? cr[n] : 0) + t[n];
    }
  }
}
}  // namespace

#define NS_QS8_GEMM(isa, mr, nr)                                                                             \
  NS_KEEP_##isa(void ns_qs8_gemm_ukernel_##mr##x##nr##__##isa(size_t m, size_t nc, size_t kc, const int8_t* a, \
                                                              const int8_t* b, int32_t* c, size_t ldc, int acc) { \
    qs8_gemm_avx2<mr, nr>(m, nc, kc, a, b, c, ldc, acc);                                                     \
  })
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
}  // namespace netscore::kernels
