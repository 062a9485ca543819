// qs8 GEMM tiles for the neondot tier (SDOT, ARMv8.2 dot product), instantiated from qs8-gemm.list.
// One vdotq_s32 sums 4 k products for 4 columns at once; no widening needed.
#define NS_NEONDOT_FILE 1
#include "kernels/simd/vec-neon.h"
#include "kernels/ukernels.h"

namespace netscore::kernels {
namespace {
template <int MR, int NR>
void qs8_gemm_neondot(size_t mr, size_t nc, size_t kc, const int8_t* a, const int8_t* b, int32_t* c, size_t ldc,
                      int accumulate) {
  static_assert(NR == 8, "two 16-byte groups cover 8 columns");
  int32x4_t acc[MR][2];
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = vdupq_n_s32(0);
  for (size_t k = 0; k < kc; k += 4) {
    const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t a4;
      __builtin_memcpy(&a4, a + r * 4, 4);
      const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(a4));
      acc[r][0] = vdotq_s32(acc[r][0], b0, av);
      acc[r][1] = vdotq_s32(acc[r][1], b1, av);
    }
    a += MR * 4;
    b += NR * 4;
  }
  for (int r = 0; r < MR; ++r) {
    if (size_t(r) >= mr) break;
    int32_t t[8];
    vst1q_s32(t, acc[r][0]);
    vst1q_s32(t + 4, acc[r][1]);
    int32_t* cr = c + r * ldc;
    for (size_t n = 0; n < nc; ++n) cr[n] = (accumulate ? cr[n] : 0) + t[n];
  }
}
}  // namespace

#define NS_QS8_GEMM(isa, mr, nr)                                                                             \
  NS_KEEP_##isa(void ns_qs8_gemm_ukernel_##mr##x##nr##__##isa(size_t m, size_t nc, size_t kc, const int8_t* a, \
                                                              const int8_t* b, int32_t* c, size_t ldc, int acc) { \
    qs8_gemm_neondot<mr, nr>(m, nc, kc, a, b, c, ldc, acc);                                                  \
  })
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
}  // namespace netscore::kernels
