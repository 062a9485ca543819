// qs8 GEMM tiles for the avx512 tier, instantiated from qs8-gemm.list.
// As on avx2 (int16 widening + vpmaddwd) with 16 columns per tile; pair sums folded with a 64->32 narrowing.
#include "kernels/simd/vec-avx512.h"
#include "kernels/ukernels.h"

namespace netscore::kernels {
namespace {
template <int MR, int NR>
void qs8_gemm_avx512(size_t mr, size_t nc, size_t kc, const int8_t* a, const int8_t* b, int32_t* c, size_t ldc,
                     int accumulate) {
  static_assert(NR == 16, "one zmm pair covers 16 columns");
  __m512i acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_si512();
  for (size_t k = 0; k < kc; k += 4) {
    const __m512i braw = _mm512_loadu_si512(b);
    const __m512i b0 = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(braw));        // columns 0..7
    const __m512i b1 = _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(braw, 1));  // columns 8..15
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t a4;
      __builtin_memcpy(&a4, a + r * 4, 4);
      const __m128i a16 = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(a4));
      const __m512i av = _mm512_set1_epi64(_mm_cvtsi128_si64(a16));
      acc0[r] = _mm512_add_epi32(acc0[r], _mm512_madd_epi16(b0, av));
      acc1[r] = _mm512_add_epi32(acc1[r], _mm512_madd_epi16(b1, av));
    }
    a += MR * 4;
    b += NR * 4;
  }
  for (int r = 0; r < MR; ++r) {
    if (size_t(r) >= mr) break;
    const __m256i s0 = _mm512_cvtepi64_epi32(_mm512_add_epi32(acc0[r], _mm512_srli_epi64(acc0[r], 32)));
    const __m256i s1 = _mm512_cvtepi64_epi32(_mm512_add_epi32(acc1[r], _mm512_srli_epi64(acc1[r], 32)));
    __m512i s = _mm512_inserti64x4(_mm512_castsi256_si512(s0), s1, 1);
    int32_t* cr = c + r * ldc;
    const __mmask16 m = nc >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nc) - 1u);
    if (accumulate) s = _mm512_add_epi32(s, _mm512_maskz_loadu_epi32(m, cr));
    _mm512_mask_storeu_epi32(cr, m, s);
  }
}
}  // namespace

#define NS_QS8_GEMM(isa, mr, nr)                                                                             \
  NS_KEEP_##isa(void ns_qs8_gemm_ukernel_##mr##x##nr##__##isa(size_t m, size_t nc, size_t kc, const int8_t* a, \
                                                              const int8_t* b, int32_t* c, size_t ldc, int acc) { \
    qs8_gemm_avx512<mr, nr>(m, nc, kc, a, b, c, ldc, acc);                                                   \
  })
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
}  // namespace netscore::kernels
