// Packed-GEMM convolution driver (see conv_gemm.h).
#include "kernels/conv_gemm.h"

#include <algorithm>
#include <cstring>

namespace netscore::kernels {

// One thread: blocks of up to 512 columns (whole NR panels). More threads: about two blocks per thread over
// all images, as wide as a block's scratch (`floats_per_col` floats per column) fits in 1 MiB, with the NR
// panels dealt out evenly (block sizes differ by at most one panel) so the workers finish together. Measured
// on two cores, two wide blocks per thread scale better than four or more narrow ones (fewer passes over
// the packed weights per column, longer streams for the prefetcher).
ColumnBlocks column_blocks(size_t cols, size_t nr, size_t images, size_t threads, size_t floats_per_col) {
  ColumnBlocks cb;
  cb.nr = nr;
  cb.panels = div_up(cols, nr);
  if (threads <= 1) {
    cb.per_block = round_up(std::min<size_t>(cols, 512), nr) / nr;
    cb.blocks = div_up(cb.panels, cb.per_block);
    cb.even = false;
    cb.max_cols = cb.per_block * nr;
    return cb;
  }
  const size_t cap_panels = std::max<size_t>(1, (size_t(1) << 20) / (sizeof(float) * floats_per_col * nr));
  size_t blocks = std::max(div_up(cb.panels, cap_panels), div_up(2 * threads, images));
  if (images < threads) blocks = round_up(blocks, threads);
  cb.blocks = std::min(blocks, cb.panels);
  cb.even = true;
  cb.max_cols = div_up(cb.panels, cb.blocks) * nr;
  return cb;
}

// K block such that a kc x `cols` panel of floats takes about `bytes` (at least 64, a multiple of 8); a K up
// to half as long again is taken whole.
static size_t k_block(size_t k, size_t cols, size_t bytes) {
  const size_t kc = std::max<size_t>(64, (bytes / (cols * sizeof(float))) / 8 * 8);
  return k <= kc + kc / 2 ? k : kc;
}

void ConvGemm::init(const Conv2dShape& shape, const float* weights, const float* b, Isa isa, float lo_, float hi_) {
  s = shape;
  lo = lo_;
  hi = hi_;
  m = s.c_out / s.group;
  k = (s.c_in / s.group) * s.kh * s.kw;
  n = s.out_h() * s.out_w();
  ukernel = &select_f32_gemm(isa, int64_t(m), int64_t(n));
  im2col = &select_f32_im2col(isa);
  igemm = select_f32_igemm(*ukernel);
  if (uses_igemm()) {
    // The indirect GEMM computes out_h rows of the padded width: judge the tiles by those columns.
    const size_t nq = s.out_h() * (s.w + s.pad_left + s.pad_right);
    const F32GemmUkernel* t = &select_f32_gemm(isa, int64_t(m), int64_t(nq));
    if (const F32IgemmUkernel* it = select_f32_igemm(*t)) {
      ukernel = t;
      igemm = it;
    }
  }
  // Pixel-major for small maps, except where the indirect GEMM runs without packing (3x3 512->512 on 7x7:
  // 1.75 ms indirect, 1.83 ms pixel-major with its im2col; 1x1 and strided convolutions gain 4-14%).
  const F32GemmUkernel* t = uses_igemm() ? nullptr : select_f32_gemm_pixel_major(isa, int64_t(m), int64_t(n), int64_t(n));
  if (t) {
    pixel_major = true;
    ukernel = t;
    igemm = nullptr;
    // K block: one kc x NR weight panel stays in L1 (16 KiB) while the pixel panels stream from L2.
    kc = k_block(k, t->nr, 16384);
    pack_weights(weights, b, t->nr);
    return;
  }
  // K block: keep one kc x NR panel of B around 32 KiB so it stays close to L1 while A streams.
  kc = k_block(k, ukernel->nr, 32768);
  pack_weights(weights, b, ukernel->mr);
}

void ConvGemm::pack_weights(const float* weights, const float* b, size_t width) {
  const size_t panels = div_up(m, width);
  a_packed.assign(s.group * panels * k * width, 0.0f);
  for (int64_t g = 0; g < s.group; ++g)
    for (size_t p = 0; p < panels; ++p) {
      float* d = &a_packed[(g * panels + p) * k * width];
      for (size_t j = 0; j < width && p * width + j < m; ++j) {
        const float* w = weights + (g * m + p * width + j) * k;
        for (size_t kk = 0; kk < k; ++kk) d[kk * width + j] = w[kk];
      }
    }
  // `width` zeros past the end: the pixel-major tile loads a whole NR-wide row of biases, also for the last,
  // partial panel of the last group (lanes past the real channels are never stored).
  bias.assign(s.c_out + width, 0.0f);
  if (b) std::copy(b, b + s.c_out, bias.begin());
}

// Stride-1 convolutions run on a zero-padded copy of the input: over the padded width Wp, column q of the
// im2col matrix at row (ci, ky, kx) is xpad[ci][q + ky*dh*Wp + kx*dw], so the indirect GEMM tile reads B
// rows in place through an offset table and nothing is packed. The GEMM computes Wp - out_w extra columns
// per output row, dropped when the block is stored.
void ConvGemm::run(const float* in, float* out, ThreadPool* pool, const ConvOutput& o) const {
  const Activation* rest_act = o.rest;
  const F32VactUkernel* vact = o.vact;
  const size_t mr = ukernel->mr, nr = ukernel->nr, panels = div_up(m, mr);
  const size_t threads = pool ? size_t(pool->num_threads()) : 1;
  const size_t images = size_t(s.n * s.group);
  if (pixel_major) {
    run_pixel_major(in, out, pool, o);
    return;
  }
  if (uses_igemm()) {
    run_padded(in, out, pool, o);
    return;
  }
  const ColumnBlocks cb = column_blocks(n, nr, images, threads, std::max(kc, round_up(m, mr)));
  const size_t blocks = cb.blocks, nc_block = cb.max_cols;
  const size_t cin_g = s.c_in / s.group, hw = s.h * s.w;
  // Tile order within a column block. Column panels outermost keeps one packed B panel in L1 while every
  // row panel of A passes over it, but the tiles then store into all m output rows at once. With two
  // threads, each thread streaming m rows of output slowed the cheap single-K-block GEMMs of wide 1x1
  // convolutions (pointwise 32->64 @112x112: 0.24 ms, 1.66x one thread); row panels outermost (B re-read
  // from L2 per row panel, stores in MR-row streams) gives 0.21 ms, 1.9-2.0x (24->144 @56x56: 0.14 ->
  // 0.10 ms). Several K blocks (512->128, 3x3 s2) or fewer than 8 row panels measured 2-9% slower that way,
  // and one thread kept its speed either way on the shapes that matter, so it stays on the old order.
  const bool rows_outer = threads > 1 && kc >= k && panels >= 8;
  parallel(pool, images * blocks, [&](int64_t task, int) {
    const size_t img = task / blocks, blk = task % blocks;
    const size_t b = img / s.group, g = img % s.group;
    const size_t n0 = cb.first(blk), nc = std::min(n, cb.first(blk + 1)) - n0;
    const float* x = in + (b * s.c_in + g * cin_g) * hw;
    float* y = out + (b * s.c_out + g * m) * n;
    const float* res = o.residual ? o.residual + (b * s.c_out + g * m) * n : nullptr;
    float* bp = scratch_f32(kc * round_up(nc_block, nr), 0);
    const float* ap = &a_packed[g * panels * k * mr];
    const size_t col_panels = div_up(nc, nr), tiles = col_panels * panels;
    for (size_t k0 = 0; k0 < k; k0 += kc) {
      const size_t kb = std::min(kc, k - k0);
      im2col->fn(&s, x, k0, kb, n0, nc, nr, bp);
      const int flags = (k0 ? kGemmAccumulate : 0) | (k0 + kb == k ? kGemmLast : 0);
      for (size_t t = 0; t < tiles; ++t) {
        const size_t j = rows_outer ? t % col_panels : t / panels, p = rows_outer ? t / col_panels : t % panels;
        const size_t ncj = std::min(nr, nc - j * nr);
        {
          const size_t m0 = p * mr, mrp = std::min(mr, m - m0);
          GemmEpilogue ep = clamp_epilogue(&bias[g * m + m0], lo, hi);
          if (res) {
            ep.residual = res + m0 * n + n0 + j * nr;
            ep.ld_residual = n;
          }
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

namespace netscore::kernels {

void ConvGemm::run_padded(const float* in, float* out, ThreadPool* pool, const ConvOutput& o) const {
  // The tile lives on the padded width, so a residual is added when the real columns are copied out, and
  // the whole activation follows it there (the tile itself then stores unclamped sums).
  const bool res_pass = o.residual != nullptr;
  const Activation* rest_act = res_pass ? (o.act->kind == Activation::none ? nullptr : o.act) : o.rest;
  const F32VactUkernel* vact = o.vact;
  const size_t mr = ukernel->mr, nr = ukernel->nr, panels = div_up(m, mr);
  const size_t threads = pool ? size_t(pool->num_threads()) : 1;
  const size_t images = size_t(s.n * s.group), cin_g = s.c_in / s.group;
  const size_t oh = s.out_h(), ow = s.out_w(), wp = s.w + s.pad_left + s.pad_right;
  const size_t hp = s.h + s.pad_top + s.pad_bottom;
  // Slack past the image: vector loads of the last column block may run up to NR floats beyond it.
  const size_t plane = round_up(hp * wp + (s.kw - 1) * s.dil_w + nr + 16, 16);
  const size_t nq = oh * wp;  // GEMM columns over the padded width
  // 1. Padded copies of all input channels, shared by every column block of an image.
  float* xpad = scratch_f32(images * cin_g * plane, 3);
  parallel(pool, images * cin_g, [&](int64_t t, int) {
    const size_t img = t / cin_g, ci = t % cin_g, b = img / s.group, g = img % s.group;
    const float* src = in + ((b * s.c_in) + g * cin_g + ci) * s.h * s.w;
    build_phase_planes(src, s.h, s.w, s.pad_top, s.pad_left, hp, 1, wp, 0.0f, xpad + t * plane);
    std::fill(xpad + t * plane + hp * wp, xpad + (t + 1) * plane, 0.0f);
  });
  // 2. Row offsets of the k rows.
  std::vector<size_t> koff(k);
  for (size_t kk = 0; kk < k; ++kk) {
    const size_t ci = kk / (s.kh * s.kw), t = kk % (s.kh * s.kw);
    koff[kk] = ci * plane + (t / s.kw) * s.dil_h * wp + (t % s.kw) * s.dil_w;
  }
  const ColumnBlocks cb = column_blocks(nq, nr, images, threads, std::max(kc, round_up(m, mr)));
  const size_t blocks = cb.blocks, nc_block = cb.max_cols;
  parallel(pool, images * blocks, [&](int64_t task, int) {
    const size_t img = task / blocks, blk = task % blocks, b = img / s.group, g = img % s.group;
    const size_t q0 = cb.first(blk), nc = std::min(nq, cb.first(blk + 1)) - q0;
    const float* xi = xpad + img * cin_g * plane;
    float* y = out + (b * s.c_out + g * m) * oh * ow;
    const float* res = res_pass ? o.residual + (b * s.c_out + g * m) * oh * ow : nullptr;
    float* ct = scratch_f32(round_up(m, mr) * nc_block, 1);  // C block over the padded width
    const float* ap = &a_packed[g * panels * k * mr];
    for (size_t k0 = 0; k0 < k; k0 += kc) {
      const size_t kb = std::min(kc, k - k0);
      const int flags = (k0 ? kGemmAccumulate : 0) | (k0 + kb == k ? kGemmLast : 0);
      for (size_t j = 0; j * nr < nc; ++j) {
        const size_t ncj = std::min(nr, nc - j * nr);
        for (size_t p = 0; p < panels; ++p) {
          const size_t m0 = p * mr, mrp = std::min(mr, m - m0);
          // A residual pass clamps afterwards, once the residual is added.
          GemmEpilogue ep = res_pass ? clamp_epilogue(&bias[g * m + m0], -__builtin_inff(), __builtin_inff())
                                     : clamp_epilogue(&bias[g * m + m0], lo, hi);
          igemm->fn(mrp, ncj, kb, ap + p * k * mr + k0 * mr, xi + q0 + j * nr, koff.data() + k0,
                    ct + m0 * nc_block + j * nr, nc_block, flags, &ep);
        }
      }
    }
    // 3. Keep the columns that are real outputs.
    for (size_t r = 0; r < m; ++r) {
      const float* c = ct + r * nc_block;
      float* yr = y + r * oh * ow;
      const float* rr = res ? res + r * oh * ow : nullptr;
      for (size_t q = q0; q < q0 + nc;) {
        const size_t row = q / wp, col = q % wp;
        const size_t end = std::min(q0 + nc, (row + 1) * wp);
        if (col < ow) {
          const size_t len = std::min(ow, col + (end - q)) - col;
          if (rr)
            o.vadd->fn(len, c + (q - q0), rr + row * ow + col, yr + row * ow + col);
          else
            std::copy(c + (q - q0), c + (q - q0) + len, yr + row * ow + col);
          if (rest_act) vact->fn(len, yr + row * ow + col, yr + row * ow + col, 0.0f, rest_act);
        }
        q = end;
      }
    }
  });
}

}  // namespace netscore::kernels

namespace netscore::kernels {

void ConvGemm::run_pixel_major(const float* in, float* out, ThreadPool* pool, const ConvOutput& o) const {
  const size_t MR = ukernel->mr, NR = ukernel->nr;
  const size_t ppanels = div_up(n, MR), qpanels = div_up(m, NR), np = ppanels * MR;
  const size_t threads = pool ? size_t(pool->num_threads()) : 1;
  const size_t images = size_t(s.n * s.group), cin_g = s.c_in / s.group, hw = s.h * s.w;
  // 1. Each image's im2col matrix as MR-pixel panels over all of K (k groups of MR floats, zero-padded).
  float* ap = scratch_f32(images * ppanels * k * MR, 3);
  const size_t pchunks = threads > 1 ? std::min(ppanels, 2 * threads) : 1;
  parallel(pool, images * pchunks, [&](int64_t t, int) {
    const size_t img = t / pchunks, ch = t % pchunks, b = img / s.group, g = img % s.group;
    const size_t p0 = ch * ppanels / pchunks, p1 = (ch + 1) * ppanels / pchunks;
    if (p0 == p1) return;
    im2col->fn(&s, in + (b * s.c_in + g * cin_g) * hw, 0, k, p0 * MR, std::min(n, p1 * MR) - p0 * MR, MR,
               ap + (img * ppanels + p0) * k * MR);
  });
  // 2. Per image, channel panels dealt out to threads. For one panel, C (np pixels x NR channels) builds up
  // in a small buffer over the K blocks; then it is transposed into the output with the residual and the
  // activation.
  const size_t qchunks = threads > 1 ? std::min(qpanels, div_up(2 * threads, images)) : 1;
  parallel(pool, images * qchunks, [&](int64_t task, int) {
    const size_t img = task / qchunks, ch = task % qchunks, b = img / s.group, g = img % s.group;
    const size_t q0 = ch * qpanels / qchunks, q1 = (ch + 1) * qpanels / qchunks;
    float* y = out + (b * s.c_out + g * m) * n;
    const float* res = o.residual ? o.residual + (b * s.c_out + g * m) * n : nullptr;
    const float* api = ap + img * ppanels * k * MR;
    float* ct = scratch_f32(np * NR, 1);
    for (size_t q = q0; q < q1; ++q) {
      const size_t c0 = q * NR, ncq = std::min(NR, m - c0);
      const float* bq = &a_packed[(g * qpanels + q) * k * NR];
      GemmEpilogue ep;
      ep.bias = &bias[g * m + c0];
      ep.bias_per_col = 1;
      for (size_t k0 = 0; k0 < k; k0 += kc) {
        const size_t kb = std::min(kc, k - k0);
        const int flags = k0 ? kGemmAccumulate : 0;
        for (size_t p = 0; p < ppanels; ++p)
          ukernel->fn(MR, NR, kb, api + p * k * MR + k0 * MR, bq + k0 * NR, ct + p * MR * NR, NR, flags, &ep);
      }
      for (size_t j = 0; j < ncq; ++j) {
        float* yr = y + (c0 + j) * n;
        const float* rr = res ? res + (c0 + j) * n : nullptr;
        for (size_t px = 0; px < n; ++px) {
          float v = ct[px * NR + j];
          if (rr) v += rr[px];
          yr[px] = std::min(std::max(v, lo), hi);
        }
        if (o.rest) o.vact->fn(n, yr, yr, 0.0f, o.rest);
      }
    }
  });
}

}  // namespace netscore::kernels
