// Checks every kernel, on every ISA tier the CPU supports (or the tiers named with --isa), against the
// plain scalar references on seeded random inputs. Usage: test_kernels [--isa NAME]... [--seed N] [--quick]
// Exit status 0 only if every comparison passes; each failure prints the case and the seed.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/reference/reference.h"
#include "kernels/ukernels.h"

using namespace netscore::kernels;

namespace {

uint32_t g_seed = 20260421;
int g_checks = 0, g_failures = 0;
std::set<std::string> g_used;  // micro-kernel names exercised through the ops

std::vector<float> rand_f32(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}
std::vector<int8_t> rand_i8(size_t n, std::mt19937& rng, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = int8_t(d(rng));
  return v;
}

template <class T>
bool compare(const std::string& what, const T* got, const T* want, size_t n, double rtol, double atol) {
  ++g_checks;
  size_t bad = n;
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double g = double(got[i]), w = double(want[i]);
    const double err = std::fabs(g - w);
    if (!(err <= atol + rtol * std::fabs(w))) {
      if (bad == n || err > worst) {
        bad = i;
        worst = err;
      }
    }
  }
  if (bad == n) return true;
  ++g_failures;
  std::printf("FAIL %s: element %zu got %.8g want %.8g (seed %u)\n", what.c_str(), bad, double(got[bad]),
              double(want[bad]), g_seed);
  return false;
}

std::string conv_desc(const Conv2dShape& s, Activation a, Isa isa) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "conv2d[%s] n%lld c%lld %lldx%lld -> c%lld k%lldx%lld s%lldx%lld p%lld,%lld,%lld,%lld d%lldx%lld g%lld act=%s",
                isa_name(isa), (long long)s.n, (long long)s.c_in, (long long)s.h, (long long)s.w,
                (long long)s.c_out, (long long)s.kh, (long long)s.kw, (long long)s.stride_h, (long long)s.stride_w,
                (long long)s.pad_top, (long long)s.pad_left, (long long)s.pad_bottom, (long long)s.pad_right,
                (long long)s.dil_h, (long long)s.dil_w, (long long)s.group, activation_name(a.kind));
  return buf;
}

Conv2dShape conv(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t k, int64_t stride, int64_t pad,
                 int64_t dil = 1, int64_t group = 1) {
  Conv2dShape s;
  s.n = n; s.c_in = cin; s.h = h; s.w = w; s.c_out = cout; s.kh = s.kw = k;
  s.stride_h = s.stride_w = stride;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = pad;
  s.dil_h = s.dil_w = dil;
  s.group = group;
  return s;
}

const Activation kActs[] = {Activation{Activation::none}, Activation{Activation::relu}, Activation{Activation::relu6},
                            Activation::Clip(-0.5f, 0.75f), Activation{Activation::sigmoid},
                            Activation{Activation::hardswish}, Activation{Activation::silu}, Activation{Activation::gelu}};

// ------------------------------------------------------------ f32-gemm tiles, straight from the table
void test_gemm_tiles(Isa isa, std::mt19937& rng) {
  for (const F32GemmUkernel& uk : f32_gemm_ukernels()) {
    if (uk.isa != (isa == Isa::neondot ? Isa::neon : isa)) continue;
    g_used.insert(uk.name);
    const size_t MR = uk.mr, NR = uk.nr;
    for (size_t mr : {size_t(1), MR - 1, MR})
      for (size_t nc : {size_t(1), NR / 2 + 1, NR - 1, NR})
        for (size_t kc : {size_t(1), size_t(3), size_t(17), size_t(64)})
          for (int mode = 0; mode < 6; ++mode) {
            if (mr == 0 || nc == 0) continue;
            const size_t ldc = NR + 3, ldr = NR + 5;
            auto a = rand_f32(MR * kc, rng), b = rand_f32(NR * kc, rng), bias = rand_f32(std::max(MR, NR), rng);
            auto c = rand_f32(MR * ldc, rng), res = rand_f32(MR * ldr, rng);
            std::vector<float> want = c;
            GemmEpilogue ep;
            int flags = kGemmLast;
            if (mode == 0) ep.bias = bias.data();                                   // bias per row
            if (mode == 1) { ep.bias = bias.data(); ep.bias_per_col = 1; }          // bias per column
            if (mode == 2) flags |= kGemmAccumulate;                                // accumulate into C
            if (mode == 3) { ep.min = -0.3f; ep.max = 0.4f; }                       // clamp, no bias
            if (mode >= 4) {  // residual (own row stride) before the clamp; with bias, or accumulating
              ep.residual = res.data();
              ep.ld_residual = ldr;
              ep.min = -0.2f;
              if (mode == 4) ep.bias = bias.data();
              if (mode == 5) flags |= kGemmAccumulate;
            }
            for (size_t r = 0; r < mr; ++r)
              for (size_t j = 0; j < nc; ++j) {
                double acc = mode == 2 || mode == 5 ? c[r * ldc + j] : mode == 0 || mode == 4 ? bias[r]
                             : mode == 1 ? bias[j] : 0.0;
                if (mode >= 4) acc += double(res[r * ldr + j]);
                for (size_t k = 0; k < kc; ++k) acc += double(a[k * MR + r]) * double(b[k * NR + j]);
                want[r * ldc + j] = std::min(std::max(float(acc), ep.min), ep.max);
              }
            uk.fn(mr, nc, kc, a.data(), b.data(), c.data(), ldc, flags, &ep);
            char what[160];
            std::snprintf(what, sizeof what, "%s mr=%zu nc=%zu kc=%zu mode=%d (cells outside the tile must not change)",
                          uk.name, mr, nc, kc, mode);
            compare(what, c.data(), want.data(), c.size(), 1e-5, 1e-5);
          }
  }
}

// ------------------------------------------------------------ ops
void check_conv(const Conv2dShape& s, Activation act, Isa isa, std::mt19937& rng, ThreadPool* pool = nullptr,
                bool bias_on = true, bool residual = false) {
  const size_t cin_g = s.c_in / s.group;
  auto x = rand_f32(s.n * s.c_in * s.h * s.w, rng);
  auto w = rand_f32(s.c_out * cin_g * s.kh * s.kw, rng);
  auto b = rand_f32(s.c_out, rng);
  std::vector<float> got(s.n * s.c_out * s.out_h() * s.out_w(), NAN), want(got.size());
  auto res = rand_f32(got.size(), rng);
  Conv2d k(s, w.data(), bias_on ? b.data() : nullptr, act, isa);
  g_used.insert(k.kernel_name());
  k.run(x.data(), residual ? res.data() : nullptr, got.data(), pool);
  reference::conv2d(s, x.data(), w.data(), bias_on ? b.data() : nullptr, act, want.data(),
                    residual ? res.data() : nullptr);
  compare(conv_desc(s, act, isa) + " via " + k.kernel_name() + (pool ? " threads" : "") +
              (residual ? " +residual" : ""),
          got.data(), want.data(), got.size(), 2e-4, 2e-4);
}

void test_conv(Isa isa, std::mt19937& rng, bool quick) {
  std::vector<Conv2dShape> shapes = {
      conv(1, 3, 9, 11, 5, 3, 1, 1),        // below every tile
      conv(1, 8, 12, 12, 16, 3, 1, 1),      // tile-sized channels
      conv(2, 7, 13, 10, 33, 3, 2, 1),      // batch 2, above the tile, odd sizes, stride 2
      conv(1, 16, 10, 10, 20, 1, 1, 0),     // pointwise
      conv(1, 16, 9, 9, 24, 1, 2, 0),       // strided 1x1
      conv(1, 5, 15, 14, 6, 5, 1, 2),       // 5x5
      conv(1, 3, 23, 23, 8, 7, 2, 3),       // 7x7 stem
      conv(1, 6, 12, 12, 9, 3, 1, 2, 2),    // dilation 2
      conv(1, 8, 10, 10, 16, 3, 1, 1, 1, 2),   // 2 groups of 4 -> 8 (direct grouped)
      conv(1, 32, 9, 9, 64, 3, 1, 1, 1, 2),    // 2 big groups (GEMM per group)
      conv(1, 24, 11, 11, 24, 3, 1, 1, 1, 6),  // groups of 4 (direct grouped, 3x3s1 fast path)
      conv(1, 12, 11, 11, 18, 3, 2, 1, 1, 6),  // groups of 2 -> 3, stride 2 (general direct)
      conv(1, 6, 10, 10, 12, 3, 1, 1, 1, 6),   // depthwise multiplier 2
      conv(1, 9, 17, 19, 9, 3, 1, 1, 1, 9),    // depthwise 3x3 s1
      conv(2, 5, 18, 21, 5, 3, 2, 1, 1, 5),    // depthwise 3x3 s2
      conv(1, 4, 16, 33, 4, 5, 1, 2, 1, 4),    // depthwise 5x5 s1
      conv(1, 3, 19, 20, 3, 5, 2, 2, 1, 3),    // depthwise 5x5 s2
      conv(1, 4, 14, 15, 4, 3, 1, 2, 2, 4),    // depthwise dilated (general)
      conv(1, 3, 15, 15, 3, 7, 3, 3, 1, 3),    // depthwise 7x7 s3 (general)
      conv(1, 5, 9, 9, 4, 3, 1, 1),           // 4 output channels: the short GEMM tiles
      conv(1, 5, 9, 9, 12, 3, 1, 1),          // 12 output channels on a small image: the 12-row tile
      conv(1, 3, 20, 21, 12, 3, 2, 1),         // stem, tiny K: direct 8-channel 3x3 s2
      conv(2, 1, 16, 17, 10, 3, 1, 1),         // tiny K, 3x3 stride 1: direct 8-channel general
      conv(1, 7, 5, 6, 7, 3, 1, 1, 1, 7),      // depthwise on an image narrower than a vector
      conv(1, 4, 6, 40, 4, 5, 1, 3, 1, 4),     // depthwise 5x5 with pads wider than the kernel reach
      conv(1, 64, 7, 7, 140, 1, 1, 0),         // 7x7 map, many channels: pixel-major GEMM where a tier has it
      conv(1, 40, 7, 7, 48, 3, 1, 1),          // 3x3 on a 7x7 map (pixel-major or indirect)
      conv(1, 24, 13, 13, 72, 3, 2, 1),        // stride 2 down to 7x7
      conv(1, 48, 14, 14, 64, 1, 1, 0),        // 14x14 map: pixel-major with a 14-row tile where a tier has it
      conv(1, 5, 8, 8, 28, 3, 1, 1),           // 28 output channels: the 14-row tile channel-major (indirect)
  };
  Conv2dShape asym = conv(1, 4, 11, 9, 6, 3, 1, 0);
  asym.pad_top = 2; asym.pad_left = 0; asym.pad_bottom = 1; asym.pad_right = 3; asym.stride_w = 2;
  shapes.push_back(asym);
  Conv2dShape asym_dw = conv(1, 5, 12, 13, 5, 3, 1, 0, 1, 5);
  asym_dw.pad_top = 0; asym_dw.pad_left = 2; asym_dw.pad_bottom = 2; asym_dw.pad_right = 1;
  shapes.push_back(asym_dw);
  int i = 0;
  for (const Conv2dShape& s : shapes) {
    check_conv(s, kActs[i % 8], isa, rng, nullptr, i % 5 != 4);
    // The same shape with a residual connection fused (Conv + Add + activation), activation shifted.
    check_conv(s, kActs[(i + 3) % 8], isa, rng, nullptr, i % 5 != 3, true);
    ++i;
  }
  if (!quick) {
    // Long K (several K blocks) and a wide image with several column blocks, then threads.
    check_conv(conv(1, 96, 14, 14, 40, 3, 1, 1), kActs[1], isa, rng);
    ThreadPool pool(3);
    check_conv(conv(2, 16, 20, 20, 32, 3, 1, 1), kActs[2], isa, rng, &pool);
    check_conv(conv(1, 16, 21, 21, 16, 3, 2, 1, 1, 16), kActs[3], isa, rng, &pool);
    check_conv(conv(1, 32, 12, 12, 32, 3, 1, 1, 1, 8), kActs[0], isa, rng, &pool);
    check_conv(conv(1, 96, 14, 14, 40, 1, 1, 0), kActs[1], isa, rng, &pool, true, true);
    check_conv(conv(1, 3, 37, 41, 32, 3, 2, 1), kActs[1], isa, rng, &pool, true, true);
  }
  {
    // Threads on a packed GEMM of one K block and 8+ row panels (any tile): the row panels run outermost.
    ThreadPool pool(2);
    check_conv(conv(2, 12, 19, 23, 120, 1, 1, 0), kActs[5], isa, rng, &pool, true, true);
    check_conv(conv(1, 10, 25, 21, 115, 1, 2, 0), kActs[6], isa, rng, &pool);
  }
}

void test_gemm(Isa isa, std::mt19937& rng) {
  int i = 0;
  for (int64_t m : {1, 2, 5, 9})
    for (int64_t n : {1, 15, 64, 67, 130})
      for (int64_t k : {1, 7, 300}) {
        for (bool tb : {true, false}) {
          GemmShape s{m, k, n, tb};
          auto x = rand_f32(m * k, rng), b = rand_f32(k * n, rng), bias = rand_f32(n, rng);
          Activation act = kActs[i % 8];
          const bool with_bias = i % 3 != 2;
          ++i;
          Gemm g(s, b.data(), with_bias ? bias.data() : nullptr, act, isa);
          g_used.insert(g.kernel_name());
          std::vector<float> got(m * n, NAN), want(m * n);
          g.run(x.data(), got.data());
          reference::gemm(s, x.data(), b.data(), with_bias ? bias.data() : nullptr, act, want.data());
          char what[160];
          std::snprintf(what, sizeof what, "gemm[%s] m%lld k%lld n%lld trans_b=%d act=%s via %s", isa_name(isa),
                        (long long)m, (long long)k, (long long)n, int(tb), activation_name(act.kind),
                        g.kernel_name().c_str());
          compare(what, got.data(), want.data(), got.size(), 2e-4, 2e-4);
        }
      }
  // GEMV at a real classifier shape, with threads.
  GemmShape s{1, 1024, 1000, true};
  auto x = rand_f32(1024, rng), b = rand_f32(1024 * 1000, rng), bias = rand_f32(1000, rng);
  ThreadPool pool(2);
  Gemm g(s, b.data(), bias.data(), {}, isa);
  std::vector<float> got(1000), want(1000);
  g.run(x.data(), got.data(), &pool);
  reference::gemm(s, x.data(), b.data(), bias.data(), {}, want.data());
  compare(std::string("gemv 1x1024x1000 threads [") + isa_name(isa) + "]", got.data(), want.data(), 1000, 2e-4, 2e-4);
}

void check_pool(PoolKind kind, const Pool2dShape& s, Isa isa, std::mt19937& rng) {
  auto x = rand_f32(s.n * s.c * s.h * s.w, rng);
  Pool2d p(kind, s, isa);
  g_used.insert(p.kernel_name());
  std::vector<float> got(s.n * s.c * s.out_h() * s.out_w(), NAN), want(got.size());
  p.run(x.data(), got.data());
  reference::pool2d(kind, s, x.data(), want.data());
  char what[220];
  std::snprintf(what, sizeof what, "pool[%s] %s %lldx%lld k%lldx%lld s%lld p%lld,%lld,%lld,%lld d%lld ceil=%d incl=%d via %s",
                isa_name(isa), kind == PoolKind::max ? "max" : "avg", (long long)s.h, (long long)s.w,
                (long long)s.kh, (long long)s.kw, (long long)s.stride_h, (long long)s.pad_top, (long long)s.pad_left,
                (long long)s.pad_bottom, (long long)s.pad_right, (long long)s.dil_h, int(s.ceil_mode),
                int(s.count_include_pad), p.kernel_name().c_str());
  compare(what, got.data(), want.data(), got.size(), 1e-5, 1e-6);
}

void test_pool(Isa isa, std::mt19937& rng) {
  auto shape = [](int64_t c, int64_t h, int64_t w, int64_t k, int64_t st, int64_t pad) {
    Pool2dShape s;
    s.n = 1; s.c = c; s.h = h; s.w = w; s.kh = s.kw = k; s.stride_h = s.stride_w = st;
    s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = pad;
    return s;
  };
  for (PoolKind kind : {PoolKind::max, PoolKind::average}) {
    check_pool(kind, shape(3, 17, 19, 3, 2, 1), isa, rng);    // 3x3 s2 fast path (max: direct, raw input)
    check_pool(kind, shape(2, 13, 112, 3, 2, 1), isa, rng);   // stem pool width: interior and border vectors
    check_pool(kind, shape(2, 15, 75, 3, 2, 0), isa, rng);
    check_pool(kind, shape(1, 5, 600, 3, 2, 1), isa, rng);    // more output columns than one pass holds
    check_pool(kind, shape(2, 11, 13, 3, 2, 2), isa, rng);    // pads > 1: 3x3 s2 over phase planes
    check_pool(kind, shape(2, 12, 12, 2, 2, 0), isa, rng);
    check_pool(kind, shape(2, 9, 35, 3, 1, 1), isa, rng);
    Pool2dShape c = shape(2, 10, 11, 3, 2, 0);
    c.ceil_mode = true;
    check_pool(kind, c, isa, rng);
    Pool2dShape d = shape(1, 13, 13, 3, 1, 2);
    d.dil_h = d.dil_w = 2;
    check_pool(kind, d, isa, rng);
    Pool2dShape a = shape(3, 8, 9, 3, 2, 1);
    a.pad_right = 2;
    a.count_include_pad = true;
    a.ceil_mode = true;
    check_pool(kind, a, isa, rng);
    Pool2dShape r = shape(2, 7, 7, 7, 1, 0);  // window == image (average: the global-average-pool kernel)
    r.n = 2;
    check_pool(kind, r, isa, rng);
    Pool2dShape q = shape(3, 5, 9, 5, 2, 0);  // window == a non-square image
    q.kw = 9;
    check_pool(kind, q, isa, rng);
  }
  for (int64_t hw : {1, 7, 33, 49, 196}) {
    auto x = rand_f32(2 * 5 * hw, rng);
    GlobalAvgPool g(2, 5, hw, 1, isa);
    g_used.insert(g.kernel_name());
    std::vector<float> got(10, NAN), want(10);
    g.run(x.data(), got.data());
    reference::global_avg_pool(2, 5, hw, 1, x.data(), want.data());
    compare(std::string("global_avg_pool[") + isa_name(isa) + "] hw=" + std::to_string(hw), got.data(), want.data(), 10,
            1e-5, 1e-6);
  }
}

void test_elementwise(Isa isa, std::mt19937& rng) {
  using D = std::vector<int64_t>;
  const std::pair<D, D> cases[] = {
      {{2, 3, 5, 7}, {2, 3, 5, 7}}, {{1, 16, 9, 9}, {1, 16, 1, 1}}, {{1, 4, 5, 6}, {1}},
      {{2, 3, 4, 37}, {37}},        {{1, 1, 6, 7}, {2, 3, 6, 7}},   {{5, 1, 3}, {1, 4, 1}},
      {{3, 1}, {1, 100}},           {{1}, {1}},                     {{1, 64, 40, 41}, {1, 64, 40, 41}},
  };
  for (BinaryOp op : {BinaryOp::add, BinaryOp::mul})
    for (const auto& [ad, bd] : cases) {
      int64_t na = 1, nb = 1;
      for (int64_t v : ad) na *= v;
      for (int64_t v : bd) nb *= v;
      auto a = rand_f32(na, rng), b = rand_f32(nb, rng);
      Binary k(op, ad, bd, b.data(), isa);
      g_used.insert(k.kernel_name());
      std::vector<float> want;
      reference::binary(op, ad, a.data(), bd, b.data(), &want);
      std::vector<float> got(want.size(), NAN);
      ThreadPool pool(2);
      k.run(a.data(), got.data(), na > 50000 ? &pool : nullptr);
      std::string what = std::string("binary[") + isa_name(isa) + "] " + (op == BinaryOp::add ? "add" : "mul") +
                         " a=" + std::to_string(na) + " b=" + std::to_string(nb);
      compare(what, got.data(), want.data(), got.size(), 1e-6, 0.0);
    }
  for (const Activation& act : kActs)
    for (int64_t n : {1, 5, 16, 37, 1000}) {
      auto x = rand_f32(n, rng, -9.0f, 9.0f);
      Unary u(act, n, isa);
      g_used.insert(std::string(u.kernel_name()).substr(0, u.kernel_name().rfind('-')));
      std::vector<float> got(n, NAN), want(n);
      u.run(x.data(), got.data());
      reference::unary(act, n, x.data(), want.data());
      compare(std::string("unary[") + isa_name(isa) + "] " + activation_name(act.kind) + " n=" + std::to_string(n),
              got.data(), want.data(), n, 3e-6, 1e-6);
    }
}

void test_quantized(Isa isa, std::mt19937& rng) {
  const std::vector<Conv2dShape> shapes = {
      conv(1, 3, 9, 11, 5, 3, 1, 1),     conv(2, 7, 13, 10, 33, 3, 2, 1),   conv(1, 16, 10, 10, 20, 1, 1, 0),
      conv(1, 6, 12, 12, 9, 3, 1, 2, 2), conv(1, 24, 11, 11, 24, 3, 1, 1, 1, 6), conv(1, 9, 17, 19, 9, 3, 1, 1, 1, 9),
      conv(2, 5, 18, 21, 5, 3, 2, 1, 1, 5), conv(1, 4, 14, 15, 4, 5, 1, 4, 2, 4),
      // GEMM path: channels per group not a multiple of 4, several column blocks, a 3-channel stem, padded and
      // strided 1x1
      conv(1, 15, 12, 13, 9, 3, 2, 2, 2, 3), conv(1, 20, 23, 25, 36, 3, 1, 1), conv(1, 3, 17, 17, 8, 7, 2, 3),
      conv(2, 6, 8, 7, 10, 1, 1, 2),         conv(1, 16, 9, 9, 24, 1, 2, 0),
  };
  const Activation acts[] = {Activation{Activation::none}, Activation{Activation::relu},
                             Activation{Activation::relu6}, Activation::Clip(-1.0f, 2.0f)};
  ThreadPool pool(3);
  int i = 0;
  for (const Conv2dShape& s : shapes) {
    const Activation act = acts[i % 4];
    QuantParams xq{0.05f, int32_t(i * 7 % 40 - 20)}, wq{0.01f, 0}, yq{0.11f, int32_t(5 - i)};
    ++i;
    auto x = rand_i8(s.n * s.c_in * s.h * s.w, rng);
    auto w = rand_i8(s.c_out * (s.c_in / s.group) * s.kh * s.kw, rng, -127, 127);
    std::vector<int32_t> bias(s.c_out);
    std::uniform_int_distribution<int> bd(-3000, 3000);
    for (int32_t& b : bias) b = bd(rng);
    QConv2d k(s, w.data(), bias.data(), xq, wq, yq, act, isa);
    g_used.insert(k.kernel_name());
    std::vector<int8_t> got(s.n * s.c_out * s.out_h() * s.out_w()), want(got.size());
    k.run(x.data(), got.data());
    reference::qconv2d(s, x.data(), w.data(), bias.data(), xq, wq, yq, act, want.data());
    compare("q" + conv_desc(s, act, isa) + " via " + k.kernel_name(), got.data(), want.data(), got.size(), 0.0, 0.0);
    std::fill(got.begin(), got.end(), int8_t(0));
    k.run(x.data(), got.data(), &pool);  // channel blocks / column blocks split over threads
    compare("q" + conv_desc(s, act, isa) + " via " + k.kernel_name() + " threads", got.data(), want.data(),
            got.size(), 0.0, 0.0);
  }
  // int8 depthwise: the corners of its flat output grid (strides 1, 2, 3 and row != column stride, dilation,
  // asymmetric and oversized padding, 1x1 and 2x2 windows, rows wider than a kernel step), zero points at
  // the ends of int8 (|x - zp| up to 255) and weights down to -128.
  struct DwCase { int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw; int32_t zp; };
  const DwCase dw_cases[] = {
      {1, 8, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, -7},  {2, 5, 15, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 127},
      {1, 6, 29, 31, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1, -128}, {1, 4, 13, 17, 5, 5, 2, 1, 2, 2, 2, 2, 1, 1, 3},
      {1, 4, 13, 17, 3, 3, 1, 2, 1, 0, 2, 1, 2, 2, 0},   {1, 3, 20, 22, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 5},
      {1, 3, 9, 40, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, -1},   {1, 5, 12, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 9},
      {1, 5, 12, 12, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, -9},  {1, 4, 6, 5, 3, 3, 1, 1, 4, 5, 0, 3, 2, 3, -3},
      {1, 3, 57, 57, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, -20},
  };
  for (const DwCase& d : dw_cases) {
    Conv2dShape s = conv(d.n, d.c, d.h, d.w, d.c, d.kh, d.sh, 0, d.dh, d.c);
    s.kw = d.kw;
    s.stride_w = d.sw;
    s.dil_w = d.dw;
    s.pad_top = d.pt, s.pad_left = d.pl, s.pad_bottom = d.pb, s.pad_right = d.pr;
    const Activation act = acts[i % 4];
    QuantParams xq{0.05f, d.zp}, wq{0.01f, 0}, yq{0.11f, int32_t(5 - i)};
    ++i;
    auto x = rand_i8(s.n * s.c_in * s.h * s.w, rng);
    auto w = rand_i8(s.c_out * s.kh * s.kw, rng, -128, 127);
    std::vector<int32_t> bias(s.c_out);
    std::uniform_int_distribution<int> bd(-3000, 3000);
    for (int32_t& b : bias) b = bd(rng);
    QConv2d k(s, w.data(), bias.data(), xq, wq, yq, act, isa);
    g_used.insert(k.kernel_name());
    std::vector<int8_t> got(s.n * s.c_out * s.out_h() * s.out_w()), want(got.size());
    k.run(x.data(), got.data(), &pool);
    reference::qconv2d(s, x.data(), w.data(), bias.data(), xq, wq, yq, act, want.data());
    const std::string what = " x_zp=" + std::to_string(d.zp) + " threads";
    compare("q" + conv_desc(s, act, isa) + what + " via " + k.kernel_name(), got.data(), want.data(), got.size(),
            0.0, 0.0);
  }
  for (int64_t m : {1, 3, 6})
    for (int64_t n : {1, 7, 16, 33})
      for (int64_t k : {1, 5, 64}) {
        GemmShape s{m, k, n, (m + n) % 2 == 0};
        QuantParams xq{0.02f, -9}, wq{0.03f, 0}, yq{0.07f, 3};
        auto x = rand_i8(m * k, rng), b = rand_i8(k * n, rng, -127, 127);
        std::vector<int32_t> bias(n);
        for (int32_t& v : bias) v = int32_t(rng() % 2001) - 1000;
        QGemm g(s, b.data(), bias.data(), xq, wq, yq, acts[(m + k) % 4], isa);
        g_used.insert(g.kernel_name());
        std::vector<int8_t> got(m * n), want(m * n);
        g.run(x.data(), got.data());
        reference::qgemm(s, x.data(), b.data(), bias.data(), xq, wq, yq, acts[(m + k) % 4], want.data());
        char what[120];
        std::snprintf(what, sizeof what, "qgemm[%s] m%lld k%lld n%lld via %s", isa_name(isa), (long long)m,
                      (long long)k, (long long)n, g.kernel_name().c_str());
        compare(what, got.data(), want.data(), got.size(), 0.0, 0.0);
      }
}

// Every list entry of a tier must have been exercised by the cases above.
template <class E>
void check_coverage(const char* family, netscore::kernels::Table<E> table, Isa isa) {
  for (const E& e : table) {
    if (e.isa != isa) continue;
    ++g_checks;
    if (!g_used.count(e.name)) {
      ++g_failures;
      std::printf("FAIL coverage: %s micro-kernel %s was not exercised by any test case\n", family, e.name);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Isa> isas;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--isa") && i + 1 < argc) {
      Isa isa;
      if (!parse_isa(argv[++i], &isa)) {
        std::printf("unknown ISA tier %s\n", argv[i]);
        return 2;
      }
      isas.push_back(isa);
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      g_seed = uint32_t(std::strtoul(argv[++i], nullptr, 10));
    } else if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
    } else {
      std::printf("usage: %s [--isa scalar|avx2|avx512|neon|neondot]... [--seed N] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if (isas.empty()) isas = supported_isas();
  std::printf("supported tiers:");
  for (Isa isa : supported_isas()) std::printf(" %s", isa_name(isa));
  std::printf("; testing:");
  for (Isa isa : isas) std::printf(" %s", isa_name(isa));
  std::printf("; seed %u\n", g_seed);
  for (Isa isa : isas) {
    try {
      check_isa_supported(isa);
    } catch (const std::exception& e) {
      std::printf("FAIL %s\n", e.what());
      return 1;
    }
    const int before = g_failures, checks_before = g_checks;
    std::mt19937 rng(g_seed);
    g_used.clear();
    test_gemm_tiles(isa, rng);
    test_conv(isa, rng, quick);
    test_gemm(isa, rng);
    test_pool(isa, rng);
    test_elementwise(isa, rng);
    test_quantized(isa, rng);
    const Isa f32isa = isa == Isa::neondot ? Isa::neon : isa;
    check_coverage("f32-gemm", f32_gemm_ukernels(), f32isa);
    check_coverage("f32-gemv", f32_gemv_ukernels(), f32isa);
    check_coverage("f32-igemm", f32_igemm_ukernels(), f32isa);
    check_coverage("f32-dwconv", f32_dwconv_ukernels(), f32isa);
    check_coverage("f32-gconv", f32_gconv_ukernels(), f32isa);
    check_coverage("f32-pool", f32_pool_ukernels(), f32isa);
    check_coverage("f32-gavgpool", f32_gavgpool_ukernels(), f32isa);
    check_coverage("f32-vact", f32_vact_ukernels(), f32isa);
    check_coverage("qs8-gemm", qs8_gemm_ukernels(), isa);
    check_coverage("qs8-dwconv", qs8_dwconv_ukernels(), f32isa);
    std::printf("%-8s %d checks, %d failures\n", isa_name(isa), g_checks - checks_before, g_failures - before);
  }
  std::printf("%s: %d checks, %d failures (seed %u)\n", g_failures ? "FAILED" : "OK", g_checks, g_failures, g_seed);
  return g_failures ? 1 : 0;
}
