// Conv2d: picks depthwise-direct, grouped-direct or packed-GEMM execution and drives the micro-kernels.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/conv_gemm.h"
#include "kernels/ukernels.h"

namespace netscore::kernels {

namespace {
enum class ConvPath { depthwise, grouped_direct, gemm };

void validate(const Conv2dShape& s) {
  if (s.n < 1 || s.c_in < 1 || s.h < 1 || s.w < 1 || s.c_out < 1 || s.kh < 1 || s.kw < 1 || s.stride_h < 1 ||
      s.stride_w < 1 || s.dil_h < 1 || s.dil_w < 1 || s.group < 1 || s.pad_top < 0 || s.pad_left < 0 ||
      s.pad_bottom < 0 || s.pad_right < 0)
    throw std::invalid_argument("conv2d: sizes must be positive and pads non-negative");
  if (s.c_in % s.group || s.c_out % s.group)
    throw std::invalid_argument("conv2d: channels must be divisible by group");
  if (s.out_h() < 1 || s.out_w() < 1) throw std::invalid_argument("conv2d: kernel larger than padded input");
}
}  // namespace

struct Conv2d::Impl {
  ConvPath path;
  Activation act;
  float lo, hi;
  bool rest;  // activation needs a vact pass after the clamp
  const F32VactUkernel* vact = nullptr;
  const F32VbinaryUkernel* vadd = nullptr;  // residual connections outside the GEMM tile
  // direct paths
  const F32DirectConvUkernel* direct = nullptr;
  std::vector<float> w_direct;     // [group][co_blocks][CO][cin_g][kh][kw]
  std::vector<float> bias_direct;  // [group][co_blocks][CO]
  size_t co_blocks = 0;
  // gemm path
  ConvGemm gemm;
};

Conv2d::Conv2d(const Conv2dShape& shape, const float* weights, const float* bias, Activation act, Isa isa)
    : shape_(shape), impl_(new Impl) {
  validate(shape);
  check_isa_supported(isa);
  const Conv2dShape& s = shape_;
  Impl& im = *impl_;
  im.act = act;
  activation_clamp(act, &im.lo, &im.hi, &im.rest);
  im.vact = &select_f32_vact(isa);
  im.vadd = &select_f32_vbinary(isa, BinaryOp::add, false);
  isa_ = isa;
  const size_t cin_g = s.c_in / s.group, cout_g = s.c_out / s.group, taps = s.kh * s.kw;
  if (s.depthwise()) {
    im.path = ConvPath::depthwise;
    im.direct = select_f32_dwconv(isa, s);
  } else if ((im.direct = select_f32_gconv(isa, s))) {
    im.path = ConvPath::grouped_direct;
  } else {
    im.path = ConvPath::gemm;
  }
  if (im.path != ConvPath::gemm) {
    const size_t co = im.direct->co;
    im.co_blocks = div_up(cout_g, co);
    im.w_direct.assign(s.group * im.co_blocks * co * cin_g * taps, 0.0f);
    im.bias_direct.assign(s.group * im.co_blocks * co, 0.0f);
    for (int64_t g = 0; g < s.group; ++g)
      for (size_t oc = 0; oc < cout_g; ++oc) {
        const size_t src_oc = g * cout_g + oc;
        const size_t dst_oc = g * im.co_blocks * co + oc;  // blocks are contiguous, so this is [g][blk][c]
        std::memcpy(&im.w_direct[dst_oc * cin_g * taps], weights + src_oc * cin_g * taps,
                    cin_g * taps * sizeof(float));
        im.bias_direct[dst_oc] = bias ? bias[src_oc] : 0.0f;
      }
    name_ = im.direct->name;
  } else {
    im.gemm.init(s, weights, bias, isa, im.lo, im.hi);
    name_ = im.gemm.uses_igemm() ? im.gemm.igemm->name : im.gemm.ukernel->name;
  }
  flops_ = 2.0 * double(s.macs());
  in_elems_ = s.n * s.c_in * s.h * s.w;
  out_elems_ = s.n * s.c_out * s.out_h() * s.out_w();
  bytes_ = 4.0 * double(in_elems_ + out_elems_ + s.c_out * cin_g * taps + (bias ? s.c_out : 0));
}

Conv2d::~Conv2d() = default;

void Conv2d::run_any(const void* in, void* out, ThreadPool* pool) const {
  run(static_cast<const float*>(in), static_cast<float*>(out), pool);
}

void Conv2d::run(const float* in, float* out, ThreadPool* pool) const { run(in, nullptr, out, pool); }

void Conv2d::run(const float* in, const float* residual, float* out, ThreadPool* pool) const {
  const Conv2dShape& s = shape_;
  const Impl& im = *impl_;
  const size_t oh = s.out_h(), ow = s.out_w(), ohw = oh * ow;
  if (im.path == ConvPath::gemm) {
    ConvOutput o;
    o.residual = residual;
    o.rest = im.rest ? &im.act : nullptr;
    o.act = &im.act;
    o.vact = im.vact;
    o.vadd = im.vadd;
    im.gemm.run(in, out, pool, o);
    return;
  }
  // Direct kernels store unclamped sums when a residual follows; it is added per output block while the
  // block is still in cache, then the whole activation.
  const bool post = residual != nullptr ? im.act.kind != Activation::none : im.rest;
  const size_t cin_g = s.c_in / s.group, cout_g = s.c_out / s.group, taps = s.kh * s.kw;
  const F32DirectConvUkernel& uk = *im.direct;
  const size_t R = uk.rows;
  const size_t rows = (round_up(oh, R) - 1) * s.stride_h + (s.kh - 1) * s.dil_h + 1;
  const size_t co = uk.co;
  const bool raw = uk.raw != 0;  // reads the unpadded input (1: stride 1, 3: stride 2)
  const size_t row_stride = phase_row_stride(ow, s.kw, s.stride_w, s.dil_w);
  // Few (image, group) pairs (a stem: one image, one group) would leave threads idle, so the output rows are
  // split into chunks of whole R-row passes, each building only the padded rows it reads (a halo of kh - sh
  // rows is built twice); about two chunks per thread (more, narrower chunks measured slower on two cores).
  // Raw kernels read the unpadded image and keep one task per pair.
  const size_t threads = pool ? size_t(pool->num_threads()) : 1, pairs = size_t(s.n * s.group);
  const size_t row_groups = div_up(oh, R);
  size_t chunks = 1;
  if (threads > 1 && !raw && pairs < 2 * threads) chunks = std::min(row_groups, div_up(2 * threads, pairs));
  parallel(pool, int64_t(pairs * chunks), [&](int64_t task, int) {
    const size_t pair = task / chunks, chunk = task % chunks;
    const size_t n = pair / s.group, g = pair % s.group;
    const size_t r0 = chunk * row_groups / chunks * R, r1 = std::min(oh, (chunk + 1) * row_groups / chunks * R);
    const size_t c_rows = chunks == 1 ? rows : (round_up(r1 - r0, R) - 1) * s.stride_h + (s.kh - 1) * s.dil_h + 1;
    const size_t c_phase_stride = c_rows * row_stride, c_plane_stride = c_phase_stride * s.stride_w;
    const float* x = in + (n * s.c_in + g * cin_g) * s.h * s.w;
    const float* src = x;
    if (!raw) {
      float* planes = scratch_f32(c_plane_stride * cin_g, 0);
      for (size_t ci = 0; ci < cin_g; ++ci)
        build_phase_planes_window(x + ci * s.h * s.w, s.h, s.w, s.pad_top, s.pad_left, r0 * s.stride_h, c_rows,
                                  s.stride_w, row_stride, 0.0f, planes + ci * c_plane_stride);
      src = planes;
    }
    for (size_t b = 0; b < im.co_blocks; ++b) {
      DirectConvArgs a;
      a.in = src;
      a.cin = cin_g;
      a.plane_stride = raw ? size_t(s.h * s.w) : c_plane_stride;
      a.phase_stride = c_phase_stride;
      a.row_stride = raw ? size_t(s.w) : row_stride;
      a.in_h = s.h;
      a.in_w = s.w;
      a.pad_top = s.pad_top;
      a.pad_left = s.pad_left;
      a.w = &im.w_direct[(g * im.co_blocks + b) * co * cin_g * taps];
      a.bias = &im.bias_direct[(g * im.co_blocks + b) * co];
      a.out = out + (n * s.c_out + g * cout_g + b * co) * ohw + r0 * ow;
      a.out_channel_stride = ohw;
      a.co_valid = std::min(co, cout_g - b * co);
      a.out_h = r1 - r0;
      a.out_w = ow;
      set_window(a, s);
      a.min = residual ? -__builtin_inff() : im.lo;
      a.max = residual ? __builtin_inff() : im.hi;
      uk.fn(&a);
      const float* res = residual ? residual + (a.out - out) : nullptr;
      if (chunks == 1) {
        if (res) im.vadd->fn(a.co_valid * ohw, a.out, res, a.out);
        if (post) im.vact->fn(a.co_valid * ohw, a.out, a.out, 0.0f, &im.act);
      } else {
        for (size_t c = 0; c < a.co_valid; ++c) {
          if (res) im.vadd->fn((r1 - r0) * ow, a.out + c * ohw, res + c * ohw, a.out + c * ohw);
          if (post) im.vact->fn((r1 - r0) * ow, a.out + c * ohw, a.out + c * ohw, 0.0f, &im.act);
        }
      }
    }
  });
}

}  // namespace netscore::kernels
