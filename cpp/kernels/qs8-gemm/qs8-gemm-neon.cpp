// qs8 GEMM tiles for the neon tier, instantiated from qs8-gemm.list.
// int8 x int8 -> int16 with vmull_s8 (8 products: 2 columns x 4 k), pairwise-accumulated into int32 (vpadal).
#include "kernels/simd/vec-neon.h"
#include "kernels/ukernels.h"

namespace netscore::kernels {
namespace {
template <int MR, int NR>
void qs8_gemm_neon(size_t mr, size_t nc, size_t kc, const int8_t* a, const int8_t* b, int32_t* c, size_t ldc,
                   int accumulate) {
  static_assert(NR == 8, "four 8-byte halves cover 8 columns");
  int32x4_t acc[MR][4];
  for (int r = 0; r < MR; ++r)
    for (int h = 0; h < 4; ++h) acc[r][h] = vdupq_n_s32(0);
  for (size_t k = 0; k < kc; k += 4) {
    int8x8_t bh[4];
    for (int h = 0; h < 4; ++h) bh[h] = vld1_s8(b + 8 * h);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t a4;
      __builtin_memcpy(&a4, a + r * 4, 4);
      const int8x8_t av = vreinterpret_s8_s32(vdup_n_s32(a4));
      for (int h = 0; h < 4; ++h) acc[r][h] = vpadalq_s16(acc[r][h], vmull_s8(bh[h], av));
    }
    a += MR * 4;
    b += NR * 4;
  }
  for (int r = 0; r < MR; ++r) {
    if (size_t(r) >= mr) break;
    int32_t t[8];
    vst1q_s32(t, vpaddq_s32(acc[r][0], acc[r][1]));
    vst1q_s32(t + 4, vpaddq_s32(acc[r][2], acc[r][3]));
    int32_t* cr = c + r * ldc;
    for (size_t n = 0; n < nc; ++n) cr[n] = (accumulate ? cr[n] : 0) + t[n];
  }
}
}  // namespace

#define NS_QS8_GEMM(isa, mr, nr)                                                                             \
  NS_KEEP_##isa(void ns_qs8_gemm_ukernel_##mr##x##nr##__##isa(size_t m, size_t nc, size_t kc, const int8_t* a, \
                                                              const int8_t* b, int32_t* c, size_t ldc, int acc) { \
    qs8_gemm_neon<mr, nr>(m, nc, kc, a, b, c, ldc, acc);                                                     \
  })
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
}  // namespace netscore::kernels
