// Register-blocked GEMM tile written once over the vector traits `T`; each *-<isa>.cpp instantiates it.
#pragma once
#include "kernels/ukernels.h"

namespace netscore::kernels::impl {

// B's row k is brow(k): a packed panel or, for the indirect GEMM, rows found through an offset table.
template <class T, int MR, int NR, class BRow>
inline void f32_gemm_tile_rows(size_t mr, size_t nc, size_t kc, const float* a, BRow brow, float* c, size_t ldc,
                               int flags, const GemmEpilogue* ep) {
  using V = typename T::V;
  constexpr int W = T::W;
  constexpr int NV = NR / W;
  static_assert(NV * W == NR, "NR must be a multiple of the vector width");
  V acc[MR][NV];
  const bool full = mr == MR && nc == NR;
  if (flags & kGemmAccumulate) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        acc[r][v] = full ? T::load(c + r * ldc + v * W)
                         : (static_cast<size_t>(r) < mr ? T::load_n(c + r * ldc + v * W, ptrdiff_t(nc) - v * W)
                                                        : T::zero());
  } else if (ep->bias && !ep->bias_per_col) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      V bv = T::set1(static_cast<size_t>(r) < mr ? ep->bias[r] : 0.0f);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = bv;
    }
  } else if (ep->bias) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      V bv = T::load_n(ep->bias + v * W, ptrdiff_t(nc) - v * W);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) acc[r][v] = bv;
    }
  } else {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = T::zero();
  }
  for (size_t k = 0; k < kc; ++k) {
    V bv[NV];
    const float* bk = brow(k);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = T::load(bk + v * W);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const V av = T::set1(a[r]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = T::fmadd(av, bv[v], acc[r][v]);
    }
    a += MR;
  }
  if (flags & kGemmLast) {
    if (const float* res = ep->residual) {  // a residual connection added while the tile is in registers
      const size_t ldr = ep->ld_residual;
      if (full) {
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[r][v] = T::add(acc[r][v], T::load(res + r * ldr + v * W));
      } else {
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
          if (static_cast<size_t>(r) < mr)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
              acc[r][v] = T::add(acc[r][v], T::load_n(res + r * ldr + v * W, ptrdiff_t(nc) - v * W));
      }
    }
    const V lo = T::set1(ep->min), hi = T::set1(ep->max);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = T::min(T::max(acc[r][v], lo), hi);
  }
  if (full) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) T::store(c + r * ldc + v * W, acc[r][v]);
  } else {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
      if (static_cast<size_t>(r) < mr)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) T::store_n(c + r * ldc + v * W, acc[r][v], ptrdiff_t(nc) - v * W);
  }
}

template <class T, int MR, int NR>
inline void f32_gemm_tile(size_t mr, size_t nc, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                          int flags, const GemmEpilogue* ep) {
  f32_gemm_tile_rows<T, MR, NR>(mr, nc, kc, a, [b](size_t k) { return b + k * NR; }, c, ldc, flags, ep);
}

// The same tile reading B unpacked: row k of B starts at b + koff[k] (an indirect GEMM). Lanes past nc may
// read any readable memory; they are never stored.
template <class T, int MR, int NR>
inline void f32_igemm_tile(size_t mr, size_t nc, size_t kc, const float* a, const float* b, const size_t* koff,
                           float* c, size_t ldc, int flags, const GemmEpilogue* ep) {
  f32_gemm_tile_rows<T, MR, NR>(mr, nc, kc, a, [b, koff](size_t k) { return b + koff[k]; }, c, ldc, flags, ep);
}

// GEMV over one packed panel: NR columns, k rows; weights streamed once, x broadcast.
template <class T, int NR>
inline void f32_gemv_panel(size_t k, size_t nc, const float* x, const float* wp, float* y, const GemmEpilogue* ep) {
  using V = typename T::V;
  constexpr int W = T::W;
  constexpr int NV = NR / W;
  V acc[NV], acc2[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    acc[v] = ep->bias ? T::load_n(ep->bias + v * W, ptrdiff_t(nc) - v * W) : T::zero();
    acc2[v] = T::zero();
  }
  size_t i = 0;
  for (; i + 2 <= k; i += 2) {
    const V x0 = T::set1(x[i]), x1 = T::set1(x[i + 1]);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      acc[v] = T::fmadd(x0, T::load(wp + v * W), acc[v]);
      acc2[v] = T::fmadd(x1, T::load(wp + NR + v * W), acc2[v]);
    }
    wp += 2 * NR;
  }
  if (i < k) {
    const V x0 = T::set1(x[i]);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[v] = T::fmadd(x0, T::load(wp + v * W), acc[v]);
  }
  const V lo = T::set1(ep->min), hi = T::set1(ep->max);
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    V r = T::min(T::max(T::add(acc[v], acc2[v]), lo), hi);
    T::store_n(y + v * W, r, ptrdiff_t(nc) - v * W);
  }
}

}  // namespace netscore::kernels::impl

#define NS_F32_GEMM_DEFINE(isa, mr, nr)                                                                     \
  void ns_f32_gemm_ukernel_##mr##x##nr##__##isa(size_t m, size_t nc, size_t kc, const float* a, const float* b, \
                                                float* c, size_t ldc, int flags, const GemmEpilogue* ep) {  \
    impl::f32_gemm_tile<simd::Vec, mr, nr>(m, nc, kc, a, b, c, ldc, flags, ep);                             \
  }
#define NS_F32_IGEMM_DEFINE(isa, mr, nr)                                                                    \
  void ns_f32_igemm_ukernel_##mr##x##nr##__##isa(size_t m, size_t nc, size_t kc, const float* a, const float* b, \
                                                 const size_t* koff, float* c, size_t ldc, int flags,          \
                                                 const GemmEpilogue* ep) {                                    \
    impl::f32_igemm_tile<simd::Vec, mr, nr>(m, nc, kc, a, b, koff, c, ldc, flags, ep);                       \
  }
#define NS_F32_GEMV_DEFINE(isa, nr)                                                                        \
  void ns_f32_gemv_ukernel_##nr##__##isa(size_t k, size_t nc, const float* x, const float* wp, float* y,      \
                                         const GemmEpilogue* ep) {                                         \
    impl::f32_gemv_panel<simd::Vec, nr>(k, nc, x, wp, y, ep);                                              \
  }
