// Gemm (fully connected): a weight-streaming GEMV for one row, packed-panel GEMM tiles otherwise.
#include <algorithm>
#include <stdexcept>

#include "kernels/ukernels.h"

namespace netscore::kernels {

struct Gemm::Impl {
  const F32GemvUkernel* gemv = nullptr;
  const F32GemmUkernel* tile = nullptr;
  const F32VactUkernel* vact = nullptr;
  size_t nr = 0, kc = 0;
  std::vector<float> b_packed;  // [n panels][k][NR]
  std::vector<float> bias;      // n values, padded to a whole panel (zeros when absent)
  bool has_bias = false;
  Activation act;
  float lo, hi;
  bool rest;
};

Gemm::Gemm(const GemmShape& shape, const float* b, const float* bias, Activation act, Isa isa)
    : shape_(shape), impl_(new Impl) {
  if (shape.m < 1 || shape.k < 1 || shape.n < 1) throw std::invalid_argument("gemm: sizes must be positive");
  check_isa_supported(isa);
  isa_ = isa;
  Impl& im = *impl_;
  const size_t m = shape.m, k = shape.k, n = shape.n;
  im.act = act;
  activation_clamp(act, &im.lo, &im.hi, &im.rest);
  im.vact = &select_f32_vact(isa);
  if (m == 1) {
    im.gemv = &select_f32_gemv(isa);
    im.nr = im.gemv->nr;
    name_ = im.gemv->name;
  } else {
    im.tile = &select_f32_gemm(isa, int64_t(m), int64_t(n));
    im.nr = im.tile->nr;
    name_ = im.tile->name;
    im.kc = std::max<size_t>(64, (32768 / (im.nr * sizeof(float))) / 8 * 8);
    if (k <= im.kc + im.kc / 2) im.kc = k;
  }
  const size_t nr = im.nr, panels = div_up(n, nr);
  im.b_packed.assign(panels * k * nr, 0.0f);
  for (size_t j = 0; j < n; ++j)
    for (size_t kk = 0; kk < k; ++kk)
      im.b_packed[((j / nr) * k + kk) * nr + j % nr] = shape.trans_b ? b[j * k + kk] : b[kk * n + j];
  im.bias.assign(panels * nr, 0.0f);
  im.has_bias = bias != nullptr;
  if (bias) std::copy(bias, bias + n, im.bias.begin());
  flops_ = 2.0 * double(m) * double(k) * double(n);
  in_elems_ = shape.m * shape.k;
  out_elems_ = shape.m * shape.n;
  bytes_ = 4.0 * double(m * k + k * n + m * n + (bias ? n : 0));
}

Gemm::~Gemm() = default;

void Gemm::run_any(const void* in, void* out, ThreadPool* pool) const {
  run(static_cast<const float*>(in), static_cast<float*>(out), pool);
}

void Gemm::run(const float* x, float* y, ThreadPool* pool) const {
  const Impl& im = *impl_;
  const size_t m = shape_.m, k = shape_.k, n = shape_.n, nr = im.nr, panels = div_up(n, nr);
  const size_t threads = pool ? size_t(pool->num_threads()) : 1;
  if (im.gemv) {
    // Panels in groups so each task streams a few hundred KiB of weights.
    const size_t group = std::max<size_t>(1, std::min(div_up(panels, 4 * threads), div_up(65536, k * nr)));
    const size_t tasks = div_up(panels, group);
    parallel(pool, tasks, [&](int64_t t, int) {
      for (size_t j = t * group; j < std::min(panels, (t + 1) * group); ++j) {
        GemmEpilogue ep = clamp_epilogue(im.has_bias ? &im.bias[j * nr] : nullptr, im.lo, im.hi);
        const size_t nc = std::min(nr, n - j * nr);
        im.gemv->fn(k, nc, x, &im.b_packed[j * k * nr], y + j * nr, &ep);
        if (im.rest) im.vact->fn(nc, y + j * nr, y + j * nr, 0.0f, &im.act);
      }
    });
    return;
  }
  const size_t mr = im.tile->mr, kc = im.kc;
  const size_t m_block = round_up(std::min<size_t>(m, 64), mr);
  const size_t m_blocks = div_up(m, m_block);
  size_t n_group = std::max<size_t>(1, 512 / nr);
  if (threads > 1) n_group = std::min(n_group, std::max<size_t>(1, div_up(panels * m_blocks, 4 * threads) / m_blocks));
  const size_t n_blocks = div_up(panels, n_group);
  parallel(pool, m_blocks * n_blocks, [&](int64_t t, int) {
    const size_t mb = t / n_blocks, nb = t % n_blocks;
    const size_t m0 = mb * m_block, mc = std::min(m_block, m - m0);
    const size_t mpanels = div_up(mc, mr);
    float* ap = scratch_f32(mpanels * mr * kc, 0);
    for (size_t k0 = 0; k0 < k; k0 += kc) {
      const size_t kb = std::min(kc, k - k0);
      // Pack rows [m0, m0+mc) x [k0, k0+kb) of X into MR-row panels (zero rows past m).
      for (size_t p = 0; p < mpanels; ++p)
        for (size_t r = 0; r < mr; ++r) {
          const size_t row = m0 + p * mr + r;
          float* d = ap + p * kb * mr + r;
          if (row < m) {
            const float* src = x + row * k + k0;
            for (size_t kk = 0; kk < kb; ++kk) d[kk * mr] = src[kk];
          } else {
            for (size_t kk = 0; kk < kb; ++kk) d[kk * mr] = 0.0f;
          }
        }
      const int flags = (k0 ? kGemmAccumulate : 0) | (k0 + kb == k ? kGemmLast : 0);
      for (size_t j = nb * n_group; j < std::min(panels, (nb + 1) * n_group); ++j) {
        const size_t nc = std::min(nr, n - j * nr);
        for (size_t p = 0; p < mpanels; ++p) {
          const size_t mrp = std::min(mr, mc - p * mr);
          GemmEpilogue ep = clamp_epilogue(im.has_bias ? &im.bias[j * nr] : nullptr, im.lo, im.hi, 1);
          float* c = y + (m0 + p * mr) * n + j * nr;
          im.tile->fn(mrp, nc, kb, ap + p * kb * mr, &im.b_packed[(j * k + k0) * nr], c, n, flags, &ep);
          if (im.rest && (flags & kGemmLast))
            for (size_t r = 0; r < mrp; ++r) im.vact->fn(nc, c + r * n, c + r * n, 0.0f, &im.act);
        }
      }
    }
  });
}

}  // namespace netscore::kernels
