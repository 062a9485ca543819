// Timing one op spec: random data in, prepared kernel built outside the timed loop, run() timed.
#include "measure/op_timing.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "measure/cpu_info.h"
#include "netscore/cancel.h"

namespace netscore::bench {
namespace {

// Seeded uniform values in [-0.5, 0.5): never zeros, so no kernel can take a shortcut.
void fill_random(std::vector<float>& v, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = float(int32_t(s >> 40) & 0xFFFFFF) / float(1 << 24) - 0.5f;
  }
}

std::vector<float> random_vector(int64_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(size_t(std::max<int64_t>(n, 1)));
  fill_random(v, seed);
  if (scale != 1.0f)
    for (float& x : v) x *= scale;
  return v;
}

// Weights with variance 1/fan_in (uniform, 12 x 1/12): activations keep their scale from layer to layer
// when layers run chained (PreparedOp::run_on), so no run drifts into overflow or denormals.
float weight_scale(int64_t fan_in) { return std::sqrt(12.0f / float(std::max<int64_t>(fan_in, 1))); }

std::vector<int8_t> random_int8(int64_t n, uint64_t seed) {
  std::vector<float> f = random_vector(n, seed);
  std::vector<int8_t> q(f.size());
  for (size_t i = 0; i < f.size(); ++i) q[i] = int8_t(int(f[i] * 254.0f));  // [-127, 127]
  return q;
}

std::vector<int32_t> random_int32(int64_t n, uint64_t seed) {
  std::vector<float> f = random_vector(n, seed);
  std::vector<int32_t> q(f.size());
  for (size_t i = 0; i < f.size(); ++i) q[i] = int32_t(f[i] * 2000.0f);
  return q;
}

// Quantisation of activations and weights for int8 timing: typical post-training scales.
constexpr kernels::QuantParams kQx{0.02f, 3}, kQw{0.005f, 0}, kQy{0.05f, -2};

int64_t product(const std::vector<int64_t>& d) {
  int64_t p = 1;
  for (int64_t x : d) p *= x;
  return p;
}

std::unique_ptr<kernels::Kernel> make_kernel(const OpSpec& spec, uint64_t seed) {
  using namespace kernels;
  switch (spec.kind) {
    case OpSpec::Kind::conv: {
      const Conv2dShape& s = spec.conv;
      const int64_t fan_in = (s.c_in / s.group) * s.kh * s.kw;
      std::vector<float> w = random_vector(s.c_out * fan_in, seed, weight_scale(fan_in));
      std::vector<float> b = random_vector(s.c_out, seed + 1);
      return std::make_unique<Conv2d>(s, w.data(), spec.bias ? b.data() : nullptr, spec.act);
    }
    case OpSpec::Kind::gemm: {
      const GemmShape& s = spec.gemm;
      std::vector<float> w = random_vector(s.k * s.n, seed, weight_scale(s.k));
      std::vector<float> b = random_vector(s.n, seed + 1);
      return std::make_unique<Gemm>(s, w.data(), spec.bias ? b.data() : nullptr, spec.act);
    }
    case OpSpec::Kind::maxpool:
      return std::make_unique<Pool2d>(PoolKind::max, spec.pool);
    case OpSpec::Kind::avgpool:
      return std::make_unique<Pool2d>(PoolKind::average, spec.pool);
    case OpSpec::Kind::globalavgpool:
      return std::make_unique<GlobalAvgPool>(spec.pool.n, spec.pool.c, spec.pool.h, spec.pool.w);
    case OpSpec::Kind::add:
    case OpSpec::Kind::mul:
      // Second operand passed per call (both operands are activations in a network).
      return std::make_unique<Binary>(spec.kind == OpSpec::Kind::add ? BinaryOp::add : BinaryOp::mul, spec.a_dims,
                                      spec.b_dims);
    case OpSpec::Kind::unary:
      return std::make_unique<Unary>(spec.act, spec.count);
    case OpSpec::Kind::qconv: {
      const Conv2dShape& s = spec.conv;
      std::vector<int8_t> w = random_int8(s.c_out * (s.c_in / s.group) * s.kh * s.kw, seed);
      std::vector<int32_t> b = random_int32(s.c_out, seed + 1);
      return std::make_unique<QConv2d>(s, w.data(), spec.bias ? b.data() : nullptr, kQx, kQw, kQy, spec.act);
    }
    case OpSpec::Kind::qgemm: {
      const GemmShape& s = spec.gemm;
      std::vector<int8_t> w = random_int8(s.k * s.n, seed);
      std::vector<int32_t> b = random_int32(s.n, seed + 1);
      return std::make_unique<QGemm>(s, w.data(), spec.bias ? b.data() : nullptr, kQx, kQw, kQy, spec.act);
    }
  }
  throw std::invalid_argument("unknown op kind");
}

}  // namespace

const char* kind_name(OpSpec::Kind kind) {
  switch (kind) {
    case OpSpec::Kind::conv: return "conv";
    case OpSpec::Kind::gemm: return "gemm";
    case OpSpec::Kind::maxpool: return "maxpool";
    case OpSpec::Kind::avgpool: return "avgpool";
    case OpSpec::Kind::globalavgpool: return "globalavgpool";
    case OpSpec::Kind::add: return "add";
    case OpSpec::Kind::mul: return "mul";
    case OpSpec::Kind::unary: return "unary";
    case OpSpec::Kind::qconv: return "qconv";
    case OpSpec::Kind::qgemm: return "qgemm";
  }
  return "?";
}

namespace {

// Appends numbers as std::ostream's defaults print them (integers; floats as %g), without a stream: keys
// are built for every layer of every model a device profile predicts.
struct KeyWriter {
  std::string s;
  KeyWriter& operator<<(int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, r.ptr);
    return *this;
  }
  KeyWriter& operator<<(bool v) { return *this << int64_t(v); }
  KeyWriter& operator<<(int v) { return *this << int64_t(v); }
  KeyWriter& operator<<(float v) {
    // Whole numbers below 1e6 (0, 6, ...: nearly every activation bound) print alike in %g: no printf.
    if (v == std::trunc(v) && std::fabs(v) < 1e6f && !(v == 0 && std::signbit(v))) return *this << int64_t(v);
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%g", double(v));
    s.append(buf, size_t(std::max(0, n)));
    return *this;
  }
  KeyWriter& operator<<(char c) {
    s.push_back(c);
    return *this;
  }
  KeyWriter& operator<<(const char* t) {
    s.append(t);
    return *this;
  }
};

}  // namespace

std::string OpSpec::key() const {
  KeyWriter k;
  k.s.reserve(96);
  k << kind_name(kind) << '|' << int(act.kind) << ',' << act.min << ',' << act.max << '|';
  switch (kind) {
    case Kind::conv:
    case Kind::qconv: {
      const auto& s = conv;
      k << s.n << ',' << s.c_in << ',' << s.h << ',' << s.w << ',' << s.c_out << ',' << s.kh << ',' << s.kw << ','
        << s.stride_h << ',' << s.stride_w << ',' << s.pad_top << ',' << s.pad_left << ',' << s.pad_bottom << ','
        << s.pad_right << ',' << s.dil_h << ',' << s.dil_w << ',' << s.group << ',' << bias;
      if (residual) k << ",residual";
      break;
    }
    case Kind::gemm:
    case Kind::qgemm:
      k << gemm.m << ',' << gemm.k << ',' << gemm.n << ',' << gemm.trans_b << ',' << bias << ',' << repeat;
      break;
    case Kind::maxpool:
    case Kind::avgpool:
    case Kind::globalavgpool: {
      const auto& s = pool;
      k << s.n << ',' << s.c << ',' << s.h << ',' << s.w << ',' << s.kh << ',' << s.kw << ',' << s.stride_h << ','
        << s.stride_w << ',' << s.pad_top << ',' << s.pad_left << ',' << s.pad_bottom << ',' << s.pad_right << ','
        << s.dil_h << ',' << s.dil_w << ',' << s.ceil_mode << ',' << s.count_include_pad;
      break;
    }
    case Kind::add:
    case Kind::mul:
      for (int64_t d : a_dims) k << d << ',';
      k << '|';
      for (int64_t d : b_dims) k << d << ',';
      break;
    case Kind::unary:
      k << count;
      break;
  }
  return std::move(k.s);
}

PreparedOp::PreparedOp(const OpSpec& spec, int copies, bool own_buffers) {
  binary_ = spec.kind == OpSpec::Kind::add || spec.kind == OpSpec::Kind::mul;
  residual_ = spec.kind == OpSpec::Kind::conv && spec.residual;
  copies = std::max(1, copies);
  for (int c = 0; c < copies; ++c) {
    check_cancelled();   // cold cache: up to thousands of copies, each packed
    kernels_.push_back(make_kernel(spec, uint64_t(c) * 7 + 1));
  }
  repeat_ = spec.kind == OpSpec::Kind::gemm ? std::max<int64_t>(1, spec.repeat) : 1;
  in_elems_ = kernels_[0]->input_elements();
  out_elems_ = kernels_[0]->output_elements();
  const int64_t in_elems = in_elems_ * repeat_;
  const int64_t out_elems = out_elems_ * repeat_;
  const int64_t b_elems = binary_ ? product(spec.b_dims) : residual_ ? out_elems : 0;
  if ((binary_ || residual_) && !own_buffers) b_.push_back(random_vector(b_elems, 2000));  // run_on's 2nd operand
  if (!own_buffers) return;
  if (kernels_[0]->element_size() == 1) {  // int8 kernels
    for (int c = 0; c < copies; ++c) {
      qin_.push_back(random_int8(in_elems, 1000 + c));
      qout_.emplace_back(size_t(std::max<int64_t>(out_elems, 1)), int8_t(0));
    }
    return;
  }
  in_.resize(size_t(copies));
  out_.resize(size_t(copies));
  b_.resize(size_t(copies));
  for (int c = 0; c < copies; ++c) {
    check_cancelled();
    in_[c] = random_vector(in_elems, 1000 + c);
    out_[c].assign(size_t(std::max<int64_t>(out_elems, 1)), 0.0f);
    if (binary_ || residual_) b_[c] = random_vector(b_elems, 2000 + c);
  }
}

void PreparedOp::run(int c, kernels::ThreadPool* pool) {
  if (!qin_.empty())
    kernels_[c]->run_any(qin_[c].data(), qout_[c].data(), pool);
  else if (binary_)  // both operands are activations in a network: pass the second per call
    static_cast<const kernels::Binary&>(*kernels_[c]).run(in_[c].data(), b_[c].data(), out_[c].data(), pool);
  else if (residual_)
    static_cast<const kernels::Conv2d&>(*kernels_[c]).run(in_[c].data(), b_[c].data(), out_[c].data(), pool);
  else
    for (int64_t r = 0; r < repeat_; ++r)
      kernels_[c]->run_any(in_[c].data() + r * in_elems_, out_[c].data() + r * out_elems_, pool);
}

void PreparedOp::run_on(const void* in, void* out, kernels::ThreadPool* pool) {
  const kernels::Kernel& k = *kernels_[0];
  if (binary_) {
    static_cast<const kernels::Binary&>(k).run(static_cast<const float*>(in), b_[0].data(), static_cast<float*>(out),
                                              pool);
    return;
  }
  if (residual_) {
    static_cast<const kernels::Conv2d&>(k).run(static_cast<const float*>(in), b_[0].data(), static_cast<float*>(out),
                                              pool);
    return;
  }
  const int64_t es = k.element_size();
  for (int64_t r = 0; r < repeat_; ++r)
    k.run_any(static_cast<const char*>(in) + r * in_elems_ * es, static_cast<char*>(out) + r * out_elems_ * es, pool);
}

double spec_buffer_bytes(const OpSpec& spec) {
  using K = OpSpec::Kind;
  const auto d = [](int64_t v) { return static_cast<double>(std::max<int64_t>(v, 1)); };
  // Rows x columns of input a strided window pass spans (padded), per channel: the kernels build such planes.
  const auto window = [&](int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                          int64_t dw, int64_t pad_h, int64_t pad_w) {
    const double oh = std::max(1.0, std::floor((d(h) + double(pad_h) - d(dh) * (d(kh) - 1) - 1) / d(sh)) + 1);
    const double ow = std::max(1.0, std::floor((d(w) + double(pad_w) - d(dw) * (d(kw) - 1) - 1) / d(sw)) + 1);
    const double rows = (std::ceil(oh / 8) * 8) * d(sh) + d(dh) * d(kh);
    const double cols = (ow + std::ceil(d(dw) * d(kw) / d(sw)) + 1) * d(sw);
    return std::make_pair(oh * ow, rows * cols);
  };
  double elems = 0;
  switch (spec.kind) {
    case K::conv:
    case K::qconv: {
      const kernels::Conv2dShape& s = spec.conv;
      const auto [out_plane, padded] = window(s.h, s.w, s.kh, s.kw, s.stride_h, s.stride_w, s.dil_h, s.dil_w,
                                              s.pad_top + s.pad_bottom, s.pad_left + s.pad_right);
      const double cin_g = d(s.c_in) / d(s.group);
      elems = d(s.n) * d(s.c_in) * d(s.h) * d(s.w) + d(s.n) * d(s.c_out) * out_plane * 2 +
              d(s.c_out) * cin_g * d(s.kh) * d(s.kw) + cin_g * padded + cin_g * d(s.kh) * d(s.kw) * out_plane;
      break;
    }
    case K::gemm:
    case K::qgemm:
      elems = (d(spec.gemm.m) * d(spec.gemm.k) + d(spec.gemm.k) * d(spec.gemm.n) + d(spec.gemm.m) * d(spec.gemm.n)) *
              d(spec.repeat);
      break;
    case K::maxpool:
    case K::avgpool:
    case K::globalavgpool: {
      const kernels::Pool2dShape& p = spec.pool;
      const auto [out_plane, padded] = window(p.h, p.w, p.kh, p.kw, p.stride_h, p.stride_w, p.dil_h, p.dil_w,
                                              p.pad_top + p.pad_bottom, p.pad_left + p.pad_right);
      elems = d(p.n) * d(p.c) * (d(p.h) * d(p.w) + out_plane) + d(p.c) * padded;
      break;
    }
    case K::add:
    case K::mul: {
      double a = 1, b = 1;
      for (int64_t v : spec.a_dims) a *= d(v);
      for (int64_t v : spec.b_dims) b *= d(v);
      elems = a + b + std::max(a, b);
      break;
    }
    case K::unary:
      elems = 2 * d(spec.count);
      break;
  }
  return elems * sizeof(float);
}

double measure_buffer_limit() {
  if (const char* text = std::getenv("NETSCORE_MEASURE_MAX_BYTES")) {
    const double v = std::strtod(text, nullptr);
    if (v > 0) return v;
  }
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kb = 0;
  while (meminfo >> key >> kb)
    if (key == "MemAvailable:") return kb * 1024 / 2;
    else meminfo.ignore(256, '\n');
  const double pages = static_cast<double>(::sysconf(_SC_AVPHYS_PAGES));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  return pages > 0 && page > 0 ? pages * page / 2 : 1e30;
}

OpTiming time_op(const OpSpec& spec, const TimingOptions& options, kernels::ThreadPool* pool) {
  const double need = spec_buffer_bytes(spec), limit = measure_buffer_limit();
  if (need > limit) {
    char text[160];
    std::snprintf(text, sizeof text, "needs %.1f GB of buffers, above the limit of %.1f GB", need / 1e9, limit / 1e9);
    throw BufferLimitError(text);
  }
  int copies = 1;
  if (options.cold_cache) {
    PreparedOp probe(spec, 1);
    copies = cold_cache_copies(int64_t(probe.bytes()) + 64 * 1024);
  }
  PreparedOp op(spec, copies);
  const kernels::Kernel& k0 = op.kernel();
  RunContext ctx;
  ctx.cpu_model = cpu_info().model;
  ctx.isa = kernels::isa_name(k0.isa());
  ctx.threads = pool ? pool->num_threads() : 1;
  ctx.compiler = cpu_info().compiler;
  TimingOptions opt = options;
  opt.threads = ctx.threads;
  OpTiming result;
  result.kernel = k0.kernel_name();
  result.timing = time_calls([&](int c) { op.run(c, pool); }, op.copies(), int64_t(op.flops()),
                             int64_t(op.bytes()), opt, ctx);
  return result;
}

}  // namespace netscore::bench
