// Implicit im2col: packs a block of the (k x pixels) column matrix of one image and group straight from NCHW
// input into NR-column GEMM panels, with padding as zeros. Plain copy loops: each ISA's build vectorises them.
#pragma once
#include <algorithm>

#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

template <class T>
inline void f32_im2col(const Conv2dShape& s, const float* x, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr,
                       float* dst) {
  const size_t ow_n = s.out_w(), taps = s.kh * s.kw, hw = s.h * s.w;
  const bool pointwise = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
                         s.pad_left == 0 && s.pad_bottom == 0 && s.pad_right == 0;
  // Per k row: channel offset and tap offsets (computed once per call, not per panel).
  struct KRow { size_t chan; ptrdiff_t dy, dx; };
  KRow* rows = static_cast<KRow*>(scratch_bytes(kc * sizeof(KRow), 2));
  for (size_t kk = 0; kk < kc; ++kk) {
    const size_t kidx = k0 + kk, t = kidx % taps;
    rows[kk] = {kidx / taps * hw, ptrdiff_t((t / s.kw) * s.dil_h) - ptrdiff_t(s.pad_top),
                ptrdiff_t((t % s.kw) * s.dil_w) - ptrdiff_t(s.pad_left)};
  }
  const ptrdiff_t sw = ptrdiff_t(s.stride_w), h = ptrdiff_t(s.h), w = ptrdiff_t(s.w);
  // Panels are written one after another, each kc rows of nr contiguous floats.
  for (size_t j0 = 0; j0 < nc; j0 += nr, dst += kc * nr) {
    const size_t cols = std::min(nr, nc - j0);
    if (pointwise) {
      for (size_t kk = 0; kk < kc; ++kk) {
        const float* src = x + rows[kk].chan + n0 + j0;
        float* d = dst + kk * nr;
        for (size_t i = 0; i < cols; ++i) d[i] = src[i];
        for (size_t i = cols; i < nr; ++i) d[i] = 0.0f;
      }
      continue;
    }
    // Split the panel's columns into segments within one output row.
    struct Seg { size_t col, len, oh, ow; };
    Seg segs[80];
    size_t nseg = 0;
    for (size_t col = 0, pix = n0 + j0; col < cols && nseg < 80;) {
      const size_t oh = pix / ow_n, ow = pix % ow_n, len = std::min(ow_n - ow, cols - col);
      segs[nseg++] = {col, len, oh, ow};
      col += len;
      pix += len;
    }
    for (size_t kk = 0; kk < kc; ++kk) {
      const KRow r = rows[kk];
      float* d = dst + kk * nr;
      for (size_t sgi = 0; sgi < nseg; ++sgi) {
        const Seg& sg = segs[sgi];
        float* o = d + sg.col;
        const ptrdiff_t ih = ptrdiff_t(sg.oh * s.stride_h) + r.dy;
        if (ih < 0 || ih >= h) {
          for (size_t i = 0; i < sg.len; ++i) o[i] = 0.0f;
          continue;
        }
        const float* row = x + r.chan + size_t(ih) * s.w;
        const ptrdiff_t iw0 = ptrdiff_t(sg.ow) * sw + r.dx;
        // Columns i read iw0 + i*sw: zeros before the image, values inside, zeros after.
        ptrdiff_t lo = iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw;
        ptrdiff_t hi = w - iw0 <= 0 ? 0 : (w - iw0 + sw - 1) / sw;
        lo = std::min<ptrdiff_t>(lo, ptrdiff_t(sg.len));
        hi = std::clamp<ptrdiff_t>(hi, lo, ptrdiff_t(sg.len));
        for (ptrdiff_t i = 0; i < lo; ++i) o[i] = 0.0f;
        if (sw == 1) {
          const float* __restrict src = row + iw0;
          for (ptrdiff_t i = lo; i < hi; ++i) o[i] = src[i];
        } else if (sw == 2) {
          // Stride 2 (stems, downsampling): vectors of even elements while 2W floats stay inside the row, then
          // one masked vector that reads only the elements it keeps (rows of 7 or 14 outputs are all tail).
          const float* src = row + iw0;  // column i reads src[2 i]
          constexpr ptrdiff_t W = T::W;
          ptrdiff_t i = lo;
          for (; i + W <= hi && iw0 + 2 * (i + W) <= w; i += W) T::store(o + i, T::load_even(src + 2 * i));
          for (; i < hi; i += W) {
            const ptrdiff_t cnt = hi - i < W ? hi - i : W, last = 2 * cnt - 1;  // elements [0, last) are read
            T::store_n(o + i, T::even_of(T::load_range(src + 2 * i, 0, last), T::load_range(src + 2 * i + W, -W, last - W)),
                       cnt);
          }
        } else {
          for (ptrdiff_t i = lo; i < hi; ++i) o[i] = row[iw0 + i * sw];
        }
        for (ptrdiff_t i = hi; i < ptrdiff_t(sg.len); ++i) o[i] = 0.0f;
      }
      for (size_t i = cols; i < nr; ++i) d[i] = 0.0f;
    }
  }
}

}  // namespace netscore::kernels::impl

#define NS_F32_IM2COL_DEFINE(isa, ...)                                                                     \
  void ns_f32_im2col_ukernel__##isa(const Conv2dShape* s, const float* x, size_t k0, size_t kc, size_t n0,   \
                                    size_t nc, size_t nr, float* dst) {                                     \
    impl::f32_im2col<simd::Vec>(*s, x, k0, kc, n0, nc, nr, dst);                                           \
  }
