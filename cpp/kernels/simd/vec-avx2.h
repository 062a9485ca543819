// Vector traits for the AVX2 + FMA tier (8 floats). Included only by *-avx2.cpp files (built with -mavx2 -mfma).
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>


namespace netscore::kernels::simd {
// Each tier's traits live in their own inline namespace, so templates instantiated over simd::Vec in
// different tiers' translation units get distinct symbols (no tier's code can stand in for another's).
inline namespace avx2 {

struct Vec {
  using V = __m256;
  static constexpr int W = 8;
  static __m256i tail_mask(ptrdiff_t n) {
    n = n < 0 ? 0 : (n > 8 ? 8 : n);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  // p[0], p[2], ..., p[2W - 2]: the even elements of 2W floats (a stride-2 row; all 2W are read).
  static V load_even(const float* p) { return even_of(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)); }
  // The even lanes of the 2W-lane concatenation a:b.
  static V even_of(V a, V b) {
    const __m256 evens = _mm256_shuffle_ps(a, b, 0x88);  // a0 a2 b0 b2 | a4 a6 b4 b6
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens), 0xD8));
  }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V load_n(const float* p, ptrdiff_t n) { return n >= 8 ? load(p) : _mm256_maskload_ps(p, tail_mask(n)); }
  static void store_n(float* p, V v, ptrdiff_t n) {
    if (n >= 8) store(p, v);
    else _mm256_maskstore_ps(p, tail_mask(n), v);
  }
  // A lane range [lo, hi) prepared once and reused for many loads.
  using Range = __m256i;
  static Range range(ptrdiff_t lo, ptrdiff_t hi) { return _mm256_andnot_si256(tail_mask(lo), tail_mask(hi)); }
  static V load_in(const float* p, Range r) { return _mm256_maskload_ps(p, r); }
  // Lanes [lo, hi) from p, zeros elsewhere; masked-off lanes are never read (no fault past the buffer).
  static V load_range(const float* p, ptrdiff_t lo, ptrdiff_t hi) {
    return _mm256_maskload_ps(p, _mm256_andnot_si256(tail_mask(lo), tail_mask(hi)));
  }
  // The lanes of r from p, the lanes of `fill` elsewhere; lanes outside r are never read.
  static V load_in_or(const float* p, Range r, V fill) {
    return _mm256_blendv_ps(fill, _mm256_maskload_ps(p, r), _mm256_castsi256_ps(r));
  }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V select_neg(V x, V if_neg, V otherwise) { return _mm256_blendv_ps(otherwise, if_neg, x); }
  // exp(x): x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial for e^r, 2^n built in the exponent bits.
  static V exp(V x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    V n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    V p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
  static float reduce_add(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

// qs8-gemm: each k group of 4 int8 is widened to int16 and multiplied with vpmaddwd (pairs of k summed into
// int32); the pair sums are folded with one horizontal add per row at the end.
template <int NR>
struct Qs8Gemm {
  static_assert(NR == 8, "one ymm pair covers 8 columns");
  struct Acc { __m256i lo, hi; };
  struct B { __m256i lo, hi; };
  static Acc zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  static B load_b(const int8_t* b) {
    const __m256i braw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    return {_mm256_cvtepi8_epi16(_mm256_castsi256_si128(braw)),        // columns 0..3
            _mm256_cvtepi8_epi16(_mm256_extracti128_si256(braw, 1))};  // columns 4..7
  }
  static void madd(Acc& acc, const B& b, const int8_t* a) {
    int32_t a4;
    __builtin_memcpy(&a4, a, 4);
    const __m256i av = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(a4)));
    acc.lo = _mm256_add_epi32(acc.lo, _mm256_madd_epi16(b.lo, av));
    acc.hi = _mm256_add_epi32(acc.hi, _mm256_madd_epi16(b.hi, av));
  }
  static void store(const Acc& acc, int32_t* cr, size_t nc, int accumulate) {
    __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc.lo, acc.hi), 0xD8);
    if (nc == 8) {
      if (accumulate) s = _mm256_add_epi32(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cr)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(cr), s);
    } else {
      alignas(32) int32_t t[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(t), s);
      for (size_t n = 0; n < nc; ++n) cr[n] = (accumulate ? cr[n] : 0) + t[n];
    }
  }
};

// qs8-dwconv: N int32 outputs, each the sum of one int16 pair (two taps) times a broadcast weight pair
// (vpmaddwd); store_interleaved puts two accumulators' lanes side by side (even and odd outputs).
struct Qs8Dwconv {
  static constexpr size_t N = 8;
  using Acc = __m256i;
  using W = __m256i;
  static Acc zero() { return _mm256_setzero_si256(); }
  static W weights(int32_t pair) { return _mm256_set1_epi32(pair); }
  // acc[j] += in[2j] * w.lo + in[2j + 1] * w.hi for j < N (2N int16 read)
  static Acc madd(Acc acc, const int16_t* in, W w) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)), w));
  }
  static void store(int32_t* out, Acc a) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), a); }
  // d[r * ds + j] = s[r * ss + j] - zp for r < rows, j < n; a short tail is done by overlapping the last full
  // group (the same values written twice).
  static void widen(int16_t* d, size_t ds, const int8_t* s, size_t ss, size_t rows, size_t n, int16_t zp) {
    const __m256i z = _mm256_set1_epi16(zp);
    for (size_t r = 0; r < rows; ++r, d += ds, s += ss) {
      auto w16 = [&](size_t j) {
        const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + j)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + j), _mm256_sub_epi16(v, z));
      };
      auto w8 = [&](size_t j) {
        const __m128i v = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + j)));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + j), _mm_sub_epi16(v, _mm256_castsi256_si128(z)));
      };
      if (n >= 16) {
        size_t j = 0;
        for (; j + 16 <= n; j += 16) w16(j);
        if (j < n) w16(n - 16);
      } else if (n >= 8) {
        w8(0);
        w8(n - 8);
      } else {
        for (size_t j = 0; j < n; ++j) d[j] = int16_t(s[j] - zp);
      }
    }
  }
  static void store_interleaved(int32_t* out, Acc even, Acc odd) {
    const __m256i lo = _mm256_unpacklo_epi32(even, odd), hi = _mm256_unpackhi_epi32(even, odd);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
  }
};

}  // inline namespace avx2
}  // namespace netscore::kernels::simd
