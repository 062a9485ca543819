// Pool2d (max / average over windows) and GlobalAvgPool drivers.
#include <algorithm>
#include <stdexcept>

#include "kernels/ukernels.h"

namespace netscore::kernels {

namespace {
// Per-output divisor factors along one axis for average pooling.
std::vector<float> inv_counts(int64_t out, int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, int64_t d,
                              bool include_pad, size_t padded) {
  std::vector<float> f(std::max<size_t>(padded, size_t(out)), 0.0f);
  for (int64_t o = 0; o < out; ++o) {
    int64_t cnt = 0;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t pos = o * s - pb + i * d;
      cnt += include_pad ? (pos >= -pb && pos < in + pe) : (pos >= 0 && pos < in);
    }
    f[o] = cnt ? 1.0f / float(cnt) : 0.0f;
  }
  return f;
}
}  // namespace

int64_t Pool2dShape::out_h() const {
  return window::output_size(h, kh, stride_h, dil_h, pad_top, pad_bottom, ceil_mode);
}
int64_t Pool2dShape::out_w() const {
  return window::output_size(w, kw, stride_w, dil_w, pad_left, pad_right, ceil_mode);
}

struct Pool2d::Impl {
  const F32PoolUkernel* uk = nullptr;
  const F32GavgpoolUkernel* global = nullptr;  // average over windows that cover the whole unpadded plane
  std::vector<float> inv_h, inv_w;
};

namespace {
// One window covering the whole plane, without padding: a global average pool (ResNet's final 7x7 pool).
// The windowed kernel would vectorise along a single output column and waste all other lanes.
bool whole_plane_window(PoolKind kind, const Pool2dShape& s) {
  return kind == PoolKind::average && s.kh == s.h && s.kw == s.w && s.dil_h == 1 && s.dil_w == 1 &&
         s.pad_top == 0 && s.pad_left == 0 && s.pad_bottom == 0 && s.pad_right == 0 && s.out_h() == 1 &&
         s.out_w() == 1;
}
}  // namespace

Pool2d::Pool2d(PoolKind kind, const Pool2dShape& s, Isa isa) : kind_(kind), shape_(s), impl_(new Impl) {
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1 || s.kh < 1 || s.kw < 1 || s.stride_h < 1 || s.stride_w < 1 ||
      s.dil_h < 1 || s.dil_w < 1 || s.pad_top < 0 || s.pad_left < 0 || s.pad_bottom < 0 || s.pad_right < 0)
    throw std::invalid_argument("pool2d: sizes must be positive and pads non-negative");
  if (s.out_h() < 1 || s.out_w() < 1) throw std::invalid_argument("pool2d: window larger than padded input");
  check_isa_supported(isa);
  isa_ = isa;
  impl_->uk = &select_f32_pool(isa, kind, s);
  name_ = impl_->uk->name;
  if (whole_plane_window(kind, s)) {
    impl_->global = &select_f32_gavgpool(isa);
    name_ = impl_->global->name;
  }
  if (kind == PoolKind::average) {
    impl_->inv_h = inv_counts(s.out_h(), s.h, s.kh, s.stride_h, s.pad_top, s.pad_bottom, s.dil_h,
                              s.count_include_pad, 0);
    impl_->inv_w = inv_counts(s.out_w(), s.w, s.kw, s.stride_w, s.pad_left, s.pad_right, s.dil_w,
                              s.count_include_pad, round_up(s.out_w(), 16));
  }
  in_elems_ = s.n * s.c * s.h * s.w;
  out_elems_ = s.n * s.c * s.out_h() * s.out_w();
  flops_ = double(out_elems_) * double(s.kh * s.kw);
  bytes_ = 4.0 * double(in_elems_ + out_elems_);
}

Pool2d::~Pool2d() = default;

void Pool2d::run_any(const void* in, void* out, ThreadPool* pool) const {
  run(static_cast<const float*>(in), static_cast<float*>(out), pool);
}

void Pool2d::run(const float* in, float* out, ThreadPool* pool) const {
  const Pool2dShape& s = shape_;
  if (impl_->global) {
    const size_t planes = s.n * s.c, hw = s.h * s.w, per_task = std::max<size_t>(1, div_up(16384, hw));
    parallel(pool, div_up(planes, per_task), [&](int64_t t, int) {
      const size_t p0 = t * per_task, cnt = std::min(per_task, planes - p0);
      impl_->global->fn(cnt, hw, in + p0 * hw, out + p0);
    });
    return;
  }
  const size_t oh = s.out_h(), ow = s.out_w();
  const size_t planes = s.n * s.c;
  const size_t threads = pool ? size_t(pool->num_threads()) : 1;
  const size_t per_task = std::max<size_t>(1, std::min<size_t>(8, planes / (4 * threads)));
  if (impl_->uk->raw) {  // reads the unpadded planes; padding is taken in registers
    parallel(pool, div_up(planes, per_task), [&](int64_t t, int) {
      for (size_t pl = t * per_task; pl < std::min(planes, (t + 1) * per_task); ++pl) {
        PoolArgs a{};
        a.in = in + pl * s.h * s.w;
        a.row_stride = s.w;
        a.out = out + pl * oh * ow;
        a.out_h = oh;
        a.out_w = ow;
        set_window(a, s);
        a.in_h = s.h;
        a.in_w = s.w;
        a.pad_top = s.pad_top;
        a.pad_left = s.pad_left;
        a.inv_h = impl_->inv_h.empty() ? nullptr : impl_->inv_h.data();   // average
        a.inv_w = impl_->inv_w.empty() ? nullptr : impl_->inv_w.data();
        impl_->uk->fn(&a);
      }
    });
    return;
  }
  const size_t rows = (oh - 1) * s.stride_h + (s.kh - 1) * s.dil_h + 1;
  const size_t row_stride = phase_row_stride(ow, s.kw, s.stride_w, s.dil_w);
  const float pad = kind_ == PoolKind::max ? -__builtin_inff() : 0.0f;
  parallel(pool, div_up(planes, per_task), [&](int64_t t, int) {
    float* buf = scratch_f32(rows * row_stride * s.stride_w, 0);
    for (size_t pl = t * per_task; pl < std::min(planes, (t + 1) * per_task); ++pl) {
      build_phase_planes(in + pl * s.h * s.w, s.h, s.w, s.pad_top, s.pad_left, rows, s.stride_w, row_stride, pad, buf);
      PoolArgs a{};
      a.in = buf;
      a.phase_stride = rows * row_stride;
      a.row_stride = row_stride;
      a.out = out + pl * oh * ow;
      a.out_h = oh;
      a.out_w = ow;
      set_window(a, s);
      a.inv_h = impl_->inv_h.empty() ? nullptr : impl_->inv_h.data();
      a.inv_w = impl_->inv_w.empty() ? nullptr : impl_->inv_w.data();
      impl_->uk->fn(&a);
    }
  });
}

struct GlobalAvgPool::Impl {
  const F32GavgpoolUkernel* uk = nullptr;
  size_t planes = 0, hw = 0;
};

GlobalAvgPool::GlobalAvgPool(int64_t n, int64_t c, int64_t h, int64_t w, Isa isa) : impl_(new Impl) {
  if (n < 1 || c < 1 || h < 1 || w < 1) throw std::invalid_argument("global_avg_pool: sizes must be positive");
  check_isa_supported(isa);
  isa_ = isa;
  impl_->uk = &select_f32_gavgpool(isa);
  impl_->planes = n * c;
  impl_->hw = h * w;
  name_ = impl_->uk->name;
  in_elems_ = n * c * h * w;
  out_elems_ = n * c;
  flops_ = double(in_elems_);
  bytes_ = 4.0 * double(in_elems_ + out_elems_);
}

GlobalAvgPool::~GlobalAvgPool() = default;

void GlobalAvgPool::run_any(const void* in, void* out, ThreadPool* pool) const {
  run(static_cast<const float*>(in), static_cast<float*>(out), pool);
}

void GlobalAvgPool::run(const float* in, float* out, ThreadPool* pool) const {
  const size_t planes = impl_->planes, hw = impl_->hw;
  const size_t per_task = std::max<size_t>(1, div_up(16384, hw));
  parallel(pool, div_up(planes, per_task), [&](int64_t t, int) {
    const size_t p0 = t * per_task, cnt = std::min(per_task, planes - p0);
    impl_->uk->fn(cnt, hw, in + p0 * hw, out + p0);
  });
}

}  // namespace netscore::kernels
