// Elementwise add / multiply over contiguous runs, written once over the vector traits `T`.
#pragma once
#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

template <class T, bool MUL, bool SCALAR_B>
inline void f32_vbinary(size_t n, const float* a, const float* b, float* y) {
  using V = typename T::V;
  constexpr int W = T::W;
  const V bs = T::set1(*b);
  auto op = [](V x, V z) { return MUL ? T::mul(x, z) : T::add(x, z); };
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u)
      T::store(y + i + u * W, op(T::load(a + i + u * W), SCALAR_B ? bs : T::load(b + i + u * W)));
  }
  for (; i < n; i += W) {
    const ptrdiff_t rest = ptrdiff_t(n) - ptrdiff_t(i);
    T::store_n(y + i, op(T::load_n(a + i, rest), SCALAR_B ? bs : T::load_n(b + i, rest)), rest);
  }
}

}  // namespace netscore::kernels::impl

#define NS_BINARY_IS_MUL_add false
#define NS_BINARY_IS_MUL_mul true
#define NS_F32_VBINARY_DEFINE(isa, variant, op, scalar_b)                                         \
  void ns_f32_vbinary_ukernel_##variant##__##isa(size_t n, const float* a, const float* b, float* y) { \
    impl::f32_vbinary<simd::Vec, NS_BINARY_IS_MUL_##op, scalar_b>(n, a, b, y);                     \
  }
