// QConv2d and QGemm: int8 operands, int32 accumulation, per-tensor fp32 requantisation to int8.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "kernels/ukernels.h"

namespace netscore::kernels {

namespace {

struct Requant {
  float scale;
  int32_t zp, lo, hi;
};

Requant make_requant(QuantParams x, QuantParams w, QuantParams y, Activation act) {
  if (w.zero_point != 0) throw std::invalid_argument("int8 kernels: weights must be symmetric (zero_point 0)");
  if (!(x.scale > 0) || !(w.scale > 0) || !(y.scale > 0)) throw std::invalid_argument("int8 kernels: scales must be > 0");
  if (x.zero_point < -128 || x.zero_point > 127 || y.zero_point < -128 || y.zero_point > 127)
    throw std::invalid_argument("int8 kernels: zero points must fit int8");
  Requant r;
  r.scale = float(double(x.scale) * double(w.scale) / double(y.scale));
  r.zp = y.zero_point;
  r.lo = -128;
  r.hi = 127;
  auto q = [&](float v) { return int32_t(std::nearbyint(v / y.scale)) + y.zero_point; };
  switch (act.kind) {
    case Activation::none: break;
    case Activation::relu: r.lo = std::max(r.lo, y.zero_point); break;
    case Activation::relu6: r.lo = std::max(r.lo, y.zero_point); r.hi = std::min(r.hi, q(6.0f)); break;
    case Activation::clip: r.lo = std::max(r.lo, q(act.min)); r.hi = std::min(r.hi, q(act.max)); break;
    default: throw std::invalid_argument("int8 kernels: only none, relu, relu6 and clip can be fused");
  }
  if (r.lo > r.hi) r.lo = r.hi;
  return r;
}

// Pack rows of a row-major int8 matrix (rows x k) into MR-row panels, k in groups of 4 (zero-padded).
void pack_rows_k4(const int8_t* src, size_t rows, size_t k, size_t ld, size_t mr, int8_t* dst) {
  const size_t k4 = round_up(k, 4), panels = div_up(rows, mr);
  std::memset(dst, 0, panels * mr * k4);
  for (size_t r = 0; r < rows; ++r) {
    int8_t* d = dst + (r / mr) * mr * k4 + (r % mr) * 4;
    const int8_t* s = src + r * ld;
    for (size_t kk = 0; kk < k; ++kk) d[(kk / 4) * mr * 4 + kk % 4] = s[kk];
  }
}

}  // namespace

// ---------------------------------------------------------------- QConv2d
struct QConv2d::Impl {
  bool depthwise = false;
  Requant rq;
  int32_t x_zp = 0;
  const Qs8GemmUkernel* gemm = nullptr;
  const Qs8DwconvUkernel* dw = nullptr;
  const Qs8RequantUkernel* requant = nullptr;
  size_t m = 0, k = 0, k4 = 0, n = 0;
  // gemm: k in the order (tap, input channel) with the channels of each tap padded to cin4 (a multiple of 4),
  // so that every k group of 4 is 4 adjacent channels of one pixel of a channels-last copy of the input.
  size_t cin4 = 0;
  std::vector<int8_t> a_packed;     // gemm: [group][panels][k4/4][MR][4]
  // depthwise (see Qs8DwconvArgs): padded rows split into stride_h phases of dw_rows rows of dw_row_stride
  // int16 (dw_phase_stride apart), a flat output grid of out_h x dw_out_stride, tap pairs at dw_off.
  size_t dw_rows = 0, dw_row_stride = 0, dw_phase_stride = 0, dw_out_stride = 0, dw_count = 0;
  std::vector<size_t> dw_off;       // per tap pair
  std::vector<int32_t> dw_w;        // [c][pair]: two int16 weights
  std::vector<int32_t> bias_eff;    // per output channel: bias - x_zp * sum(w) (gemm) or bias (depthwise)
};

QConv2d::QConv2d(const Conv2dShape& s, const int8_t* weights, const int32_t* bias, QuantParams x, QuantParams w,
                 QuantParams y, Activation act, Isa isa)
    : shape_(s), impl_(new Impl) {
  if (s.n < 1 || s.c_in < 1 || s.h < 1 || s.w < 1 || s.c_out < 1 || s.kh < 1 || s.kw < 1 || s.stride_h < 1 ||
      s.stride_w < 1 || s.dil_h < 1 || s.dil_w < 1 || s.group < 1 || s.c_in % s.group || s.c_out % s.group ||
      s.pad_top < 0 || s.pad_left < 0 || s.pad_bottom < 0 || s.pad_right < 0 || s.out_h() < 1 || s.out_w() < 1)
    throw std::invalid_argument("qconv2d: invalid shape");
  check_isa_supported(isa);
  isa_ = isa;
  Impl& im = *impl_;
  im.rq = make_requant(x, w, y, act);
  im.x_zp = x.zero_point;
  im.requant = &select_qs8_requant(isa);
  const size_t cin_g = s.c_in / s.group, taps = s.kh * s.kw;
  im.m = s.c_out / s.group;
  im.k = cin_g * taps;
  im.k4 = round_up(im.k, 4);
  im.n = s.out_h() * s.out_w();
  im.bias_eff.assign(s.c_out, 0);
  if (s.depthwise()) {
    im.depthwise = true;
    im.dw = &select_qs8_dwconv(isa);
    const size_t sh = s.stride_h, sw = s.stride_w, dh = s.dil_h, dw = s.dil_w, kh = s.kh, kw = s.kw;
    const size_t rows = (s.out_h() - 1) * sh + (kh - 1) * dh + 1, cols = (s.out_w() - 1) * sw + (kw - 1) * dw + 1;
    // Output column c of the flat grid reads padded column sw * c + kx * dw: rows of sw * out_stride columns.
    im.dw_out_stride = div_up(cols, sw);
    im.dw_row_stride = sw * im.dw_out_stride;
    im.dw_rows = div_up(rows, sh);
    im.dw_count = size_t(s.out_h()) * im.dw_out_stride;
    // Tap pairs: (kx, kx + 1) of one kernel row when undilated, else a lone tap with weight 0 for the second.
    struct Pair { size_t ky, kx; bool two; };
    std::vector<Pair> pairs;
    for (size_t ky = 0; ky < kh; ++ky)
      for (size_t kx = 0; kx < kw; kx += (dw == 1 && kx + 1 < kw) ? 2 : 1)
        pairs.push_back({ky, kx, dw == 1 && kx + 1 < kw});
    size_t max_off = 0;  // within a phase
    for (const Pair& pr : pairs) max_off = std::max(max_off, (pr.ky * dh / sh) * im.dw_row_stride + pr.kx * dw);
    // Each phase readable up to the last pair of the last step past dw_count.
    im.dw_phase_stride = round_up(
        std::max(im.dw_rows * im.dw_row_stride, sw * round_up(im.dw_count, kQs8DwconvStep) + max_off + 2), 32);
    for (const Pair& pr : pairs)
      im.dw_off.push_back((pr.ky * dh % sh) * im.dw_phase_stride + (pr.ky * dh / sh) * im.dw_row_stride + pr.kx * dw);
    im.dw_w.resize(s.c_out * pairs.size());
    for (int64_t c = 0; c < s.c_out; ++c)
      for (size_t t = 0; t < pairs.size(); ++t) {
        const int8_t* wc = weights + c * taps + pairs[t].ky * kw + pairs[t].kx;
        const uint32_t lo = uint16_t(int16_t(wc[0])), hi = pairs[t].two ? uint16_t(int16_t(wc[1])) : 0u;
        im.dw_w[c * pairs.size() + t] = int32_t(lo | (hi << 16));
      }
    for (int64_t c = 0; c < s.c_out; ++c) im.bias_eff[c] = bias ? bias[c] : 0;
    name_ = im.dw->name;
  } else {
    im.gemm = &select_qs8_gemm(isa);
    const size_t mr = im.gemm->mr, panels = div_up(im.m, mr);
    im.cin4 = round_up(cin_g, 4);
    im.k4 = taps * im.cin4;
    im.a_packed.assign(s.group * panels * mr * im.k4, 0);
    std::vector<int8_t> wt(im.m * im.k4);  // one group's weights in (tap, padded channel) order
    for (int64_t g = 0; g < s.group; ++g) {
      std::fill(wt.begin(), wt.end(), int8_t(0));
      for (size_t r = 0; r < im.m; ++r)
        for (size_t t = 0; t < taps; ++t)
          for (size_t ci = 0; ci < cin_g; ++ci)
            wt[r * im.k4 + t * im.cin4 + ci] = weights[(g * im.m + r) * im.k + ci * taps + t];
      pack_rows_k4(wt.data(), im.m, im.k4, im.k4, mr, &im.a_packed[g * panels * mr * im.k4]);
    }
    for (int64_t oc = 0; oc < s.c_out; ++oc) {
      int32_t sum = 0;
      for (size_t kk = 0; kk < im.k; ++kk) sum += weights[oc * im.k + kk];
      im.bias_eff[oc] = (bias ? bias[oc] : 0) - x.zero_point * sum;
    }
    name_ = im.gemm->name;
  }
  elem_size_ = 1;
  flops_ = 2.0 * double(s.macs());
  in_elems_ = s.n * s.c_in * s.h * s.w;
  out_elems_ = s.n * s.c_out * s.out_h() * s.out_w();
  bytes_ = double(in_elems_ + out_elems_ + s.c_out * im.k) + 4.0 * double(bias ? s.c_out : 0);
}

QConv2d::~QConv2d() = default;

void QConv2d::run_any(const void* in, void* out, ThreadPool* pool) const {
  run(static_cast<const int8_t*>(in), static_cast<int8_t*>(out), pool);
}

void QConv2d::run(const int8_t* in, int8_t* out, ThreadPool* pool) const {
  const Conv2dShape& s = shape_;
  const Impl& im = *impl_;
  const size_t oh = s.out_h(), ow = s.out_w(), n_cols = im.n, hw = s.h * s.w;
  const Requant& rq = im.rq;
  if (im.depthwise) {
    const size_t sh = s.stride_h, c_n = s.c_in, count_r = round_up(im.dw_count, kQs8DwconvStep);
    const size_t threads = pool ? size_t(pool->num_threads()) : 1;
    const size_t block = div_up(c_n, threads > 1 ? div_up(4 * threads, s.n) : 1), blocks = div_up(c_n, block);
    parallel(pool, s.n * blocks, [&](int64_t task, int) {
      const size_t b = task / blocks, c0 = (task % blocks) * block, cn = std::min(block, c_n - c0);
      Qs8DwconvArgs a{in + (b * c_n + c0) * hw, cn, size_t(s.h), size_t(s.w), size_t(s.pad_top), size_t(s.pad_left),
                      im.x_zp,
                      static_cast<int16_t*>(scratch_bytes(sh * im.dw_phase_stride * sizeof(int16_t), 0)), sh,
                      im.dw_rows, im.dw_row_stride, im.dw_phase_stride,
                      size_t(s.stride_w), im.dw_off.size(), im.dw_off.data(), &im.dw_w[c0 * im.dw_off.size()],
                      im.dw_count, static_cast<int32_t*>(scratch_bytes(count_r * sizeof(int32_t), 1)),
                      static_cast<int8_t*>(scratch_bytes(count_r, 2)), oh, ow, im.dw_out_stride,
                      &im.bias_eff[c0], rq.scale, rq.zp, rq.lo, rq.hi, out + (b * c_n + c0) * n_cols};
      im.dw->fn(&a);
    });
    return;
  }
  const size_t mr = im.gemm->mr, nr = im.gemm->nr, m = im.m, k4 = im.k4, panels = div_up(m, mr);
  const size_t cin_g = s.c_in / s.group, c4 = im.cin4, groups4 = c4 / 4;
  const size_t threads = pool ? size_t(pool->num_threads()) : 1;
  const size_t images = s.n * s.group;
  // Channels-last copy of every (image, group): the padded rows x cols pixels the windows read, c4 int8 each,
  // the input zero point (real zero) in the padding and the padded channels.
  const size_t rows = (oh - 1) * s.stride_h + (s.kh - 1) * s.dil_h + 1;
  const size_t cols = (ow - 1) * s.stride_w + (s.kw - 1) * s.dil_w + 1, image_bytes = rows * cols * c4;
  int8_t* xt = static_cast<int8_t*>(scratch_bytes(images * image_bytes, 3));
  parallel(pool, images, [&](int64_t img, int) {
    const size_t b = img / s.group, g = img % s.group;
    int8_t* d = xt + img * image_bytes;
    std::memset(d, im.x_zp, image_bytes);
    const size_t r0 = s.pad_top, c0 = s.pad_left;
    const size_t ih_end = std::min<size_t>(s.h, rows > r0 ? rows - r0 : 0);
    const size_t iw_end = std::min<size_t>(s.w, cols > c0 ? cols - c0 : 0);
    for (size_t ci = 0; ci < cin_g; ++ci) {
      const int8_t* x = in + (b * s.c_in + g * cin_g + ci) * hw;
      for (size_t ih = 0; ih < ih_end; ++ih) {
        int8_t* __restrict o = d + ((ih + r0) * cols + c0) * c4 + ci;
        const int8_t* __restrict xr = x + ih * s.w;
        for (size_t iw = 0; iw < iw_end; ++iw) o[iw * c4] = xr[iw];
      }
    }
  });
  size_t nc_block = round_up(std::min<size_t>(n_cols, 256), nr);
  if (threads > 1)
    nc_block = std::min(nc_block, std::max(nr, round_up(div_up(n_cols, div_up(4 * threads, images)), nr)));
  const size_t blocks = div_up(n_cols, nc_block);
  parallel(pool, images * blocks, [&](int64_t task, int) {
    const size_t img = task / blocks, blk = task % blocks, b = img / s.group, g = img % s.group;
    const size_t n0 = blk * nc_block, nc = std::min(nc_block, n_cols - n0);
    const int8_t* x = xt + img * image_bytes;
    int8_t* bp = static_cast<int8_t*>(scratch_bytes(round_up(nc_block, nr) * k4, 0));
    int32_t* acc = static_cast<int32_t*>(scratch_bytes(mr * nr * sizeof(int32_t), 1));
    // Implicit im2col into NR-column panels: each k group is one 4-byte word of the channels-last copy.
    // Columns past nc in the last panel keep stale bytes; their results are never stored.
    size_t oy = n0 / ow, ox = n0 % ow;
    for (size_t col = 0; col < nc; ++col) {
      int8_t* d = bp + (col / nr) * nr * k4 + (col % nr) * 4;
      size_t t = 0;
      for (size_t ky = 0; ky < size_t(s.kh); ++ky) {
        const int8_t* row = x + (oy * s.stride_h + ky * s.dil_h) * cols * c4;
        for (size_t kx = 0; kx < size_t(s.kw); ++kx, ++t) {
          const int8_t* src = row + (ox * s.stride_w + kx * s.dil_w) * c4;
          int8_t* dt = d + t * groups4 * nr * 4;
          for (size_t q = 0; q < groups4; ++q) std::memcpy(dt + q * nr * 4, src + 4 * q, 4);
        }
      }
      if (++ox == ow) ox = 0, ++oy;
    }
    const int8_t* ap = &im.a_packed[g * panels * mr * k4];
    for (size_t j = 0; j * nr < nc; ++j) {
      const size_t ncj = std::min(nr, nc - j * nr);
      for (size_t p = 0; p < panels; ++p) {
        const size_t m0 = p * mr, mrp = std::min(mr, m - m0);
        im.gemm->fn(mrp, ncj, k4, ap + p * mr * k4, bp + j * nr * k4, acc, nr, 0);
        for (size_t r = 0; r < mrp; ++r) {
          const size_t oc = g * m + m0 + r;
          im.requant->fn(ncj, acc + r * nr, im.bias_eff[oc], rq.scale, rq.zp, rq.lo, rq.hi,
                         out + (b * s.c_out + oc) * n_cols + n0 + j * nr);
        }
      }
    }
  });
}

// ---------------------------------------------------------------- QGemm
struct QGemm::Impl {
  Requant rq;
  const Qs8GemmUkernel* gemm = nullptr;
  const Qs8RequantUkernel* requant = nullptr;
  size_t k4 = 0;
  std::vector<int8_t> b_packed;   // [n panels][k4/4][NR][4]
  std::vector<int32_t> bias_eff;  // per column: bias - x_zp * sum_k(w)
};

QGemm::QGemm(const GemmShape& shape, const int8_t* b, const int32_t* bias, QuantParams x, QuantParams w,
             QuantParams y, Activation act, Isa isa)
    : shape_(shape), impl_(new Impl) {
  if (shape.m < 1 || shape.k < 1 || shape.n < 1) throw std::invalid_argument("qgemm: sizes must be positive");
  check_isa_supported(isa);
  isa_ = isa;
  Impl& im = *impl_;
  im.rq = make_requant(x, w, y, act);
  im.gemm = &select_qs8_gemm(isa);
  im.requant = &select_qs8_requant(isa);
  const size_t k = shape.k, n = shape.n, nr = im.gemm->nr;
  im.k4 = round_up(k, 4);
  std::vector<int8_t> wt(n * k);  // [n][k]
  for (size_t j = 0; j < n; ++j)
    for (size_t kk = 0; kk < k; ++kk) wt[j * k + kk] = shape.trans_b ? b[j * k + kk] : b[kk * n + j];
  im.b_packed.resize(div_up(n, nr) * nr * im.k4);
  pack_rows_k4(wt.data(), n, k, k, nr, im.b_packed.data());
  im.bias_eff.resize(n);
  for (size_t j = 0; j < n; ++j) {
    int32_t sum = 0;
    for (size_t kk = 0; kk < k; ++kk) sum += wt[j * k + kk];
    im.bias_eff[j] = (bias ? bias[j] : 0) - x.zero_point * sum;
  }
  name_ = im.gemm->name;
  elem_size_ = 1;
  flops_ = 2.0 * double(shape.m) * double(k) * double(n);
  in_elems_ = shape.m * shape.k;
  out_elems_ = shape.m * shape.n;
  bytes_ = double(in_elems_ + out_elems_ + k * n) + 4.0 * double(bias ? n : 0);
}

QGemm::~QGemm() = default;

void QGemm::run_any(const void* in, void* out, ThreadPool* pool) const {
  run(static_cast<const int8_t*>(in), static_cast<int8_t*>(out), pool);
}

void QGemm::run(const int8_t* x, int8_t* y, ThreadPool* pool) const {
  const Impl& im = *impl_;
  const size_t m = shape_.m, k = shape_.k, n = shape_.n, k4 = im.k4;
  const size_t mr = im.gemm->mr, nr = im.gemm->nr, mpanels = div_up(m, mr), npanels = div_up(n, nr);
  const Requant& rq = im.rq;
  parallel(pool, mpanels, [&](int64_t p, int) {
    const size_t m0 = p * mr, mrp = std::min(mr, m - m0);
    int8_t* ap = static_cast<int8_t*>(scratch_bytes(mr * k4, 0));
    int32_t* acc = static_cast<int32_t*>(scratch_bytes(mr * nr * sizeof(int32_t), 1));
    pack_rows_k4(x + m0 * k, mrp, k, k, mr, ap);
    for (size_t j = 0; j < npanels; ++j) {
      const size_t nc = std::min(nr, n - j * nr);
      im.gemm->fn(mrp, nc, k4, ap, &im.b_packed[j * nr * k4], acc, nr, 0);
      for (size_t r = 0; r < mrp; ++r) {
        int32_t* row = acc + r * nr;
        for (size_t c = 0; c < nc; ++c) row[c] += im.bias_eff[j * nr + c];
        im.requant->fn(nc, row, 0, rq.scale, rq.zp, rq.lo, rq.hi, y + (m0 + r) * n + j * nr);
      }
    }
  });
}

}  // namespace netscore::kernels
