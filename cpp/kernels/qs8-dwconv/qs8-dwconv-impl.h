// int8 depthwise accumulation and requantisation as plain loops; each *-<isa>.cpp compiles them with its
// ISA flags so the compiler vectorises the inner loops for that tier.
#pragma once
#include <algorithm>

#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

inline void qs8_dwconv(const Qs8DwconvArgs* p) {
  const size_t ow_n = p->out_w;
  for (size_t oh = 0; oh < p->out_h; ++oh) {
    int32_t* __restrict acc = p->acc + oh * ow_n;
    for (size_t i = 0; i < ow_n; ++i) acc[i] = 0;
    for (size_t ky = 0; ky < p->kh; ++ky) {
      const int16_t* row = p->in + (oh * p->sh + ky * p->dh) * p->row_stride;
      for (size_t kx = 0; kx < p->kw; ++kx) {
        const int32_t wv = p->w[ky * p->kw + kx];
        const int16_t* __restrict src = row + kx * p->dw;
        if (p->sw == 1) {
          for (size_t i = 0; i < ow_n; ++i) acc[i] += int32_t(src[i]) * wv;
        } else {
          const size_t sw = p->sw;
          for (size_t i = 0; i < ow_n; ++i) acc[i] += int32_t(src[i * sw]) * wv;
        }
      }
    }
  }
}

inline void qs8_requant(size_t n, const int32_t* __restrict acc, int32_t bias, float scale, int32_t zero_point,
                        int32_t lo, int32_t hi, int8_t* __restrict y) {
  const float flo = static_cast<float>(lo - zero_point), fhi = static_cast<float>(hi - zero_point);
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds half to even
  for (size_t i = 0; i < n; ++i) {
    float f = static_cast<float>(acc[i] + bias) * scale;
    f = std::min(std::max(f, flo), fhi);
    f = (f + magic) - magic;
    y[i] = static_cast<int8_t>(static_cast<int32_t>(f) + zero_point);
  }
}

}  // namespace netscore::kernels::impl

#define NS_QS8_DWCONV_DEFINE(isa, ...) \
  void ns_qs8_dwconv_ukernel__##isa(const Qs8DwconvArgs* p) { impl::qs8_dwconv(p); }
#define NS_QS8_REQUANT_DEFINE(isa, ...)                                                                \
  void ns_qs8_requant_ukernel__##isa(size_t n, const int32_t* acc, int32_t bias, float scale, int32_t zp, \
                                     int32_t lo, int32_t hi, int8_t* y) {                                 \
    impl::qs8_requant(n, acc, bias, scale, zp, lo, hi, y);                                               \
  }
