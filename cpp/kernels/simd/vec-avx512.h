// Vector traits for the AVX-512 tier (16 floats). Included only by *-avx512.cpp files (built with -mavx512f ...).
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define NS_KEEP_scalar(...)
#define NS_KEEP_avx2(...)
#define NS_KEEP_avx512(...) __VA_ARGS__
#define NS_KEEP_neon(...)
#define NS_KEEP_neondot(...)

namespace netscore::kernels::simd {
// Each tier's traits live in their own inline namespace, so templates instantiated over simd::Vec in
// different tiers' translation units get distinct symbols (no tier's code can stand in for another's).
inline namespace avx512 {

struct Vec {
  using V = __m512;
  static constexpr int W = 16;
  static __mmask16 tail_mask(ptrdiff_t n) {
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : (n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1u));
  }
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  // p[0], p[2], ..., p[2W - 2]: the even elements of 2W floats (a stride-2 row; all 2W are read).
  static V load_even(const float* p) { return even_of(_mm512_loadu_ps(p), _mm512_loadu_ps(p + 16)); }
  // The even lanes of the 2W-lane concatenation a:b.
  static V even_of(V a, V b) {
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, idx, b);
  }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V load_n(const float* p, ptrdiff_t n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
  static void store_n(float* p, V v, ptrdiff_t n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
  // A lane range [lo, hi) prepared once and reused for many loads.
  using Range = __mmask16;
  static Range range(ptrdiff_t lo, ptrdiff_t hi) { return static_cast<__mmask16>(tail_mask(hi) & ~tail_mask(lo)); }
  static V load_in(const float* p, Range r) { return _mm512_maskz_loadu_ps(r, p); }
  // Lanes [lo, hi) from p, zeros elsewhere; masked-off lanes are never read (no fault past the buffer).
  static V load_range(const float* p, ptrdiff_t lo, ptrdiff_t hi) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>(tail_mask(hi) & ~tail_mask(lo)), p);
  }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V select_neg(V x, V if_neg, V otherwise) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), otherwise, if_neg);
  }
  // exp(x): x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial for e^r, then scalef by 2^n.
  static V exp(V x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    V n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    V p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
  }
  static float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
};

}  // inline namespace avx512
}  // namespace netscore::kernels::simd
