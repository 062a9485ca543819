// Vector traits for the portable scalar tier: one float per "vector". Included only by *-scalar.cpp files.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>


namespace netscore::kernels::simd {
// Each tier's traits live in their own inline namespace, so templates instantiated over simd::Vec in
// different tiers' translation units get distinct symbols (no tier's code can stand in for another's).
inline namespace scalar {

struct Vec {
  using V = float;
  static constexpr int W = 1;
  static V zero() { return 0.0f; }
  static V set1(float x) { return x; }
  static V load(const float* p) { return *p; }
  // p[0], p[2], ..., p[2W - 2]: the even elements of 2W floats (a stride-2 row).
  static V load_even(const float* p) { return *p; }
  static V even_of(V a, V b) { return a; }  // the even lanes of a:b (W = 1: a)
  static void store(float* p, V v) { *p = v; }
  static V load_n(const float* p, ptrdiff_t n) { return n > 0 ? *p : 0.0f; }
  static void store_n(float* p, V v, ptrdiff_t n) {
    if (n > 0) *p = v;
  }
  static V load_range(const float* p, ptrdiff_t lo, ptrdiff_t hi) { return lo <= 0 && hi > 0 ? *p : 0.0f; }
  using Range = bool;  // a prepared lane range: is the one lane inside?
  static Range range(ptrdiff_t lo, ptrdiff_t hi) { return lo <= 0 && hi > 0; }
  static V load_in(const float* p, Range r) { return r ? *p : 0.0f; }
  static V load_in_or(const float* p, Range r, V fill) { return r ? *p : fill; }
  static V fmadd(V a, V b, V c) { return a * b + c; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V max(V a, V b) { return a > b ? a : b; }
  static V min(V a, V b) { return a < b ? a : b; }
  static V exp(V x) { return std::exp(x); }
  static V select_neg(V x, V if_neg, V otherwise) { return x < 0.0f ? if_neg : otherwise; }
  static float reduce_add(V v) { return v; }
};

// qs8-gemm: int32 accumulators of one row of an NR-column tile; k in groups of 4 int8.
template <int NR>
struct Qs8Gemm {
  struct Acc { int32_t v[NR]; };
  using B = const int8_t*;
  static Acc zero() { return Acc{}; }
  static B load_b(const int8_t* b) { return b; }
  static void madd(Acc& acc, B b, const int8_t* a) {
    for (int n = 0; n < NR; ++n)
      for (int q = 0; q < 4; ++q) acc.v[n] += int32_t(a[q]) * int32_t(b[n * 4 + q]);
  }
  static void store(const Acc& acc, int32_t* cr, size_t nc, int accumulate) {
    for (size_t n = 0; n < nc; ++n) cr[n] = (accumulate ? cr[n] : 0) + acc.v[n];
  }
};

// qs8-dwconv: N int32 outputs, each the sum of one int16 pair (two taps) times a weight pair; plain loops
// over a few outputs, which the compiler may vectorise for the build's baseline ISA.
struct Qs8Dwconv {
  static constexpr size_t N = 8;
  struct Acc { int32_t v[N]; };
  struct W { int32_t lo, hi; };
  static Acc zero() { return Acc{}; }
  static W weights(int32_t pair) { return W{int16_t(uint32_t(pair) & 0xFFFFu), int16_t(uint32_t(pair) >> 16)}; }
  // acc[j] += in[2j] * w.lo + in[2j + 1] * w.hi for j < N
  static Acc madd(Acc acc, const int16_t* in, W w) {
    for (size_t j = 0; j < N; ++j) acc.v[j] += int32_t(in[2 * j]) * w.lo + int32_t(in[2 * j + 1]) * w.hi;
    return acc;
  }
  static void store(int32_t* out, const Acc& a) {
    for (size_t j = 0; j < N; ++j) out[j] = a.v[j];
  }
  static void store_interleaved(int32_t* out, const Acc& even, const Acc& odd) {
    for (size_t j = 0; j < N; ++j) {
      out[2 * j] = even.v[j];
      out[2 * j + 1] = odd.v[j];
    }
  }
  // d[r * ds + j] = s[r * ss + j] - zp for r < rows, j < n
  static void widen(int16_t* d, size_t ds, const int8_t* s, size_t ss, size_t rows, size_t n, int16_t zp) {
    for (size_t r = 0; r < rows; ++r, d += ds, s += ss)
      for (size_t j = 0; j < n; ++j) d[j] = int16_t(s[j] - zp);
  }
};

}  // inline namespace scalar
}  // namespace netscore::kernels::simd
