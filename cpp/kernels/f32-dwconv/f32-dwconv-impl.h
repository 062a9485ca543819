// Direct convolution over padded, phase-split planes, written once over the vector traits `T`.
// Shared by f32-dwconv (one channel per block) and f32-gconv (CO output channels of a small group per block).
// Vectorised along the output width; R output rows per pass reuse each loaded input row (stride-1 fast paths).
#pragma once
#include <type_traits>

#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

// The accumulators of a tile start at the biases of the block's CO output channels.
template <class T, int CO, int R>
inline void init_tile(const DirectConvArgs* p, typename T::V (&acc)[CO][R]) {
#pragma GCC unroll 8
  for (int co = 0; co < CO; ++co)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[co][r] = T::set1(p->bias[co]);
}

// Clamps a tile of rows [oh0, oh0 + rr) and the W columns from ow0 (fewer at the right edge) to [lo, hi]
// and stores the block's valid output channels.
template <class T, int CO, int R>
inline void store_tile(const DirectConvArgs* p, typename T::V (&acc)[CO][R], size_t oh0, size_t ow0, size_t rr,
                       typename T::V lo, typename T::V hi) {
  const ptrdiff_t n = ptrdiff_t(p->out_w) - ptrdiff_t(ow0);
#pragma GCC unroll 8
  for (int co = 0; co < CO; ++co) {
    if (size_t(co) >= p->co_valid) break;
    float* o = p->out + co * p->out_channel_stride + oh0 * p->out_w + ow0;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      if (size_t(r) < rr) T::store_n(o + r * p->out_w, T::min(T::max(acc[co][r], lo), hi), n);
  }
}

// One input row vector `v` (tile row `ir`, counted from the first input row the tile reads; tap column kx)
// feeds output row r through tap row ir - r * S: adds those products for the block's CO output channels.
// ir and kx are constants of the callers' unrolled loops, so the tap tests fold away.
template <class T, int KH, int KW, int S, int R, int CO>
inline __attribute__((always_inline)) void accumulate_row(typename T::V (&acc)[CO][R], typename T::V v,
                                                          const float* wc, size_t wstride, int ir, int kx) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const int ky = ir - r * S;
    if (ky >= 0 && ky < KH) {
#pragma GCC unroll 8
      for (int co = 0; co < CO; ++co)
        acc[co][r] = T::fmadd(v, T::set1(wc[co * wstride + ky * KW + kx]), acc[co][r]);
    }
  }
}

// KH == 0 selects the general form (run-time kernel size, stride, dilation); else dilation is 1.
template <class T, int KH, int KW, int SH, int SW, int R, int CO>
inline void f32_direct_conv(const DirectConvArgs* p) {
  using V = typename T::V;
  constexpr int W = T::W;
  const auto [kh, kw, sh, sw, dh, dw] = tap_window<T, KH, KW, SH, SW>(p);
  const size_t cin = p->cin, rs = p->row_stride, ps = p->phase_stride;
  const size_t wstride = cin * kh * kw;  // floats between output channels of the block
  const V lo = T::set1(p->min), hi = T::set1(p->max);
  for (size_t oh0 = 0; oh0 < p->out_h; oh0 += R) {
    const size_t rr = p->out_h - oh0 < size_t(R) ? p->out_h - oh0 : size_t(R);
    for (size_t ow0 = 0; ow0 < p->out_w; ow0 += W) {
      V acc[CO][R];
      init_tile<T>(p, acc);
      for (size_t ci = 0; ci < cin; ++ci) {
        const float* plane = p->in + ci * p->plane_stride + ow0;
        const float* wc = p->w + ci * kh * kw;
        if constexpr (KH != 0 && R > 1) {
          const float* base = plane + oh0 * SH * rs;
#pragma GCC unroll 16
          for (int ir = 0; ir < (R - 1) * SH + KH; ++ir) {
#pragma GCC unroll 8
            for (int kx = 0; kx < KW; ++kx) {
              const V v = T::load(base + (kx % SW) * ps + ir * rs + kx / SW);
              accumulate_row<T, KH, KW, SH>(acc, v, wc, wstride, ir, kx);
            }
          }
        } else {
          for (size_t ky = 0; ky < kh; ++ky) {
            for (size_t kx = 0; kx < kw; ++kx) {
              const size_t off = kx * dw;
              const float* src = plane + (off % sw) * ps + (oh0 * sh + ky * dh) * rs + off / sw;
#pragma GCC unroll 8
              for (int r = 0; r < R; ++r) {
                const V v = T::load(src + r * sh * rs);
#pragma GCC unroll 8
                for (int co = 0; co < CO; ++co)
                  acc[co][r] = T::fmadd(v, T::set1(wc[co * wstride + ky * kw + kx]), acc[co][r]);
              }
            }
          }
        }
      }
      store_tile<T>(p, acc, oh0, ow0, rr, lo, hi);
    }
  }
}

// Stride-1, undilated direct convolution straight from the unpadded input: rows outside the image are
// skipped and columns outside it are masked off at load time, so no padded copy is built.
template <class T, int KH, int KW, int R, int CO>
inline void f32_direct_conv_raw_s1(const DirectConvArgs* p) {
  using V = typename T::V;
  constexpr int W = T::W;
  const ptrdiff_t h = p->in_h, w = p->in_w, pt = p->pad_top, pl = p->pad_left;
  const size_t cin = p->cin, wstride = cin * KH * KW;
  const V lo = T::set1(p->min), hi = T::set1(p->max);
  for (size_t oh0 = 0; oh0 < p->out_h; oh0 += R) {
    const size_t rr = p->out_h - oh0 < size_t(R) ? p->out_h - oh0 : size_t(R);
    for (size_t ow0 = 0; ow0 < p->out_w; ow0 += W) {
      // Lanes of tap kx that fall inside the image, prepared once per column block.
      typename T::Range lanes[KW];
#pragma GCC unroll 8
      for (int kx = 0; kx < KW; ++kx) {
        const ptrdiff_t start = ptrdiff_t(ow0) + kx - pl;
        lanes[kx] = T::range(start < 0 ? -start : 0, w - start < W ? w - start : W);
      }
      V acc[CO][R];
      init_tile<T>(p, acc);
      for (size_t ci = 0; ci < cin; ++ci) {
        const float* img = p->in + ci * p->plane_stride;
        const float* wc = p->w + ci * KH * KW;
#pragma GCC unroll 16
        for (int ir = 0; ir < R + KH - 1; ++ir) {
          const ptrdiff_t ih = ptrdiff_t(oh0) + ir - pt;
          if (ih < 0 || ih >= h) continue;
          const float* row = img + ih * w + ptrdiff_t(ow0) - pl;
#pragma GCC unroll 8
          for (int kx = 0; kx < KW; ++kx) {
            accumulate_row<T, KH, KW, 1>(acc, T::load_in(row + kx, lanes[kx]), wc, wstride, ir, kx);
          }
        }
      }
      store_tile<T>(p, acc, oh0, ow0, rr, lo, hi);
    }
  }
}

// Stride-2, undilated direct convolution straight from the unpadded input: output column j of tap kx reads
// input column 2 j + kx - pad_left, a vector of even elements; rows outside the image are skipped and
// columns outside it masked off at load time (masked-off elements are never read), so no copy is built.
template <class T, int KH, int KW, int R, int CO>
inline void f32_direct_conv_raw_s2(const DirectConvArgs* p) {
  using V = typename T::V;
  constexpr int W = T::W;
  const ptrdiff_t h = p->in_h, w = p->in_w, pt = p->pad_top, pl = p->pad_left;
  const size_t cin = p->cin, wstride = cin * KH * KW;
  const V lo = T::set1(p->min), hi = T::set1(p->max);
  for (size_t oh0 = 0; oh0 < p->out_h; oh0 += R) {
    const size_t rr = p->out_h - oh0 < size_t(R) ? p->out_h - oh0 : size_t(R);
    for (size_t ow0 = 0; ow0 < p->out_w; ow0 += W) {
      // Elements [e0, e1) of the 2W read from column start(kx) = 2 ow0 + kx - pl lie inside the image;
      // as lane ranges of the two W-lane halves, prepared once per column block.
      typename T::Range lo_half[KW], hi_half[KW];
      bool inside = true;
#pragma GCC unroll 8
      for (int kx = 0; kx < KW; ++kx) {
        const ptrdiff_t start = 2 * ptrdiff_t(ow0) + kx - pl;
        const ptrdiff_t e0 = start < 0 ? -start : 0, e1 = w - start < 2 * W ? w - start : 2 * W;
        lo_half[kx] = T::range(e0, e1);
        hi_half[kx] = T::range(e0 - W, e1 - W);
        inside = inside && e0 == 0 && e1 == 2 * W;
      }
      V acc[CO][R];
      init_tile<T>(p, acc);
      auto accumulate = [&](auto all_inside) {
        for (size_t ci = 0; ci < cin; ++ci) {
          const float* img = p->in + ci * p->plane_stride;
          const float* wc = p->w + ci * KH * KW;
#pragma GCC unroll 16
          for (int ir = 0; ir < (R - 1) * 2 + KH; ++ir) {
            const ptrdiff_t ih = ptrdiff_t(oh0) * 2 + ir - pt;
            if (ih < 0 || ih >= h) continue;
            const float* row = img + ih * w + 2 * ptrdiff_t(ow0) - pl;
#pragma GCC unroll 8
            for (int kx = 0; kx < KW; ++kx) {
              V v;
              if constexpr (decltype(all_inside)::value)
                v = T::load_even(row + kx);
              else
                v = T::even_of(T::load_in(row + kx, lo_half[kx]), T::load_in(row + kx + W, hi_half[kx]));
              accumulate_row<T, KH, KW, 2>(acc, v, wc, wstride, ir, kx);
            }
          }
        }
      };
      if (inside)
        accumulate(std::true_type{});
      else
        accumulate(std::false_type{});
      store_tile<T>(p, acc, oh0, ow0, rr, lo, hi);
    }
  }
}

}  // namespace netscore::kernels::impl

// raw = 0: read padded phase planes; raw = 1 / 3: read the unpadded input (stride 1 / stride 2, fixed kernel
// size only).
#define NS_DIRECT_CONV_CALL_0(kh, kw, sh, sw, rows, co) impl::f32_direct_conv<simd::Vec, kh, kw, sh, sw, rows, co>(p)
#define NS_DIRECT_CONV_CALL_1(kh, kw, sh, sw, rows, co) impl::f32_direct_conv_raw_s1<simd::Vec, kh, kw, rows, co>(p)
#define NS_DIRECT_CONV_CALL_3(kh, kw, sh, sw, rows, co) impl::f32_direct_conv_raw_s2<simd::Vec, kh, kw, rows, co>(p)
#define NS_F32_DWCONV_DEFINE(isa, variant, kh, kw, sh, sw, rows, raw)            \
  void ns_f32_dwconv_ukernel_##variant##__##isa(const DirectConvArgs* p) {       \
    NS_DIRECT_CONV_CALL_##raw(kh, kw, sh, sw, rows, 1);                           \
  }
#define NS_F32_GCONV_DEFINE(isa, variant, kh, kw, sh, sw, rows, co, raw)          \
  void ns_f32_gconv_ukernel_##variant##__##isa(const DirectConvArgs* p) {        \
    NS_DIRECT_CONV_CALL_##raw(kh, kw, sh, sw, rows, co);                          \
  }
