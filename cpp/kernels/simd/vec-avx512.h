// Vector traits for the AVX-512 tier (16 floats). Included only by *-avx512.cpp files (built with -mavx512f ...).
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>


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
  // The lanes of r from p, the lanes of `fill` elsewhere; lanes outside r are never read.
  static V load_in_or(const float* p, Range r, V fill) { return _mm512_mask_loadu_ps(fill, r, p); }
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

// qs8-gemm: as on avx2 (int16 widening + vpmaddwd) with 16 columns per tile; pair sums folded with a
// 64->32 narrowing.
template <int NR>
struct Qs8Gemm {
  static_assert(NR == 16, "one zmm pair covers 16 columns");
  struct Acc { __m512i lo, hi; };
  struct B { __m512i lo, hi; };
  static Acc zero() { return {_mm512_setzero_si512(), _mm512_setzero_si512()}; }
  static B load_b(const int8_t* b) {
    const __m512i braw = _mm512_loadu_si512(b);
    return {_mm512_cvtepi8_epi16(_mm512_castsi512_si256(braw)),         // columns 0..7
            _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(braw, 1))};  // columns 8..15
  }
  static void madd(Acc& acc, const B& b, const int8_t* a) {
    int32_t a4;
    __builtin_memcpy(&a4, a, 4);
    const __m128i a16 = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(a4));
    const __m512i av = _mm512_set1_epi64(_mm_cvtsi128_si64(a16));
    acc.lo = _mm512_add_epi32(acc.lo, _mm512_madd_epi16(b.lo, av));
    acc.hi = _mm512_add_epi32(acc.hi, _mm512_madd_epi16(b.hi, av));
  }
  static void store(const Acc& acc, int32_t* cr, size_t nc, int accumulate) {
    const __m256i s0 = _mm512_cvtepi64_epi32(_mm512_add_epi32(acc.lo, _mm512_srli_epi64(acc.lo, 32)));
    const __m256i s1 = _mm512_cvtepi64_epi32(_mm512_add_epi32(acc.hi, _mm512_srli_epi64(acc.hi, 32)));
    __m512i s = _mm512_inserti64x4(_mm512_castsi256_si512(s0), s1, 1);
    const __mmask16 m = nc >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nc) - 1u);
    if (accumulate) s = _mm512_add_epi32(s, _mm512_maskz_loadu_epi32(m, cr));
    _mm512_mask_storeu_epi32(cr, m, s);
  }
};

// qs8-dwconv: N int32 outputs, each the sum of one int16 pair (two taps) times a broadcast weight pair
// (vpmaddwd); store_interleaved puts two accumulators' lanes side by side (even and odd outputs).
struct Qs8Dwconv {
  static constexpr size_t N = 16;
  using Acc = __m512i;
  using W = __m512i;
  static Acc zero() { return _mm512_setzero_si512(); }
  static W weights(int32_t pair) { return _mm512_set1_epi32(pair); }
  // acc[j] += in[2j] * w.lo + in[2j + 1] * w.hi for j < N (2N int16 read)
  static Acc madd(Acc acc, const int16_t* in, W w) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_loadu_si512(in), w));
  }
  static void store(int32_t* out, Acc a) { _mm512_storeu_si512(out, a); }
  // d[r * ds + j] = s[r * ss + j] - zp for r < rows, j < n
  static void widen(int16_t* d, size_t ds, const int8_t* s, size_t ss, size_t rows, size_t n, int16_t zp) {
    const __m512i z = _mm512_set1_epi16(zp);
    if (n <= 32) {  // one masked vector per row, the mask made once
      const __mmask32 m = n == 32 ? ~__mmask32(0) : __mmask32((1u << n) - 1u);
      for (size_t r = 0; r < rows; ++r, d += ds, s += ss)
        _mm512_mask_storeu_epi16(d, m, _mm512_sub_epi16(_mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, s)), z));
      return;
    }
    for (size_t r = 0; r < rows; ++r, d += ds, s += ss)
      for (size_t j = 0; j < n; j += 32) {
        const __mmask32 m = n - j >= 32 ? ~__mmask32(0) : __mmask32((1u << (n - j)) - 1u);
        const __m512i v = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, s + j));
        _mm512_mask_storeu_epi16(d + j, m, _mm512_sub_epi16(v, z));
      }
  }
  static void store_interleaved(int32_t* out, Acc even, Acc odd) {
    const __m512i lo = _mm512_unpacklo_epi32(even, odd), hi = _mm512_unpackhi_epi32(even, odd);
    _mm512_storeu_si512(out, _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), hi));
    _mm512_storeu_si512(out + 16, _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), hi));
  }
};

}  // inline namespace avx512
}  // namespace netscore::kernels::simd
