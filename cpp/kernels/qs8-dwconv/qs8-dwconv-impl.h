// int8 depthwise convolution of a block of channels, each on a flat output grid (see Qs8DwconvArgs), written
// once over the tier's qs8 traits (simd::Qs8Dwconv: int16 pairs times weight pairs widened into int32, i.e.
// vpmaddwd or smlal), then requantisation as plain loops that each tier's file compiles (and the compiler
// vectorises) with its flags.
#pragma once
#include <algorithm>
#include <cstring>

#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

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

// n bytes with a few fixed-size (inlined) copies: output rows are short and there are many of them.
inline void copy_row(int8_t* __restrict d, const int8_t* __restrict s, size_t n) {
  if (n >= 16) {
    size_t j = 0;
    for (; j + 16 <= n; j += 16) std::memcpy(d + j, s + j, 16);
    if (j < n) std::memcpy(d + n - 16, s + n - 16, 16);
  } else if (n >= 8) {
    std::memcpy(d, s, 8);
    std::memcpy(d + n - 8, s + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(d, s, 4);
    std::memcpy(d + n - 4, s + n - 4, 4);
  } else {
    for (size_t j = 0; j < n; ++j) d[j] = s[j];
  }
}

// The flat output grid of one channel (see Qs8DwconvArgs) into acc.
template <class T>
inline void qs8_dwconv_grid(const int16_t* in, size_t sw, size_t pairs, const size_t* off, const int32_t* wp,
                            size_t count, int32_t* acc) {
  constexpr size_t N = T::N;
  using Acc = typename T::Acc;
  size_t i = 0;
  if (sw == 2) {
    // Output i + j reads its pairs at 2 (i + j) + off: the lanes of one madd are N consecutive outputs.
    for (; i + 4 * N <= count; i += 4 * N) {
      Acc a0 = T::zero(), a1 = T::zero(), a2 = T::zero(), a3 = T::zero();
      for (size_t t = 0; t < pairs; ++t) {
        const typename T::W w = T::weights(wp[t]);
        const int16_t* s = in + off[t] + 2 * i;
        a0 = T::madd(a0, s, w);
        a1 = T::madd(a1, s + 2 * N, w);
        a2 = T::madd(a2, s + 4 * N, w);
        a3 = T::madd(a3, s + 6 * N, w);
      }
      T::store(acc + i, a0);
      T::store(acc + i + N, a1);
      T::store(acc + i + 2 * N, a2);
      T::store(acc + i + 3 * N, a3);
    }
    for (; i < count; i += N) {
      Acc a = T::zero();
      for (size_t t = 0; t < pairs; ++t) a = T::madd(a, in + off[t] + 2 * i, T::weights(wp[t]));
      T::store(acc + i, a);
    }
  } else if (sw == 1) {
    // The even outputs i + 2j read their pairs at i + 2j + off, the odd ones one further: two madds per 2N
    // outputs, interleaved on store.
    for (; i + 4 * N <= count; i += 4 * N) {
      Acc e0 = T::zero(), o0 = T::zero(), e1 = T::zero(), o1 = T::zero();
      for (size_t t = 0; t < pairs; ++t) {
        const typename T::W w = T::weights(wp[t]);
        const int16_t* s = in + off[t] + i;
        e0 = T::madd(e0, s, w);
        o0 = T::madd(o0, s + 1, w);
        e1 = T::madd(e1, s + 2 * N, w);
        o1 = T::madd(o1, s + 2 * N + 1, w);
      }
      T::store_interleaved(acc + i, e0, o0);
      T::store_interleaved(acc + i + 2 * N, e1, o1);
    }
    for (; i < count; i += 2 * N) {
      Acc e = T::zero(), o = T::zero();
      for (size_t t = 0; t < pairs; ++t) {
        const typename T::W w = T::weights(wp[t]);
        e = T::madd(e, in + off[t] + i, w);
        o = T::madd(o, in + off[t] + i + 1, w);
      }
      T::store_interleaved(acc + i, e, o);
    }
  } else {
    for (; i < count; ++i) {
      int32_t a = 0;
      for (size_t t = 0; t < pairs; ++t) {
        const int16_t* s = in + off[t] + sw * i;
        a += int32_t(s[0]) * int16_t(uint32_t(wp[t]) & 0xFFFFu) + int32_t(s[1]) * int16_t(uint32_t(wp[t]) >> 16);
      }
      acc[i] = a;
    }
  }
}

template <class T>
inline void qs8_dwconv(const Qs8DwconvArgs* p) {
  const size_t sh = p->sh, rs = p->row_stride, w = p->in_w, in_cols = std::min(w, rs - std::min(rs, p->pad_left));
  const size_t ow = p->out_w, os = p->out_stride, hw = p->in_h * w, out_hw = p->out_h * ow;
  const int16_t zp = int16_t(p->x_zero_point);
  // Padding stays zero from here: each channel overwrites the image part only.
  std::fill(p->plane, p->plane + sh * p->phase_stride, int16_t(0));
  for (size_t c = 0; c < p->channels; ++c) {
    const int8_t* x = p->x + c * hw;
    // Image row ih is padded row pad_top + ih: phase (pad_top + ih) % sh, row (pad_top + ih) / sh. The image
    // rows of one phase are sh apart.
    for (size_t ph = 0; ph < sh && in_cols; ++ph) {
      const size_t ih0 = (ph + sh - p->pad_top % sh) % sh, prow0 = (p->pad_top + ih0) / sh;
      if (ih0 >= p->in_h || prow0 >= p->rows) continue;
      const size_t n_rows = std::min(div_up(p->in_h - ih0, sh), p->rows - prow0);
      T::widen(p->plane + ph * p->phase_stride + prow0 * rs + p->pad_left, rs, x + ih0 * w, sh * w, n_rows, in_cols,
               zp);
    }
    qs8_dwconv_grid<T>(p->plane, p->sw, p->pairs, p->off, p->w + c * p->pairs, p->count, p->acc);
    // Columns past out_w are discarded: requantise all, then keep out_w of every out_stride.
    int8_t* y = p->out + c * out_hw;
    if (os == ow) {
      qs8_requant(p->count, p->acc, p->bias[c], p->scale, p->zero_point, p->lo, p->hi, y);
      continue;
    }
    qs8_requant(p->count, p->acc, p->bias[c], p->scale, p->zero_point, p->lo, p->hi, p->tmp);
    for (size_t r = 0; r < p->out_h; ++r) copy_row(y + r * ow, p->tmp + r * os, ow);
  }
}

}  // namespace netscore::kernels::impl

#define NS_QS8_DWCONV_DEFINE(isa, ...) \
  void ns_qs8_dwconv_ukernel__##isa(const Qs8DwconvArgs* p) { impl::qs8_dwconv<simd::Qs8Dwconv>(p); }
#define NS_QS8_REQUANT_DEFINE(isa, ...)                                                                \
  void ns_qs8_requant_ukernel__##isa(size_t n, const int32_t* acc, int32_t bias, float scale, int32_t zp, \
                                     int32_t lo, int32_t hi, int8_t* y) {                                 \
    impl::qs8_requant(n, acc, bias, scale, zp, lo, hi, y);                                               \
  }
