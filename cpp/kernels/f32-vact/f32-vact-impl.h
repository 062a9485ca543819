// Activations over vectors (bias added first), written once over the vector traits `T`.
// sigmoid and silu use the traits' exp; gelu uses erf from Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7).
#pragma once
#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

template <class T>
struct ActOps {
  using V = typename T::V;
  static V sigmoid(V x) { return T::div(T::set1(1.0f), T::add(T::set1(1.0f), T::exp(T::sub(T::zero(), x)))); }
  static V gelu(V x) {
    const V ax = T::max(x, T::sub(T::zero(), x));
    const V z = T::mul(ax, T::set1(0.70710678118654752f));
    const V t = T::div(T::set1(1.0f), T::fmadd(z, T::set1(0.3275911f), T::set1(1.0f)));
    V poly = T::set1(1.061405429f);
    poly = T::fmadd(poly, t, T::set1(-1.453152027f));
    poly = T::fmadd(poly, t, T::set1(1.421413741f));
    poly = T::fmadd(poly, t, T::set1(-0.284496736f));
    poly = T::fmadd(poly, t, T::set1(0.254829592f));
    poly = T::mul(poly, t);
    const V q = T::mul(poly, T::exp(T::sub(T::zero(), T::mul(z, z))));  // 1 - erf(z)
    const V one_plus_erf = T::select_neg(x, q, T::sub(T::set1(2.0f), q));
    return T::mul(T::mul(T::set1(0.5f), x), one_plus_erf);
  }
};

template <class T, int KIND>
inline void f32_vact_loop(size_t n, const float* x, float* y, float bias, const Activation* act) {
  using V = typename T::V;
  using A = ActOps<T>;
  constexpr int W = T::W;
  const V b = T::set1(bias), zero = T::zero();
  const V lo = T::set1(KIND == Activation::clip ? act->min : 0.0f);
  const V hi = T::set1(KIND == Activation::clip ? act->max : 6.0f);
  for (size_t i = 0; i < n; i += W) {
    const ptrdiff_t rest = ptrdiff_t(n) - ptrdiff_t(i);
    V v = T::add(T::load_n(x + i, rest), b);
    if constexpr (KIND == Activation::relu) v = T::max(v, zero);
    if constexpr (KIND == Activation::relu6 || KIND == Activation::clip) v = T::min(T::max(v, lo), hi);
    if constexpr (KIND == Activation::sigmoid) v = A::sigmoid(v);
    if constexpr (KIND == Activation::silu) v = T::mul(v, A::sigmoid(v));
    if constexpr (KIND == Activation::hardswish)
      v = T::mul(v, T::min(T::max(T::fmadd(v, T::set1(1.0f / 6.0f), T::set1(0.5f)), zero), T::set1(1.0f)));
    if constexpr (KIND == Activation::gelu) v = A::gelu(v);
    T::store_n(y + i, v, rest);
  }
}

template <class T>
inline void f32_vact(size_t n, const float* x, float* y, float bias, const Activation* act) {
  switch (act->kind) {
    case Activation::none: return f32_vact_loop<T, Activation::none>(n, x, y, bias, act);
    case Activation::relu: return f32_vact_loop<T, Activation::relu>(n, x, y, bias, act);
    case Activation::relu6: return f32_vact_loop<T, Activation::relu6>(n, x, y, bias, act);
    case Activation::clip: return f32_vact_loop<T, Activation::clip>(n, x, y, bias, act);
    case Activation::sigmoid: return f32_vact_loop<T, Activation::sigmoid>(n, x, y, bias, act);
    case Activation::hardswish: return f32_vact_loop<T, Activation::hardswish>(n, x, y, bias, act);
    case Activation::silu: return f32_vact_loop<T, Activation::silu>(n, x, y, bias, act);
    case Activation::gelu: return f32_vact_loop<T, Activation::gelu>(n, x, y, bias, act);
  }
}

}  // namespace netscore::kernels::impl

#define NS_F32_VACT_DEFINE(isa, ...)                                                                \
  void ns_f32_vact_ukernel__##isa(size_t n, const float* x, float* y, float bias, const Activation* act) { \
    impl::f32_vact<simd::Vec>(n, x, y, bias, act);                                                  \
  }
