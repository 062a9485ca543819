// Max / average pooling over padded phase planes and global average pooling, over the vector traits `T`.
#pragma once
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
#define NS_F32_POOL_DEFINE(isa, variant, kind, kh, kw, sh, sw)                               \
  void ns_f32_pool_ukernel_##variant##__##isa(const PoolArgs* p) {                          \
    impl::f32_pool<simd::Vec, NS_POOL_KIND_IS_MAX_##kind, kh, kw, sh, sw>(p);                \
  }
#define NS_F32_GAVGPOOL_DEFINE(isa, ...)                                                     \
  void ns_f32_gavgpool_ukernel__##isa(size_t planes, size_t hw, const float* x, float* y) { \
    impl::f32_gavgpool<simd::Vec>(planes, hw, x, y);                                         \
  }
