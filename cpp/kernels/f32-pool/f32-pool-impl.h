// Max / average pooling over padded phase planes, the direct 3x3 stride-2 max and stride-1 max / average
// pools, and global average pooling, over the vector traits `T`.
#pragma once
#include <algorithm>

#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

template <class T, bool MAX, int KH, int KW, int SH, int SW>
inline void f32_pool(const PoolArgs* p) {
  using V = typename T::V;
  constexpr int W = T::W;
  const auto [kh, kw, sh, sw, dh, dw] = tap_window<T, KH, KW, SH, SW>(p);
  const size_t rs = p->row_stride, ps = p->phase_stride;
  for (size_t oh = 0; oh < p->out_h; ++oh) {
    for (size_t ow0 = 0; ow0 < p->out_w; ow0 += W) {
      V acc = MAX ? T::set1(-__builtin_inff()) : T::zero();
      const float* row0 = p->in + oh * sh * rs + ow0;
      for (size_t ky = 0; ky < kh; ++ky) {
        const float* row = row0 + ky * dh * rs;
        for (size_t kx = 0; kx < kw; ++kx) {
          const size_t off = kx * dw;
          const V v = T::load(row + (off % sw) * ps + off / sw);
          acc = MAX ? T::max(acc, v) : T::add(acc, v);
        }
      }
      if (!MAX) acc = T::mul(T::mul(acc, T::load(p->inv_w + ow0)), T::set1(p->inv_h[oh]));
      T::store_n(p->out + oh * p->out_w + ow0, acc, ptrdiff_t(p->out_w) - ptrdiff_t(ow0));
    }
  }
}

// Column geometry of one output vector of the direct 3x3 stride-2 max pool: its first input column c (outputs
// j < W take columns c + 2j .. c + 2j + 2) and, where those columns cross the row's borders, the lanes each of
// its six loads may read (the rest is -inf padding, never read).
template <class T>
struct MaxPool3x3s2Cols {
  ptrdiff_t c;
  bool inside;
  typename T::Range r[6];  // loads at c, c + W, c + 1, c + 1 + W, c + 2, c + 2 + W
};

// One input row's horizontal 3-max at stride 2 for one output vector: max(row[c + 2j], row[c + 2j + 1],
// row[c + 2j + 2]) for j < W.
template <class T>
inline typename T::V hmax3s2(const float* row, const MaxPool3x3s2Cols<T>& g, typename T::V ninf) {
  constexpr int W = T::W;
  const float* x = row + g.c;
  if (g.inside) return T::max(T::load_even(x), T::max(T::load_even(x + 1), T::load_even(x + 2)));
  auto even_at = [&](int k) {  // the even lanes of the 2W columns from x + k
    return T::even_of(T::load_in_or(x + k, g.r[2 * k], ninf), T::load_in_or(x + k + W, g.r[2 * k + 1], ninf));
  };
  return T::max(even_at(0), T::max(even_at(1), even_at(2)));
}

// 3x3 stride-2 undilated max pooling read straight from the unpadded plane (list lines with raw = 1): each
// input row is loaded once for its horizontal 3-max (even, odd and next-even columns), and the result of an
// output row's last input row is kept as the first of the next output row's (rows 2oh - pt .. 2oh - pt + 2).
template <class T>
inline void f32_maxpool3x3s2_raw(const PoolArgs* p) {
  using V = typename T::V;
  constexpr int W = T::W;
  constexpr size_t kChunk = 256;  // output columns per pass (a multiple of every W): the kept row fits in L1
  float keep[kChunk];
  MaxPool3x3s2Cols<T> cols[kChunk / W];
  const ptrdiff_t in_h = ptrdiff_t(p->in_h), in_w = ptrdiff_t(p->in_w);
  const ptrdiff_t pt = ptrdiff_t(p->pad_top), pl = ptrdiff_t(p->pad_left);
  const size_t rs = p->row_stride, out_w = p->out_w;
  const V ninf = T::set1(-__builtin_inff());
  for (size_t j0 = 0; j0 < out_w; j0 += kChunk) {
    const size_t jn = std::min(kChunk, out_w - j0), nv = (jn + W - 1) / W;
    for (size_t v = 0; v < nv; ++v) {
      MaxPool3x3s2Cols<T>& g = cols[v];
      g.c = 2 * ptrdiff_t(j0 + v * W) - pl;
      g.inside = g.c >= 0 && g.c + 2 * W + 2 <= in_w;
      for (int k = 0; k < 6; ++k) {
        const ptrdiff_t q = g.c + k / 2 + (k % 2) * W;
        g.r[k] = T::range(-q, in_w - q);
      }
    }
    auto hrow = [&](ptrdiff_t r, size_t v) { return r >= 0 && r < in_h ? hmax3s2<T>(p->in + r * rs, cols[v], ninf) : ninf; };
    for (size_t v = 0; v < nv; ++v) T::store(keep + v * W, hrow(-pt, v));
    for (size_t oh = 0; oh < p->out_h; ++oh) {
      const ptrdiff_t r = 2 * ptrdiff_t(oh) - pt;
      float* out = p->out + oh * out_w + j0;
      for (size_t v = 0; v < nv; ++v) {
        const V last = hrow(r + 2, v);
        const V m = T::max(T::load(keep + v * W), T::max(hrow(r + 1, v), last));
        T::store(keep + v * W, last);
        T::store_n(out + v * W, m, ptrdiff_t(jn) - ptrdiff_t(v * W));
      }
    }
  }
}

// 3x3 stride-1 undilated max / average pooling read straight from the unpadded plane (list lines with
// raw = 1; pads of at most 1 at the top/left): rows outside the plane are skipped, columns outside it are
// masked off (-inf for max, 0 for average), so no padded copy of the plane is built. The three rows'
// horizontal sums are independent, which keeps the add chain short. Average scales by inv_w and inv_h.
template <class T, bool MAX>
inline void f32_pool3x3s1_raw(const PoolArgs* p) {
  using V = typename T::V;
  constexpr int W = T::W;
  const ptrdiff_t in_h = ptrdiff_t(p->in_h), in_w = ptrdiff_t(p->in_w);
  const ptrdiff_t pt = ptrdiff_t(p->pad_top), pl = ptrdiff_t(p->pad_left);
  const size_t rs = p->row_stride, out_w = p->out_w;
  const V fill = MAX ? T::set1(-__builtin_inff()) : T::zero();
  for (size_t j = 0; j < out_w; j += W) {  // column blocks outer: their masks are computed once
    const ptrdiff_t c = ptrdiff_t(j) - pl;  // input column of lane 0's first tap
    const bool inside = c >= 0 && c + W + 2 <= in_w;
    const typename T::Range m0 = T::range(-c, in_w - c), m1 = T::range(-c - 1, in_w - c - 1),
                            m2 = T::range(-c - 2, in_w - c - 2);
    const V scale_w = MAX ? fill : T::load(p->inv_w + j);
    auto hrow = [&](ptrdiff_t r) {  // the row's horizontal 3-sum (3-max) for this column block
      const float* x = p->in + r * ptrdiff_t(rs) + c;
      if (inside) {
        const V a = T::load(x), b = T::load(x + 1), d = T::load(x + 2);
        return MAX ? T::max(a, T::max(b, d)) : T::add(T::add(a, b), d);
      }
      const V a = T::load_in_or(x, m0, fill), b = T::load_in_or(x + 1, m1, fill), d = T::load_in_or(x + 2, m2, fill);
      return MAX ? T::max(a, T::max(b, d)) : T::add(T::add(a, b), d);
    };
    for (size_t oh = 0; oh < p->out_h; ++oh) {
      const ptrdiff_t r0 = ptrdiff_t(oh) - pt;
      V acc;
      if (r0 >= 0 && r0 + 3 <= in_h) {
        const V h0 = hrow(r0), h1 = hrow(r0 + 1), h2 = hrow(r0 + 2);
        acc = MAX ? T::max(h0, T::max(h1, h2)) : T::add(T::add(h0, h1), h2);
      } else {
        acc = fill;
        for (ptrdiff_t r = std::max<ptrdiff_t>(r0, 0); r < std::min<ptrdiff_t>(r0 + 3, in_h); ++r)
          acc = MAX ? T::max(acc, hrow(r)) : T::add(acc, hrow(r));
      }
      if (!MAX) acc = T::mul(T::mul(acc, scale_w), T::set1(p->inv_h[oh]));
      T::store_n(p->out + oh * out_w + j, acc, ptrdiff_t(out_w) - ptrdiff_t(j));
    }
  }
}

// The entry of a list line: the direct kernels for raw = 1, else the phase-plane kernel.
template <class T, bool MAX, int KH, int KW, int SH, int SW, int RAW>
inline void f32_pool_entry(const PoolArgs* p) {
  static_assert(!RAW || (KH == 3 && KW == 3 && ((SH == 2 && SW == 2 && MAX) || (SH == 1 && SW == 1))),
                "raw pool kernels: 3x3 stride-2 max, 3x3 stride-1 max and average");
  if constexpr (RAW && SH == 2)
    f32_maxpool3x3s2_raw<T>(p);
  else if constexpr (RAW)
    f32_pool3x3s1_raw<T, MAX>(p);
  else
    f32_pool<T, MAX, KH, KW, SH, SW>(p);
}

template <class T>
inline void f32_gavgpool(size_t planes, size_t hw, const float* x, float* y) {
  using V = typename T::V;
  constexpr int W = T::W;
  const float scale = 1.0f / static_cast<float>(hw);
  for (size_t i = 0; i < planes; ++i, x += hw) {
    V a0 = T::zero(), a1 = T::zero();
    size_t j = 0;
    for (; j + 2 * W <= hw; j += 2 * W) {
      a0 = T::add(a0, T::load(x + j));
      a1 = T::add(a1, T::load(x + j + W));
    }
    for (; j < hw; j += W) a0 = T::add(a0, T::load_n(x + j, ptrdiff_t(hw) - ptrdiff_t(j)));
    y[i] = T::reduce_add(T::add(a0, a1)) * scale;
  }
}

}  // namespace netscore::kernels::impl

#define NS_POOL_KIND_IS_MAX_max true
#define NS_POOL_KIND_IS_MAX_average false
#define NS_F32_POOL_DEFINE(isa, variant, kind, kh, kw, sh, sw, raw)                          \
  void ns_f32_pool_ukernel_##variant##__##isa(const PoolArgs* p) {                          \
    impl::f32_pool_entry<simd::Vec, NS_POOL_KIND_IS_MAX_##kind, kh, kw, sh, sw, raw>(p);    \
  }
#define NS_F32_GAVGPOOL_DEFINE(isa, ...)                                                     \
  void ns_f32_gavgpool_ukernel__##isa(size_t planes, size_t hw, const float* x, float* y) { \
    impl::f32_gavgpool<simd::Vec>(planes, hw, x, y);                                         \
  }
