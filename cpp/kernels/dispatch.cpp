// The one place that knows which ISA tiers this CPU and OS can run, and which micro-kernel serves an op:
// CPUID + XCR0 (xgetbv) on x86-64, HWCAP on AArch64; NETSCORE_ISA forces a tier. Tables come from the lists.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "kernels/ukernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define NS_ARCH_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#define NS_ARCH_ARM 1
#endif

// Which tiers are compiled into this build (the lists name all of them).
#define NS_BUILT_scalar(...) __VA_ARGS__
#if defined(NS_ARCH_X86)
#define NS_BUILT_avx2(...) __VA_ARGS__
#define NS_BUILT_avx512(...) __VA_ARGS__
#else
#define NS_BUILT_avx2(...)
#define NS_BUILT_avx512(...)
#endif
#if defined(NS_ARCH_ARM)
#define NS_BUILT_neon(...) __VA_ARGS__
#define NS_BUILT_neondot(...) __VA_ARGS__
#else
#define NS_BUILT_neon(...)
#define NS_BUILT_neondot(...)
#endif

namespace netscore::kernels {

// ---------------------------------------------------------------- declarations generated from the lists
#define NS_F32_GEMM(isa, mr, nr)                                                                             \
  NS_BUILT_##isa(void ns_f32_gemm_ukernel_##mr##x##nr##__##isa(size_t, size_t, size_t, const float*, const float*, \
                                                               float*, size_t, int, const GemmEpilogue*);)
#include "kernels/f32-gemm/f32-gemm.list"
#undef NS_F32_GEMM
#define NS_F32_GEMV(isa, nr) \
  NS_BUILT_##isa(void ns_f32_gemv_ukernel_##nr##__##isa(size_t, size_t, const float*, const float*, float*, const GemmEpilogue*);)
#include "kernels/f32-gemv/f32-gemv.list"
#undef NS_F32_GEMV
#define NS_F32_IGEMM(isa, mr, nr)                                                                              \
  NS_BUILT_##isa(void ns_f32_igemm_ukernel_##mr##x##nr##__##isa(size_t, size_t, size_t, const float*, const float*, \
                                                                const size_t*, float*, size_t, int, const GemmEpilogue*);)
#include "kernels/f32-igemm/f32-igemm.list"
#undef NS_F32_IGEMM
#define NS_F32_IM2COL(isa) \
  NS_BUILT_##isa(void ns_f32_im2col_ukernel__##isa(const Conv2dShape*, const float*, size_t, size_t, size_t, size_t, size_t, float*);)
#include "kernels/f32-im2col/f32-im2col.list"
#undef NS_F32_IM2COL
#define NS_F32_DWCONV(isa, variant, ...) NS_BUILT_##isa(void ns_f32_dwconv_ukernel_##variant##__##isa(const DirectConvArgs*);)
#include "kernels/f32-dwconv/f32-dwconv.list"
#undef NS_F32_DWCONV
#define NS_F32_GCONV(isa, variant, ...) NS_BUILT_##isa(void ns_f32_gconv_ukernel_##variant##__##isa(const DirectConvArgs*);)
#include "kernels/f32-gconv/f32-gconv.list"
#undef NS_F32_GCONV
#define NS_F32_POOL(isa, variant, ...) NS_BUILT_##isa(void ns_f32_pool_ukernel_##variant##__##isa(const PoolArgs*);)
#include "kernels/f32-pool/f32-pool.list"
#undef NS_F32_POOL
#define NS_F32_GAVGPOOL(isa) NS_BUILT_##isa(void ns_f32_gavgpool_ukernel__##isa(size_t, size_t, const float*, float*);)
#include "kernels/f32-gavgpool/f32-gavgpool.list"
#undef NS_F32_GAVGPOOL
#define NS_F32_VBINARY(isa, variant, ...) \
  NS_BUILT_##isa(void ns_f32_vbinary_ukernel_##variant##__##isa(size_t, const float*, const float*, float*);)
#include "kernels/f32-vbinary/f32-vbinary.list"
#undef NS_F32_VBINARY
#define NS_F32_VACT(isa) NS_BUILT_##isa(void ns_f32_vact_ukernel__##isa(size_t, const float*, float*, float, const Activation*);)
#include "kernels/f32-vact/f32-vact.list"
#undef NS_F32_VACT
#define NS_QS8_GEMM(isa, mr, nr)                                                                              \
  NS_BUILT_##isa(void ns_qs8_gemm_ukernel_##mr##x##nr##__##isa(size_t, size_t, size_t, const int8_t*, const int8_t*, \
                                                               int32_t*, size_t, int);)
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
#define NS_QS8_DWCONV(isa) NS_BUILT_##isa(void ns_qs8_dwconv_ukernel__##isa(const Qs8DwconvArgs*);)
#include "kernels/qs8-dwconv/qs8-dwconv.list"
#undef NS_QS8_DWCONV
#define NS_QS8_REQUANT(isa) \
  NS_BUILT_##isa(void ns_qs8_requant_ukernel__##isa(size_t, const int32_t*, int32_t, float, int32_t, int32_t, int32_t, int8_t*);)
#include "kernels/qs8-requant/qs8-requant.list"
#undef NS_QS8_REQUANT

// ---------------------------------------------------------------- tables generated from the lists
namespace {
#define NS_STR(x) #x
const F32GemmUkernel kF32Gemm[] = {
#define NS_F32_GEMM(isa, mr, nr) \
  NS_BUILT_##isa({Isa::isa, "f32-gemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_f32_gemm_ukernel_##mr##x##nr##__##isa, mr, nr},)
#include "kernels/f32-gemm/f32-gemm.list"
#undef NS_F32_GEMM
};
const F32GemvUkernel kF32Gemv[] = {
#define NS_F32_GEMV(isa, nr) NS_BUILT_##isa({Isa::isa, "f32-gemv-" NS_STR(nr) "-" #isa, ns_f32_gemv_ukernel_##nr##__##isa, nr},)
#include "kernels/f32-gemv/f32-gemv.list"
#undef NS_F32_GEMV
};
const F32IgemmUkernel kF32Igemm[] = {
#define NS_F32_IGEMM(isa, mr, nr) \
  NS_BUILT_##isa({Isa::isa, "f32-igemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_f32_igemm_ukernel_##mr##x##nr##__##isa, mr, nr},)
#include "kernels/f32-igemm/f32-igemm.list"
#undef NS_F32_IGEMM
};
const F32Im2colUkernel kF32Im2col[] = {
#define NS_F32_IM2COL(isa) NS_BUILT_##isa({Isa::isa, "f32-im2col-" #isa, ns_f32_im2col_ukernel__##isa},)
#include "kernels/f32-im2col/f32-im2col.list"
#undef NS_F32_IM2COL
};
const F32DirectConvUkernel kF32Dwconv[] = {
#define NS_F32_DWCONV(isa, variant, kh, kw, sh, sw, rows, raw) \
  NS_BUILT_##isa({Isa::isa, "f32-dwconv-" #variant "-" #isa, ns_f32_dwconv_ukernel_##variant##__##isa, kh, kw, sh, sw, rows, 1, raw},)
#include "kernels/f32-dwconv/f32-dwconv.list"
#undef NS_F32_DWCONV
};
const F32DirectConvUkernel kF32Gconv[] = {
#define NS_F32_GCONV(isa, variant, kh, kw, sh, sw, rows, co, raw) \
  NS_BUILT_##isa({Isa::isa, "f32-gconv-" #variant "-" #isa, ns_f32_gconv_ukernel_##variant##__##isa, kh, kw, sh, sw, rows, co, raw},)
#include "kernels/f32-gconv/f32-gconv.list"
#undef NS_F32_GCONV
};
const F32PoolUkernel kF32Pool[] = {
#define NS_F32_POOL(isa, variant, kind, kh, kw, sh, sw) \
  NS_BUILT_##isa({Isa::isa, "f32-pool-" #variant "-" #isa, ns_f32_pool_ukernel_##variant##__##isa, PoolKind::kind, kh, kw, sh, sw},)
#include "kernels/f32-pool/f32-pool.list"
#undef NS_F32_POOL
};
const F32GavgpoolUkernel kF32Gavgpool[] = {
#define NS_F32_GAVGPOOL(isa) NS_BUILT_##isa({Isa::isa, "f32-gavgpool-" #isa, ns_f32_gavgpool_ukernel__##isa},)
#include "kernels/f32-gavgpool/f32-gavgpool.list"
#undef NS_F32_GAVGPOOL
};
const F32VbinaryUkernel kF32Vbinary[] = {
#define NS_F32_VBINARY(isa, variant, op, scalar_b) \
  NS_BUILT_##isa({Isa::isa, "f32-vbinary-" #variant "-" #isa, ns_f32_vbinary_ukernel_##variant##__##isa, BinaryOp::op, scalar_b},)
#include "kernels/f32-vbinary/f32-vbinary.list"
#undef NS_F32_VBINARY
};
const F32VactUkernel kF32Vact[] = {
#define NS_F32_VACT(isa) NS_BUILT_##isa({Isa::isa, "f32-vact-" #isa, ns_f32_vact_ukernel__##isa},)
#include "kernels/f32-vact/f32-vact.list"
#undef NS_F32_VACT
};
const Qs8GemmUkernel kQs8Gemm[] = {
#define NS_QS8_GEMM(isa, mr, nr) \
  NS_BUILT_##isa({Isa::isa, "qs8-gemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_qs8_gemm_ukernel_##mr##x##nr##__##isa, mr, nr},)
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
};
const Qs8DwconvUkernel kQs8Dwconv[] = {
#define NS_QS8_DWCONV(isa) NS_BUILT_##isa({Isa::isa, "qs8-dwconv-" #isa, ns_qs8_dwconv_ukernel__##isa},)
#include "kernels/qs8-dwconv/qs8-dwconv.list"
#undef NS_QS8_DWCONV
};
const Qs8RequantUkernel kQs8Requant[] = {
#define NS_QS8_REQUANT(isa) NS_BUILT_##isa({Isa::isa, "qs8-requant-" #isa, ns_qs8_requant_ukernel__##isa},)
#include "kernels/qs8-requant/qs8-requant.list"
#undef NS_QS8_REQUANT
};
template <class E, size_t N>
Table<E> table(const E (&t)[N]) { return Table<E>{t, N}; }
}  // namespace

Table<F32GemmUkernel> f32_gemm_ukernels() { return table(kF32Gemm); }
Table<F32GemvUkernel> f32_gemv_ukernels() { return table(kF32Gemv); }
Table<F32Im2colUkernel> f32_im2col_ukernels() { return table(kF32Im2col); }
Table<F32IgemmUkernel> f32_igemm_ukernels() { return table(kF32Igemm); }
Table<F32DirectConvUkernel> f32_dwconv_ukernels() { return table(kF32Dwconv); }
Table<F32DirectConvUkernel> f32_gconv_ukernels() { return table(kF32Gconv); }
Table<F32PoolUkernel> f32_pool_ukernels() { return table(kF32Pool); }
Table<F32GavgpoolUkernel> f32_gavgpool_ukernels() { return table(kF32Gavgpool); }
Table<F32VbinaryUkernel> f32_vbinary_ukernels() { return table(kF32Vbinary); }
Table<F32VactUkernel> f32_vact_ukernels() { return table(kF32Vact); }
Table<Qs8GemmUkernel> qs8_gemm_ukernels() { return table(kQs8Gemm); }
Table<Qs8DwconvUkernel> qs8_dwconv_ukernels() { return table(kQs8Dwconv); }
Table<Qs8RequantUkernel> qs8_requant_ukernels() { return table(kQs8Requant); }

// ---------------------------------------------------------------- CPU features
namespace {

std::vector<Isa> detect() {
  std::vector<Isa> isas{Isa::scalar};
#if defined(NS_ARCH_X86)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return isas;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!osxsave || !avx) return isas;
  unsigned xlo, xhi;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  const bool ymm_state = (xlo & 0x6u) == 0x6u;            // SSE + AVX state
  const bool zmm_state = (xlo & 0xE6u) == 0xE6u;          // + opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return isas;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5);
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31);
  if (avx2 && fma && ymm_state) isas.push_back(Isa::avx2);
  if (avx2 && fma && zmm_state && avx512f && avx512dq && avx512bw && avx512vl) isas.push_back(Isa::avx512);
#elif defined(NS_ARCH_ARM)
  isas.push_back(Isa::neon);  // Advanced SIMD is mandatory on AArch64
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
  if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) isas.push_back(Isa::neondot);
#endif
  return isas;
}

const std::vector<Isa>& detected() {
  static const std::vector<Isa> isas = detect();
  return isas;
}

std::mutex g_isa_mutex;
bool g_isa_set = false;
Isa g_isa = Isa::scalar;

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

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
    case Isa::neondot: return "neondot";
  }
  return "unknown";
}

bool parse_isa(std::string_view name, Isa* out) {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon, Isa::neondot})
    if (name == isa_name(isa)) {
      *out = isa;
      return true;
    }
  return false;
}

std::vector<Isa> supported_isas() { return detected(); }
Isa best_isa() { return detected().back(); }

void check_isa_supported(Isa isa) {
  for (Isa s : detected())
    if (s == isa) return;
  throw std::invalid_argument(std::string("ISA tier '") + isa_name(isa) + "' is not supported on this CPU");
}

Isa active_isa() {
  std::lock_guard<std::mutex> lock(g_isa_mutex);
  if (!g_isa_set) {
    g_isa = best_isa();
    if (const char* env = std::getenv("NETSCORE_ISA"); env && *env) {
      Isa forced;
      if (!parse_isa(env, &forced))
        throw std::invalid_argument(std::string("NETSCORE_ISA: unknown tier '") + env +
                                    "' (expected scalar|avx2|avx512|neon|neondot)");
      check_isa_supported(forced);
      g_isa = forced;
    }
    g_isa_set = true;
  }
  return g_isa;
}

void set_isa(Isa isa) {
  check_isa_supported(isa);
  std::lock_guard<std::mutex> lock(g_isa_mutex);
  g_isa = isa;
  g_isa_set = true;
}

// ---------------------------------------------------------------- selection
namespace {
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
  const F32PoolUkernel* e = find(f32_pool_ukernels(), isa, [&](const F32PoolUkernel& k) {
    return k.kind == kind && k.kh != 0 && undilated && k.kh == s.kh && k.kw == s.kw && k.sh == s.stride_h &&
           k.sw == s.stride_w;
  });
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

// qs8 dwconv / requant are compiler-vectorised loops: neondot uses the neon build.
const Qs8DwconvUkernel& select_qs8_dwconv(Isa isa) {
  check_isa_supported(isa);
  return first_of(qs8_dwconv_ukernels(), f32_tier(isa), "qs8-dwconv");
}

const Qs8RequantUkernel& select_qs8_requant(Isa isa) {
  check_isa_supported(isa);
  return first_of(qs8_requant_ukernels(), f32_tier(isa), "qs8-requant");
}

}  // namespace netscore::kernels
