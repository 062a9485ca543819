// Packed-GEMM convolution driver (see conv_gemm.h).
#include "kernels/conv_gemm.h"

#include <algorithm>
#include <cstring>

namespace netscore::kernels {

namespace {
// Writes a run of `len` columns starting at column `col` of the panel layout, from src (or zeros).
inline void put_run(float* dst, size_t kc, size_t kk, size_t nr, size_t col, size_t len, const float* src) {
  while (len) {
    const size_t j = col / nr, c = col % nr, take = std::min(len, nr - c);
    float* d = dst + (j * kc + kk) * nr + c;
    if (src) {
      std::memcpy(d, src, take * sizeof(float));
      src += take;
    } else {
      std::memset(d, 0, take * sizeof(float));
    }
    col += take;
    len -= take;
  }
}
}  // namespace

void pack_conv_columns(const Conv2dShape& s, const float* x, size_t k0, size_t kc, size_t n0, size_t nc,
                       size_t nr, float* dst) {
  const size_t ow_n = s.out_w(), taps = s.kh * s.kw, hw = s.h * s.w;
  const size_t ncp = round_up(nc, nr);
  const bool pointwise = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 &&
                         s.pad_left == 0 && s.pad_bottom == 0 && s.pad_right == 0;
  float tmp[64];
  for (size_t kk = 0; kk < kc; ++kk) {
    const size_t kidx = k0 + kk, ci = kidx / taps, t = kidx % taps, ky = t / s.kw, kx = t % s.kw;
    const float* xc = x + ci * hw;
    if (pointwise) {
      put_run(dst, kc, kk, nr, 0, nc, xc + n0);
    } else {
      size_t col = 0, oh = n0 / ow_n, ow = n0 % ow_n;
      while (col < nc) {
        const size_t run = std::min(ow_n - ow, nc - col);
        const ptrdiff_t ih = ptrdiff_t(oh * s.stride_h + ky * s.dil_h) - ptrdiff_t(s.pad_top);
        if (ih < 0 || ih >= ptrdiff_t(s.h)) {
          put_run(dst, kc, kk, nr, col, run, nullptr);
        } else {
          const float* row = xc + size_t(ih) * s.w;
          const ptrdiff_t iw0 = ptrdiff_t(ow * s.stride_w + kx * s.dil_w) - ptrdiff_t(s.pad_left);
          if (s.stride_w == 1) {
            // Columns [ow, ow+run) read iw0 .. iw0+run-1: zeros, a contiguous copy, zeros.
            const ptrdiff_t lo = std::clamp<ptrdiff_t>(-iw0, 0, ptrdiff_t(run));
            const ptrdiff_t hi = std::clamp<ptrdiff_t>(ptrdiff_t(s.w) - iw0, lo, ptrdiff_t(run));
            if (lo) put_run(dst, kc, kk, nr, col, size_t(lo), nullptr);
            if (hi > lo) put_run(dst, kc, kk, nr, col + lo, size_t(hi - lo), row + iw0 + lo);
            if (ptrdiff_t(run) > hi) put_run(dst, kc, kk, nr, col + hi, size_t(ptrdiff_t(run) - hi), nullptr);
          } else {
            for (size_t done = 0; done < run;) {
              const size_t take = std::min<size_t>(64, run - done);
              for (size_t i = 0; i < take; ++i) {
                const ptrdiff_t iw = iw0 + ptrdiff_t((done + i) * s.stride_w);
                tmp[i] = (iw >= 0 && iw < ptrdiff_t(s.w)) ? row[iw] : 0.0f;
              }
              put_run(dst, kc, kk, nr, col + done, take, tmp);
              done += take;
            }
          }
        }
        col += run;
        ow = 0;
        ++oh;
      }
    }
    if (ncp > nc) put_run(dst, kc, kk, nr, nc, ncp - nc, nullptr);
  }
}

void ConvGemm::init(const Conv2dShape& shape, const float* weights, const float* b, Isa isa, float lo_, float hi_) {
  s = shape;
  lo = lo_;
  hi = hi_;
  m = s.c_out / s.group;
  k = (s.c_in / s.group) * s.kh * s.kw;
  n = s.out_h() * s.out_w();
  ukernel = &select_f32_gemm(isa, int64_t(m));
  const size_t mr = ukernel->mr, nr = ukernel->nr;
  // K block: keep one kc x NR panel of B around 32 KiB so it stays close to L1 while A streams.
  kc = std::max<size_t>(64, (32768 / (nr * sizeof(float))) / 8 * 8);
  if (k <= kc + kc / 2) kc = k;
  const size_t panels = div_up(m, mr);
  a_packed.assign(s.group * panels * k * mr, 0.0f);
  for (int64_t g = 0; g < s.group; ++g)
    for (size_t p = 0; p < panels; ++p) {
      float* d = &a_packed[(g * panels + p) * k * mr];
      for (size_t r = 0; r < mr && p * mr + r < m; ++r) {
        const float* w = weights + (g * m + p * mr + r) * k;
        for (size_t kk = 0; kk < k; ++kk) d[kk * mr + r] = w[kk];
      }
    }
  bias.assign(s.c_out, 0.0f);
  if (b) std::copy(b, b + s.c_out, bias.begin());
}

void ConvGemm::run(const float* in, float* out, ThreadPool* pool, const Activation* rest_act,
                   const F32VactUkernel* vact) const {
  const size_t mr = ukernel->mr, nr = ukernel->nr, panels = div_up(m, mr);
  const size_t threads = pool ? size_t(pool->num_threads()) : 1;
  const size_t images = size_t(s.n * s.group);
  // Column blocks: up to 512 columns, but enough blocks to keep every thread busy.
  size_t nc_block = round_up(std::min<size_t>(n, 512), nr);
  if (threads > 1) {
    const size_t want = 4 * threads;
    const size_t per_image = div_up(want, images);
    nc_block = std::min(nc_block, std::max(nr, round_up(div_up(n, per_image), nr)));
  }
  const size_t blocks = div_up(n, nc_block);
  const size_t cin_g = s.c_in / s.group, hw = s.h * s.w;
  parallel(pool, images * blocks, [&](int64_t task, int) {
    const size_t img = task / blocks, blk = task % blocks;
    const size_t b = img / s.group, g = img % s.group;
    const size_t n0 = blk * nc_block, nc = std::min(nc_block, n - n0);
    const float* x = in + (b * s.c_in + g * cin_g) * hw;
    float* y = out + (b * s.c_out + g * m) * n;
    float* bp = scratch_f32(kc * round_up(nc_block, nr), 0);
    const float* ap = &a_packed[g * panels * k * mr];
    for (size_t k0 = 0; k0 < k; k0 += kc) {
      const size_t kb = std::min(kc, k - k0);
      pack_conv_columns(s, x, k0, kb, n0, nc, nr, bp);
      const int flags = (k0 ? kGemmAccumulate : 0) | (k0 + kb == k ? kGemmLast : 0);
      for (size_t j = 0; j * nr < nc; ++j) {
        const size_t ncj = std::min(nr, nc - j * nr);
        for (size_t p = 0; p < panels; ++p) {
          const size_t m0 = p * mr, mrp = std::min(mr, m - m0);
          GemmEpilogue ep;
          ep.bias = &bias[g * m + m0];
          ep.min = lo;
          ep.max = hi;
          float* c = y + m0 * n + n0 + j * nr;
          ukernel->fn(mrp, ncj, kb, ap + p * k * mr + k0 * mr, bp + j * kb * nr, c, n, flags, &ep);
          if (rest_act && (flags & kGemmLast))
            for (size_t r = 0; r < mrp; ++r) vact->fn(ncj, c + r * n, c + r * n, 0.0f, rest_act);
        }
      }
    }
  });
}

}  // namespace netscore::kernels
