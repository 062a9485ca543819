// Vector traits for the AArch64 NEON tiers (4 floats). Included only by *-neon.cpp / *-neondot.cpp files.
#pragma once
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#define NS_KEEP_scalar(...)
#define NS_KEEP_avx2(...)
#define NS_KEEP_avx512(...)
#ifdef NS_NEONDOT_FILE
#define NS_KEEP_neon(...)
#define NS_KEEP_neondot(...) __VA_ARGS__
#else
#define NS_KEEP_neon(...) __VA_ARGS__
#define NS_KEEP_neondot(...)
#endif

namespace netscore::kernels::simd {
// Each tier's traits live in their own inline namespace, so templates instantiated over simd::Vec in
// different tiers' translation units get distinct symbols (no tier's code can stand in for another's).
inline namespace neon {

struct Vec {
  using V = float32x4_t;
  static constexpr int W = 4;
  static V zero() { return vdupq_n_f32(0.0f); }
  static V set1(float x) { return vdupq_n_f32(x); }
  static V load(const float* p) { return vld1q_f32(p); }
  // p[0], p[2], ..., p[2W - 2]: the even elements of 2W floats (a stride-2 row; all 2W are read).
  static V load_even(const float* p) { return vld2q_f32(p).val[0]; }
  // The even lanes of the 2W-lane concatenation a:b.
  static V even_of(V a, V b) { return vuzp1q_f32(a, b); }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static V load_n(const float* p, ptrdiff_t n) {
    if (n >= 4) return load(p);
    float t[4] = {0, 0, 0, 0};
    for (ptrdiff_t i = 0; i < n; ++i) t[i] = p[i];
    return vld1q_f32(t);
  }
  static void store_n(float* p, V v, ptrdiff_t n) {
    if (n >= 4) return store(p, v);
    float t[4];
    vst1q_f32(t, v);
    for (ptrdiff_t i = 0; i < n; ++i) p[i] = t[i];
  }
  // A lane range [lo, hi) prepared once and reused for many loads.
  struct Range { ptrdiff_t lo, hi; };
  static Range range(ptrdiff_t lo, ptrdiff_t hi) { return Range{lo, hi}; }
  static V load_in(const float* p, Range r) { return r.lo <= 0 && r.hi >= 4 ? vld1q_f32(p) : load_range(p, r.lo, r.hi); }
  // Lanes [lo, hi) from p, zeros elsewhere; only those lanes are read.
  static V load_range(const float* p, ptrdiff_t lo, ptrdiff_t hi) {
    float t[4] = {0, 0, 0, 0};
    for (ptrdiff_t i = lo < 0 ? 0 : lo; i < hi && i < 4; ++i) t[i] = p[i];
    return vld1q_f32(t);
  }
  static V fmadd(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V sub(V a, V b) { return vsubq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  static V div(V a, V b) { return vdivq_f32(a, b); }
  static V max(V a, V b) { return vmaxq_f32(a, b); }
  static V min(V a, V b) { return vminq_f32(a, b); }
  static V select_neg(V x, V if_neg, V otherwise) { return vbslq_f32(vcltzq_f32(x), if_neg, otherwise); }
  static V exp(V x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.0f)), vdupq_n_f32(88.0f));
    V n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    V r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    V p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(e));
  }
  static float reduce_add(V v) { return vaddvq_f32(v); }
};

}  // inline namespace neon
}  // namespace netscore::kernels::simd
