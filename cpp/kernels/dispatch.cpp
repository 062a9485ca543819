// Selection: the one place that maps (tier, shape) to a micro-kernel of the tables (ukernel_tables.cpp).
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/ukernels.h"

namespace netscore::kernels {

namespace {
// f32 families have no neondot kernels: that tier runs the neon ones.
Isa f32_tier(Isa isa) { return isa == Isa::neondot ? Isa::neon : isa; }

template <class E, class Pred>
const E* find(Table<E> t, Isa isa, Pred pred) {
  for (const E& e : t)
    if (e.isa == isa && pred(e)) return &e;
  return nullptr;
}

template <class E>
const E& first_of(Table<E> t, Isa isa, const char* family) {
  const E* e = find(t, isa, [](const E&) { return true; });
  if (!e) throw std::logic_error(std::string(family) + ": no micro-kernel for tier " + isa_name(isa));
  return *e;
}

// Useful fraction of a tile grid's area (rows padded to whole MR, columns to whole NR; `cols_computed` >=
// cols when the GEMM runs over a padded width) times how fast the tile runs: a tile with fewer accumulators
// than the tier's default re-reads its operands more often per FMA (AVX-512, in L1: 4x64 runs at ~0.83 of
// 8x48 and 12x32, about the square root of the accumulator ratio).
double tile_score(const F32GemmUkernel& e, const F32GemmUkernel& main, int64_t rows, int64_t cols,
                  int64_t cols_computed) {
  const double fr = double(rows) / double(round_up(size_t(rows), size_t(e.mr)));
  const double fc = cols > 0 ? double(cols) / double(round_up(size_t(cols_computed), size_t(e.nr))) : 1.0;
  const double acc = double(e.mr * e.nr) / double(main.mr * main.nr);
  return fr * fc * (acc < 1.0 ? std::sqrt(acc) : 1.0);
}
}  // namespace

const F32GemmUkernel& select_f32_gemm(Isa isa, int64_t m, int64_t n) {
  check_isa_supported(isa);
  isa = f32_tier(isa);
  const F32GemmUkernel& main = first_of(f32_gemm_ukernels(), isa, "f32-gemm");
  // The default tile keeps its place unless another one scores better by 3% (measured on AVX-512: 12x32
  // instead of 8x48 for 3x3 256->256 on 14x14, 224 computed columns, is 6% faster).
  const F32GemmUkernel* best = &main;
  double best_score = tile_score(main, main, m, n, n);
  for (const F32GemmUkernel& e : f32_gemm_ukernels()) {
    const double sc = e.isa == isa ? tile_score(e, main, m, n, n) : 0.0;
    if (sc > best_score * 1.03) {
      best = &e;
      best_score = sc;
    }
  }
  return *best;
}

const F32GemmUkernel* select_f32_gemm_pixel_major(Isa isa, int64_t m, int64_t n, int64_t n_computed) {
  check_isa_supported(isa);
  isa = f32_tier(isa);
  if (m <= 0 || n <= 0) return nullptr;
  const F32GemmUkernel& main = first_of(f32_gemm_ukernels(), isa, "f32-gemm");
  const F32GemmUkernel& normal = select_f32_gemm(isa, m, n_computed);
  // Pixel-major pays for packing the pixels and storing C transposed: it must score 15% better (1x1
  // 512->512 on 14x14 pixel-major with 12x32, 4% better by score, ran 8% slower).
  double best_score = tile_score(normal, main, m, n, n_computed) * 1.15;
  const F32GemmUkernel* best = nullptr;
  for (const F32GemmUkernel& e : f32_gemm_ukernels()) {
    const double sc = e.isa == isa ? tile_score(e, main, n, m, m) : 0.0;
    if (sc > best_score) {
      best = &e;
      best_score = sc;
    }
  }
  return best;
}

const F32GemvUkernel& select_f32_gemv(Isa isa) {
  check_isa_supported(isa);
  return first_of(f32_gemv_ukernels(), f32_tier(isa), "f32-gemv");
}

const F32Im2colUkernel& select_f32_im2col(Isa isa) {
  check_isa_supported(isa);
  return first_of(f32_im2col_ukernels(), f32_tier(isa), "f32-im2col");
}

const F32IgemmUkernel* select_f32_igemm(const F32GemmUkernel& tile) {
  for (const F32IgemmUkernel& e : f32_igemm_ukernels())
    if (e.isa == tile.isa && e.mr == tile.mr && e.nr == tile.nr) return &e;
  return nullptr;
}

const F32DirectConvUkernel* select_f32_dwconv(Isa isa, const Conv2dShape& s) {
  check_isa_supported(isa);
  isa = f32_tier(isa);
  const bool undilated = s.dil_h == 1 && s.dil_w == 1;
  const F32DirectConvUkernel* e = find(f32_dwconv_ukernels(), isa, [&](const F32DirectConvUkernel& k) {
    return k.kh != 0 && undilated && k.kh == s.kh && k.kw == s.kw && k.sh == s.stride_h && k.sw == s.stride_w;
  });
  if (!e) e = find(f32_dwconv_ukernels(), isa, [](const F32DirectConvUkernel& k) { return k.kh == 0; });
  if (!e) throw std::logic_error(std::string("f32-dwconv: no general kernel for tier ") + isa_name(isa));
  return e;
}

const F32DirectConvUkernel* select_f32_gconv(Isa isa, const Conv2dShape& s) {
  check_isa_supported(isa);
  isa = f32_tier(isa);
  // Direct convolution pays off when a GEMM tile would be mostly padding or packing: groups of few
  // channels (4 output channels share each load), or a stem with a tiny K (8 output channels per load).
  const int64_t cin_g = s.c_in / s.group, cout_g = s.c_out / s.group;
  int co = 0;
  if (s.group > 1 && cout_g <= 8 && cin_g <= 16) co = 4;
  else if (s.group == 1 && cin_g <= 4 && s.kh == 3 && s.kw == 3) co = 8;  // measured on 3x3 stems only
  if (!co) return nullptr;
  const bool undilated = s.dil_h == 1 && s.dil_w == 1;
  const F32DirectConvUkernel* e = find(f32_gconv_ukernels(), isa, [&](const F32DirectConvUkernel& k) {
    return k.co == co && k.kh != 0 && undilated && k.kh == s.kh && k.kw == s.kw && k.sh == s.stride_h &&
           k.sw == s.stride_w;
  });
  if (!e) e = find(f32_gconv_ukernels(), isa, [&](const F32DirectConvUkernel& k) { return k.co == co && k.kh == 0; });
  return e;
}

const F32PoolUkernel& select_f32_pool(Isa isa, PoolKind kind, const Pool2dShape& s) {
  check_isa_supported(isa);
  isa = f32_tier(isa);
  const bool undilated = s.dil_h == 1 && s.dil_w == 1;
  // A kernel reading the unpadded input (raw) is preferred where its pads fit: it reads each input row once,
  // without first copying the plane into padded phase planes.
  const bool raw_fits = s.pad_top <= 1 && s.pad_left <= 1;
  const F32PoolUkernel* e = nullptr;
  for (const int raw : {1, 0}) {
    if (e || (raw && !raw_fits)) continue;
    e = find(f32_pool_ukernels(), isa, [&](const F32PoolUkernel& k) {
      return k.kind == kind && k.kh != 0 && k.raw == raw && undilated && k.kh == s.kh && k.kw == s.kw &&
             k.sh == s.stride_h && k.sw == s.stride_w;
    });
  }
  if (!e) e = find(f32_pool_ukernels(), isa, [&](const F32PoolUkernel& k) { return k.kind == kind && k.kh == 0; });
  if (!e) throw std::logic_error(std::string("f32-pool: no general kernel for tier ") + isa_name(isa));
  return *e;
}

const F32GavgpoolUkernel& select_f32_gavgpool(Isa isa) {
  check_isa_supported(isa);
  return first_of(f32_gavgpool_ukernels(), f32_tier(isa), "f32-gavgpool");
}

const F32VbinaryUkernel& select_f32_vbinary(Isa isa, BinaryOp op, bool scalar_b) {
  check_isa_supported(isa);
  const F32VbinaryUkernel* e = find(f32_vbinary_ukernels(), f32_tier(isa),
                                    [&](const F32VbinaryUkernel& k) { return k.op == op && k.scalar_b == scalar_b; });
  if (!e) throw std::logic_error(std::string("f32-vbinary: missing kernel for tier ") + isa_name(isa));
  return *e;
}

const F32VactUkernel& select_f32_vact(Isa isa) {
  check_isa_supported(isa);
  return first_of(f32_vact_ukernels(), f32_tier(isa), "f32-vact");
}

const Qs8GemmUkernel& select_qs8_gemm(Isa isa) {
  check_isa_supported(isa);
  return first_of(qs8_gemm_ukernels(), isa, "qs8-gemm");
}

// qs8 dwconv / requant are built for the f32 group of tiers: neondot uses the neon build.
const Qs8DwconvUkernel& select_qs8_dwconv(Isa isa) {
  check_isa_supported(isa);
  return first_of(qs8_dwconv_ukernels(), f32_tier(isa), "qs8-dwconv");
}

const Qs8RequantUkernel& select_qs8_requant(Isa isa) {
  check_isa_supported(isa);
  return first_of(qs8_requant_ukernels(), f32_tier(isa), "qs8-requant");
}

}  // namespace netscore::kernels
