// Vector traits for the AArch64 NEON tiers (4 floats). Included only by *-neon.cpp / *-neondot.cpp files.
#pragma once
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

namespace netscore::kernels::simd {
// Each tier's traits live in their own inline namespace, so templates instantiated over simd::Vec in
// different tiers' translation units get distinct symbols (no tier's code can stand in for another's).
// neon and neondot files share these traits but not their symbols: each tier gets its own namespace.
#if defined(NS_TIER_neondot)
#define NS_NEON_TIER neondot
#else
#define NS_NEON_TIER neon
#endif
inline namespace NS_NEON_TIER {

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
  // The lanes of r from p, the lanes of `fill` elsewhere; only the lanes of r are read.
  static V load_in_or(const float* p, Range r, V fill) {
    if (r.lo <= 0 && r.hi >= 4) return vld1q_f32(p);
    float t[4];
    vst1q_f32(t, fill);
    for (ptrdiff_t i = r.lo < 0 ? 0 : r.lo; i < r.hi && i < 4; ++i) t[i] = p[i];
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

#if defined(NS_TIER_neondot)
// qs8-gemm (neondot): one vdotq_s32 sums 4 k products for 4 columns at once; no widening needed.
template <int NR>
struct Qs8Gemm {
  static_assert(NR == 8, "two 16-byte groups cover 8 columns");
  struct Acc { int32x4_t lo, hi; };
  struct B { int8x16_t lo, hi; };
  static Acc zero() { return {vdupq_n_s32(0), vdupq_n_s32(0)}; }
  static B load_b(const int8_t* b) { return {vld1q_s8(b), vld1q_s8(b + 16)}; }
  static void madd(Acc& acc, const B& b, const int8_t* a) {
    int32_t a4;
    __builtin_memcpy(&a4, a, 4);
    const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(a4));
    acc.lo = vdotq_s32(acc.lo, b.lo, av);
    acc.hi = vdotq_s32(acc.hi, b.hi, av);
  }
  static void store(const Acc& acc, int32_t* cr, size_t nc, int accumulate) {
    int32_t t[8];
    vst1q_s32(t, acc.lo);
    vst1q_s32(t + 4, acc.hi);
    for (size_t n = 0; n < nc; ++n) cr[n] = (accumulate ? cr[n] : 0) + t[n];
  }
};
#else
// qs8-gemm (neon): int8 x int8 -> int16 with vmull_s8 (8 products: 2 columns x 4 k), pairwise-accumulated
// into int32 (vpadal).
template <int NR>
struct Qs8Gemm {
  static_assert(NR == 8, "four 8-byte halves cover 8 columns");
  struct Acc { int32x4_t h[4]; };
  struct B { int8x8_t h[4]; };
  static Acc zero() { return {{vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)}}; }
  static B load_b(const int8_t* b) {
    B bh;
    for (int h = 0; h < 4; ++h) bh.h[h] = vld1_s8(b + 8 * h);
    return bh;
  }
  static void madd(Acc& acc, const B& b, const int8_t* a) {
    int32_t a4;
    __builtin_memcpy(&a4, a, 4);
    const int8x8_t av = vreinterpret_s8_s32(vdup_n_s32(a4));
    for (int h = 0; h < 4; ++h) acc.h[h] = vpadalq_s16(acc.h[h], vmull_s8(b.h[h], av));
  }
  static void store(const Acc& acc, int32_t* cr, size_t nc, int accumulate) {
    int32_t t[8];
    vst1q_s32(t, vpaddq_s32(acc.h[0], acc.h[1]));
    vst1q_s32(t + 4, vpaddq_s32(acc.h[2], acc.h[3]));
    for (size_t n = 0; n < nc; ++n) cr[n] = (accumulate ? cr[n] : 0) + t[n];
  }
};
#endif

// qs8-dwconv: N int32 outputs, each the sum of one int16 pair (two taps) times a weight pair: the pairs are
// split into even and odd lanes by vld2q and multiplied-accumulated with smlal (int16 x int16 -> int32).
struct Qs8Dwconv {
  static constexpr size_t N = 8;
  struct Acc { int32x4_t lo, hi; };
  using W = int16x4_t;  // w.lo, w.hi, w.lo, w.hi
  static Acc zero() { return {vdupq_n_s32(0), vdupq_n_s32(0)}; }
  static W weights(int32_t pair) { return vreinterpret_s16_s32(vdup_n_s32(pair)); }
  // acc[j] += in[2j] * w.lo + in[2j + 1] * w.hi for j < N (2N int16 read)
  static Acc madd(Acc acc, const int16_t* in, W w) {
    const int16x8x2_t v = vld2q_s16(in);
    acc.lo = vmlal_lane_s16(acc.lo, vget_low_s16(v.val[0]), w, 0);
    acc.lo = vmlal_lane_s16(acc.lo, vget_low_s16(v.val[1]), w, 1);
    acc.hi = vmlal_high_lane_s16(acc.hi, v.val[0], w, 0);
    acc.hi = vmlal_high_lane_s16(acc.hi, v.val[1], w, 1);
    return acc;
  }
  static void store(int32_t* out, Acc a) {
    vst1q_s32(out, a.lo);
    vst1q_s32(out + 4, a.hi);
  }
  // d[r * ds + j] = s[r * ss + j] - zp for r < rows, j < n; a short tail is done by overlapping the last full
  // group (the same values written twice).
  static void widen(int16_t* d, size_t ds, const int8_t* s, size_t ss, size_t rows, size_t n, int16_t zp) {
    const int16x8_t z = vdupq_n_s16(zp);
    for (size_t r = 0; r < rows; ++r, d += ds, s += ss) {
      auto w8 = [&](size_t j) { vst1q_s16(d + j, vsubq_s16(vmovl_s8(vld1_s8(s + j)), z)); };
      if (n >= 8) {
        size_t j = 0;
        for (; j + 8 <= n; j += 8) w8(j);
        if (j < n) w8(n - 8);
      } else {
        for (size_t j = 0; j < n; ++j) d[j] = int16_t(s[j] - zp);
      }
    }
  }
  static void store_interleaved(int32_t* out, Acc even, Acc odd) {
    vst2q_s32(out, int32x4x2_t{{even.lo, odd.lo}});
    vst2q_s32(out + 8, int32x4x2_t{{even.hi, odd.hi}});
  }
};

}  // inline namespace NS_NEON_TIER
}  // namespace netscore::kernels::simd
