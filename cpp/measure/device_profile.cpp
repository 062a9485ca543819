// Device profile lookup: configuration keys parsed back into specs, per-layer configurations of a model
// from bench.measure's layer plan, and the sum of per-layer times (exact, else from a monotone curve).
#include "measure/device_profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "graph/class_features.h"
#include "netscore/errors.h"
#include "onnx/decode.h"

namespace netscore::bench {
namespace {

using Dims = std::vector<int64_t>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double product(const Dims& d) {
  double p = 1;
  for (int64_t v : d) p *= double(v);
  return p;
}

// Elements of the NumPy-broadcast result of a and b (dims aligned on the right).
double broadcast_numel(const Dims& a, const Dims& b) {
  const size_t rank = std::max(a.size(), b.size());
  double p = 1;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    p *= double(std::max(da, db));
  }
  return p;
}

// A key split at its separators: "conv|1,0,6|1,3,..." -> fields.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : key_(key), rest_(key) {}
  std::string_view section() {  // up to the next '|' (or the end)
    const size_t bar = rest_.find('|');
    std::string_view s = rest_.substr(0, bar);
    rest_ = bar == std::string_view::npos ? std::string_view() : rest_.substr(bar + 1);
    return s;
  }
  bool done() const { return rest_.empty(); }
  [[noreturn]] void fail() const {
    throw std::invalid_argument("not a layer configuration key: '" + std::string(key_) + "'");
  }
  // Comma-separated integers of one section ("1,2,3," or "1,2,3": a trailing comma is allowed).
  Dims ints(std::string_view s) const {
    Dims out;
    while (!s.empty()) {
      const size_t comma = s.find(',');
      const std::string item(s.substr(0, comma));
      char* end = nullptr;
      const long long v = std::strtoll(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0') fail();
      out.push_back(v);
      if (comma == std::string_view::npos) break;
      s = s.substr(comma + 1);
    }
    return out;
  }
  float real(const std::string& item) const {
    char* end = nullptr;
    const float v = std::strtof(item.c_str(), &end);
    if (item.empty() || *end != '\0') fail();
    return v;
  }

 private:
  std::string_view key_, rest_;
};

OpSpec::Kind parse_kind(std::string_view name, const KeyReader& r) {
  using K = OpSpec::Kind;
  for (K k : {K::conv, K::gemm, K::maxpool, K::avgpool, K::globalavgpool, K::add, K::mul, K::unary, K::qconv,
              K::qgemm})
    if (name == kind_name(k)) return k;
  r.fail();
}

// Sizes a kernel can be built for, and small enough that shape arithmetic cannot overflow.
bool plausible(const OpSpec& s) {
  constexpr int64_t kMax = int64_t(1) << 31;
  auto in = [&](int64_t v, int64_t lo) { return v >= lo && v <= kMax; };
  using K = OpSpec::Kind;
  switch (s.kind) {
    case K::conv:
    case K::qconv: {
      const kernels::Conv2dShape& c = s.conv;
      return in(c.n, 1) && in(c.c_in, 1) && in(c.h, 1) && in(c.w, 1) && in(c.c_out, 1) && in(c.kh, 1) &&
             in(c.kw, 1) && in(c.stride_h, 1) && in(c.stride_w, 1) && in(c.dil_h, 1) && in(c.dil_w, 1) &&
             in(c.pad_top, 0) && in(c.pad_left, 0) && in(c.pad_bottom, 0) && in(c.pad_right, 0) &&
             in(c.group, 1) && c.c_in % c.group == 0 && c.c_out % c.group == 0;
    }
    case K::gemm:
    case K::qgemm: return in(s.gemm.m, 1) && in(s.gemm.k, 1) && in(s.gemm.n, 1) && in(s.repeat, 1);
    case K::maxpool:
    case K::avgpool:
    case K::globalavgpool: {
      const kernels::Pool2dShape& p = s.pool;
      return in(p.n, 1) && in(p.c, 1) && in(p.h, 1) && in(p.w, 1) && in(p.kh, 1) && in(p.kw, 1) &&
             in(p.stride_h, 1) && in(p.stride_w, 1) && in(p.dil_h, 1) && in(p.dil_w, 1) && in(p.pad_top, 0) &&
             in(p.pad_left, 0) && in(p.pad_bottom, 0) && in(p.pad_right, 0);
    }
    case K::add:
    case K::mul:
      if (s.a_dims.size() > 8 || s.b_dims.size() > 8) return false;
      for (const Dims* d : {&s.a_dims, &s.b_dims})
        for (int64_t v : *d)
          if (!in(v, 1)) return false;
      return true;
    case K::unary: return in(s.count, 0);
  }
  return false;
}

double log_or_floor(double v) { return std::log(std::max(v, 1e-30)); }

}  // namespace

const char* curve_class_name(CurveClass c) {
  switch (c) {
    case CurveClass::conv_dense: return "conv_dense";
    case CurveClass::conv_depthwise: return "conv_depthwise";
    case CurveClass::conv_pointwise: return "conv_pointwise";
    case CurveClass::conv_grouped: return "conv_grouped";
    case CurveClass::gemm: return "gemm";
    case CurveClass::qconv: return "qconv";
    case CurveClass::qgemm: return "qgemm";
    case CurveClass::maxpool: return "maxpool";
    case CurveClass::avgpool: return "avgpool";
    case CurveClass::globalavgpool: return "globalavgpool";
    case CurveClass::binary: return "binary";
    case CurveClass::unary: return "unary";
    case CurveClass::movement: return "movement";
  }
  return "?";
}

bool parse_curve_class(std::string_view name, CurveClass* out) {
  for (int i = 0; i < kNumCurveClasses; ++i)
    if (name == curve_class_name(CurveClass(i))) {
      *out = CurveClass(i);
      return true;
    }
  return false;
}

bool curve_by_flops(CurveClass c) {
  switch (c) {
    case CurveClass::conv_dense:
    case CurveClass::conv_depthwise:
    case CurveClass::conv_pointwise:
    case CurveClass::conv_grouped:
    case CurveClass::gemm:
    case CurveClass::qconv:
    case CurveClass::qgemm: return true;
    default: return false;
  }
}

CurveClass curve_class(const OpSpec& spec) {
  using K = OpSpec::Kind;
  switch (spec.kind) {
    case K::conv: {
      // The graph layer's op classes (graph/analysis.h): depthwise one input channel per group.
      const kernels::Conv2dShape& s = spec.conv;
      if (s.group > 1 && s.group == s.c_in) return CurveClass::conv_depthwise;
      if (s.group > 1) return CurveClass::conv_grouped;
      if (s.kh == 1 && s.kw == 1) return CurveClass::conv_pointwise;
      return CurveClass::conv_dense;
    }
    case K::qconv: return CurveClass::qconv;
    case K::gemm: return CurveClass::gemm;
    case K::qgemm: return CurveClass::qgemm;
    case K::maxpool: return CurveClass::maxpool;
    case K::avgpool: return CurveClass::avgpool;
    case K::globalavgpool: return CurveClass::globalavgpool;
    case K::add:
    case K::mul: return CurveClass::binary;
    case K::unary: return CurveClass::unary;
  }
  return CurveClass::movement;
}

SpecWork spec_work(const OpSpec& spec) {
  using K = OpSpec::Kind;
  SpecWork w;
  switch (spec.kind) {
    case K::conv:
    case K::qconv: {
      const kernels::Conv2dShape& s = spec.conv;
      const double es = spec.kind == K::conv ? 4 : 1;
      const double out = double(s.n) * double(s.c_out) * double(std::max<int64_t>(0, s.out_h())) *
                         double(std::max<int64_t>(0, s.out_w()));
      const double fan_in = double(s.c_in / std::max<int64_t>(1, s.group)) * double(s.kh) * double(s.kw);
      w.flops = 2 * out * fan_in;
      w.bytes = es * (double(s.n) * double(s.c_in) * double(s.h) * double(s.w) + double(s.c_out) * fan_in + out +
                      (spec.residual ? out : 0));
      break;
    }
    case K::gemm:
    case K::qgemm: {
      const kernels::GemmShape& g = spec.gemm;
      const double es = spec.kind == K::gemm ? 4 : 1, r = double(std::max<int64_t>(1, spec.repeat));
      w.flops = 2 * double(g.m) * double(g.k) * double(g.n) * r;
      w.bytes = es * (double(g.m) * double(g.k) + double(g.k) * double(g.n) + double(g.m) * double(g.n)) * r;
      break;
    }
    case K::maxpool:
    case K::avgpool: {
      const kernels::Pool2dShape& p = spec.pool;
      const double out = double(p.n) * double(p.c) * double(std::max<int64_t>(0, p.out_h())) *
                         double(std::max<int64_t>(0, p.out_w()));
      w.flops = out * double(p.kh) * double(p.kw);
      w.bytes = 4 * (double(p.n) * double(p.c) * double(p.h) * double(p.w) + out);
      break;
    }
    case K::globalavgpool: {
      const kernels::Pool2dShape& p = spec.pool;
      w.flops = double(p.n) * double(p.c) * double(p.h) * double(p.w);
      w.bytes = 4 * (w.flops + double(p.n) * double(p.c));
      break;
    }
    case K::add:
    case K::mul: {
      const double out = broadcast_numel(spec.a_dims, spec.b_dims);
      w.flops = out;
      w.bytes = 4 * (product(spec.a_dims) + product(spec.b_dims) + out);
      break;
    }
    case K::unary:
      w.flops = double(spec.count);
      w.bytes = 8 * double(spec.count);
      break;
  }
  return w;
}

OpSpec spec_from_key(std::string_view key) {
  KeyReader r(key);
  OpSpec s;
  s.kind = parse_kind(r.section(), r);
  {
    const std::string_view act = r.section();  // "kind,min,max"
    const size_t c1 = act.find(','), c2 = c1 == std::string_view::npos ? c1 : act.find(',', c1 + 1);
    if (c2 == std::string_view::npos) r.fail();
    const Dims kind = r.ints(act.substr(0, c1));
    if (kind.size() != 1 || kind[0] < 0 || kind[0] > int(kernels::Activation::gelu)) r.fail();
    s.act.kind = kernels::Activation::Kind(kind[0]);
    s.act.min = r.real(std::string(act.substr(c1 + 1, c2 - c1 - 1)));
    s.act.max = r.real(std::string(act.substr(c2 + 1)));
  }
  using K = OpSpec::Kind;
  const std::string_view body = r.section();
  switch (s.kind) {
    case K::conv:
    case K::qconv: {
      std::string_view fields = body;
      const size_t res = fields.find(",residual");
      if (res != std::string_view::npos) {
        if (res + 9 != fields.size()) r.fail();
        s.residual = true;
        fields = fields.substr(0, res);
      }
      const Dims v = r.ints(fields);
      if (v.size() != 17) r.fail();
      kernels::Conv2dShape& c = s.conv;
      c.n = v[0], c.c_in = v[1], c.h = v[2], c.w = v[3], c.c_out = v[4], c.kh = v[5], c.kw = v[6];
      c.stride_h = v[7], c.stride_w = v[8], c.pad_top = v[9], c.pad_left = v[10], c.pad_bottom = v[11];
      c.pad_right = v[12], c.dil_h = v[13], c.dil_w = v[14], c.group = v[15];
      s.bias = v[16] != 0;
      break;
    }
    case K::gemm:
    case K::qgemm: {
      const Dims v = r.ints(body);
      if (v.size() != 6) r.fail();
      s.gemm.m = v[0], s.gemm.k = v[1], s.gemm.n = v[2], s.gemm.trans_b = v[3] != 0;
      s.bias = v[4] != 0;
      s.repeat = v[5];
      break;
    }
    case K::maxpool:
    case K::avgpool:
    case K::globalavgpool: {
      const Dims v = r.ints(body);
      if (v.size() != 16) r.fail();
      kernels::Pool2dShape& p = s.pool;
      p.n = v[0], p.c = v[1], p.h = v[2], p.w = v[3], p.kh = v[4], p.kw = v[5], p.stride_h = v[6];
      p.stride_w = v[7], p.pad_top = v[8], p.pad_left = v[9], p.pad_bottom = v[10], p.pad_right = v[11];
      p.dil_h = v[12], p.dil_w = v[13], p.ceil_mode = v[14] != 0, p.count_include_pad = v[15] != 0;
      break;
    }
    case K::add:
    case K::mul:
      s.a_dims = r.ints(body);
      s.b_dims = r.ints(r.section());
      break;
    case K::unary: {
      const Dims v = r.ints(body);
      if (v.size() != 1) r.fail();
      s.count = v[0];
      break;
    }
  }
  if (!r.done() || s.key() != key) r.fail();  // anything left over, or a field written differently
  if (!plausible(s)) r.fail();                 // keys come from files: no size the kernels cannot take
  return s;
}

namespace {

OpSpec conv_spec(int64_t c_in, int64_t c_out, int64_t hw, int64_t k, int64_t stride, int64_t group) {
  OpSpec s;
  s.kind = OpSpec::Kind::conv;
  kernels::Conv2dShape& c = s.conv;
  c.c_in = c_in, c.c_out = c_out, c.h = c.w = hw, c.kh = c.kw = k, c.stride_h = c.stride_w = stride;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = k / 2;
  c.group = group;
  s.bias = true;
  s.act = kernels::Activation{kernels::Activation::relu};
  return s;
}

OpSpec gemm_spec(int64_t m, int64_t k, int64_t n) {
  OpSpec s;
  s.kind = OpSpec::Kind::gemm;
  s.gemm.m = m, s.gemm.k = k, s.gemm.n = n, s.gemm.trans_b = true;
  s.bias = true;
  return s;
}

OpSpec pool_spec(OpSpec::Kind kind, int64_t c, int64_t hw, int64_t k, int64_t stride) {
  OpSpec s;
  s.kind = kind;
  kernels::Pool2dShape& p = s.pool;
  p.c = c, p.h = p.w = hw;
  if (kind != OpSpec::Kind::globalavgpool) {
    p.kh = p.kw = k, p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = stride == 1 ? k / 2 : 0;
  }
  return s;
}

OpSpec elementwise_spec(OpSpec::Kind kind, int64_t c, int64_t hw) {
  OpSpec s;
  s.kind = kind;
  if (kind == OpSpec::Kind::unary) {
    s.act = kernels::Activation{kernels::Activation::relu};
    s.count = c * hw * hw;
  } else {
    s.a_dims = s.b_dims = {1, c, hw, hw};
  }
  return s;
}

}  // namespace

std::vector<OpSpec> curve_sweep() {
  using K = OpSpec::Kind;
  std::vector<OpSpec> out;
  for (auto [c, hw] : {std::pair{8, 8}, {16, 16}, {16, 32}, {32, 32}, {64, 32}, {64, 56}, {128, 28}, {256, 14}})
    out.push_back(conv_spec(c, c, hw, 3, 1, 1));
  out.push_back(conv_spec(3, 32, 224, 3, 2, 1));
  for (auto [c, hw] : {std::pair{8, 8}, {16, 32}, {32, 32}, {64, 56}, {128, 28}, {256, 14}, {512, 7}, {1024, 7}})
    out.push_back(conv_spec(c, c, hw, 1, 1, 1));
  for (auto [c, hw] : {std::pair{16, 16}, {32, 32}, {64, 56}, {128, 56}, {256, 28}, {512, 14}})
    out.push_back(conv_spec(c, c, hw, 3, 1, c));
  for (auto [c, hw, g] : {std::tuple{32, 16, 8}, {64, 28, 32}, {128, 28, 32}, {256, 14, 32}})
    out.push_back(conv_spec(c, c, hw, 3, 1, g));
  for (auto [m, k, n] : {std::tuple{1, 64, 10}, {1, 256, 100}, {1, 1024, 1000}, {1, 2048, 1000}, {64, 256, 256},
                         {196, 384, 384}})
    out.push_back(gemm_spec(m, k, n));
  for (auto [c, hw] : {std::pair{16, 32}, {64, 56}, {64, 112}}) out.push_back(pool_spec(K::maxpool, c, hw, 3, 2));
  out.push_back(pool_spec(K::maxpool, 16, 32, 2, 2));
  for (auto [c, hw] : {std::pair{16, 32}, {64, 32}, {64, 56}}) out.push_back(pool_spec(K::avgpool, c, hw, 3, 1));
  out.push_back(pool_spec(K::avgpool, 32, 32, 2, 2));
  for (auto [c, hw] : {std::pair{64, 8}, {512, 7}, {2048, 7}}) out.push_back(pool_spec(K::globalavgpool, c, hw, 0, 0));
  for (K kind : {K::add, K::unary})
    for (auto [c, hw] : {std::pair{4, 16}, {16, 32}, {64, 32}, {64, 64}, {64, 128}, {64, 256}})
      out.push_back(elementwise_spec(kind, c, hw));
  return out;
}

std::vector<OpSpec> trivial_layers() {
  return {elementwise_spec(OpSpec::Kind::unary, 1, 1), elementwise_spec(OpSpec::Kind::add, 1, 1)};
}

void layer_config(const PlannedLayer& p, const graph::Layer& layer, LayerConfig* out) {
  LayerConfig& c = *out;
  c.key.clear();
  c.cls = CurveClass::movement;
  c.flops = c.bytes = 0;
  switch (p.status) {
    case LayerStatus::measured: {
      c.kind = LayerConfig::Kind::kernel;
      c.key = p.spec.key();
      c.cls = curve_class(p.spec);
      const SpecWork w = spec_work(p.spec);
      c.flops = w.flops, c.bytes = w.bytes;
      break;
    }
    case LayerStatus::fused:
    case LayerStatus::folded:
    case LayerStatus::noop: c.kind = LayerConfig::Kind::free; break;
    case LayerStatus::unmeasured: {
      // Runs without one of our kernels: priced as its memory traffic (activations in and out; the
      // weights it reads count too), when the analysis knows the sizes.
      double bytes = layer.activation_bytes >= 0 ? double(layer.activation_bytes) : -1;
      for (const Dims& s : layer.input_shapes) {
        if (bytes < 0) break;
        for (int64_t d : s)
          if (d < 0) bytes = -1;
        if (bytes >= 0) bytes += 4 * product(s);
      }
      if (!layer.supported || bytes < 0) {
        c.kind = LayerConfig::Kind::unknown;
      } else {
        c.kind = LayerConfig::Kind::movement;
        c.cls = CurveClass::movement;
        c.bytes = bytes;
      }
      break;
    }
  }
}

std::vector<LayerConfig> layer_configs(const std::vector<graph::AnalysedNode>& nodes) {
  const std::vector<PlannedLayer> plan = plan_layers(nodes, false);
  std::vector<LayerConfig> out(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) layer_config(plan[i], *nodes[i].layer, &out[i]);
  return out;
}

void DeviceTable::add(const std::string& key, double seconds, bool exact) {
  const OpSpec spec = spec_from_key(key);
  if (!(seconds >= 0) || !std::isfinite(seconds))
    throw std::invalid_argument("layer configuration '" + key + "': time must be a finite number >= 0");
  if (exact) exact_[key] = seconds;
  const CurveClass c = curve_class(spec);
  const SpecWork w = spec_work(spec);
  points_[size_t(c)].emplace_back(curve_by_flops(c) ? w.flops : w.bytes, seconds);
  if (c == CurveClass::unary)  // memory traffic without a kernel moves bytes as fast as a unary pass
    points_[size_t(CurveClass::movement)].emplace_back(w.bytes, seconds);
}

void DeviceTable::set_fixed_costs(double per_layer_s, double per_inference_s) {
  per_layer_s_ = std::max(0.0, per_layer_s);
  per_inference_s_ = std::max(0.0, per_inference_s);
}

void DeviceTable::finish() {
  for (int c = 0; c < kNumCurveClasses; ++c) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& [work, s] : points_[size_t(c)])
      if (work > 0 && s > 0) pts.emplace_back(std::log(work), std::log(s));
    std::sort(pts.begin(), pts.end());
    // Equal work: one point at the mean. Then pool adjacent violators, so time never falls as work grows
    // (a larger layer of the same kind is never predicted faster: noise between sizes is averaged out).
    struct Block {
      double x, y, weight;
    };
    std::vector<Block> blocks;
    for (size_t i = 0; i < pts.size();) {
      size_t j = i;
      double sum = 0;
      while (j < pts.size() && pts[j].first == pts[i].first) sum += pts[j++].second;
      blocks.push_back({pts[i].first, sum / double(j - i), double(j - i)});
      i = j;
    }
    std::vector<Block> pooled;  // (x of the block's first point, mean y, weight); x values kept per point
    std::vector<size_t> first;  // index into blocks where each pooled block starts
    for (size_t i = 0; i < blocks.size(); ++i) {
      pooled.push_back(blocks[i]);
      first.push_back(i);
      while (pooled.size() > 1 && pooled[pooled.size() - 2].y > pooled.back().y) {
        Block b = pooled.back();
        pooled.pop_back();
        first.pop_back();
        Block& a = pooled.back();
        a.y = (a.y * a.weight + b.y * b.weight) / (a.weight + b.weight);
        a.weight += b.weight;
      }
    }
    Curve& curve = curves_[size_t(c)];
    curve.log_work.clear();
    curve.log_s.clear();
    for (size_t k = 0; k < pooled.size(); ++k) {
      const size_t end = k + 1 < pooled.size() ? first[k + 1] : blocks.size();
      for (size_t i = first[k]; i < end; ++i) {
        curve.log_work.push_back(blocks[i].x);
        curve.log_s.push_back(pooled[k].y);
      }
    }
  }
}

const DeviceTable::Curve* DeviceTable::curve_for(CurveClass c) const {
  // A class without points borrows the nearest kernel family's curve.
  using C = CurveClass;
  for (int hop = 0; hop < 4; ++hop) {
    if (!curves_[size_t(c)].log_work.empty()) return &curves_[size_t(c)];
    switch (c) {
      case C::conv_depthwise: c = C::conv_grouped; break;
      case C::conv_grouped:
      case C::conv_pointwise:
      case C::qconv: c = C::conv_dense; break;
      case C::qgemm: c = C::gemm; break;
      case C::gemm: c = C::conv_pointwise; break;
      case C::maxpool:
      case C::globalavgpool: c = C::avgpool; break;
      case C::avgpool: c = C::maxpool; break;
      case C::binary:
      case C::movement: c = C::unary; break;
      case C::unary: c = C::binary; break;
      case C::conv_dense: return nullptr;
    }
  }
  return nullptr;
}

double DeviceTable::curve_seconds(CurveClass c, double work) const {
  const Curve* curve = curve_for(c);
  if (curve == nullptr || !(work >= 0)) return kNaN;
  const std::vector<double>& x = curve->log_work;
  const std::vector<double>& y = curve->log_s;
  const double lx = log_or_floor(work);
  if (lx <= x.front()) return std::exp(y.front());  // below the smallest size: the fixed cost dominates
  if (lx >= x.back()) return std::exp(y.back() + (lx - x.back()));  // above: time proportional to work
  const size_t hi = size_t(std::upper_bound(x.begin(), x.end(), lx) - x.begin());
  const size_t lo = hi - 1;
  const double t = (lx - x[lo]) / (x[hi] - x[lo]);
  return std::exp(y[lo] + t * (y[hi] - y[lo]));
}

double DeviceTable::layer_seconds(const LayerConfig& layer, bool* exact) const {
  *exact = false;
  switch (layer.kind) {
    case LayerConfig::Kind::free: return 0;
    case LayerConfig::Kind::unknown: return per_layer_s_;
    case LayerConfig::Kind::movement: return curve_seconds(CurveClass::movement, layer.bytes);
    case LayerConfig::Kind::kernel: {
      auto it = exact_.find(layer.key);
      if (it != exact_.end()) {
        *exact = true;
        return it->second;
      }
      return curve_seconds(layer.cls, curve_by_flops(layer.cls) ? layer.flops : layer.bytes);
    }
  }
  return kNaN;
}

DeviceTable::Prediction DeviceTable::new_prediction() const {
  Prediction p;
  p.fixed_s = per_inference_s_;
  return p;
}

void DeviceTable::add_layer(Prediction& p, const LayerConfig& layer) const {
  if (layer.kind == LayerConfig::Kind::free) return;
  bool exact = false;
  const double s = layer_seconds(layer, &exact);
  if (layer.kind == LayerConfig::Kind::unknown) {
    ++p.unknown;
    p.fixed_s += s;
    return;
  }
  exact ? ++p.exact : ++p.interpolated;
  p.per_class[size_t(layer.cls)] += s;
}

void DeviceTable::close_prediction(Prediction& p) {
  p.seconds = p.fixed_s;
  for (double s : p.per_class) p.seconds += s;
}

DeviceTable::Prediction DeviceTable::predict(const std::vector<LayerConfig>& layers) const {
  Prediction p = new_prediction();
  for (const LayerConfig& layer : layers) add_layer(p, layer);
  close_prediction(p);
  return p;
}

std::vector<LayerConfig> layer_configs_of_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                                                const graph::Options& options) {
  try {
    const onnx::ThreadModel model(data, size);
    graph::Options with_layers = options;
    with_layers.want_layers = true;
    const graph::Profile profile = graph::analyze(model.model(), with_layers);
    return layer_configs(graph::analysed_nodes(model.model(), profile));
  } catch (const ModelError& e) {
    throw ModelError(source_name + ": " + e.what());
  }
}

void LayerPricer::reset(const onnx::Model& model) {
  model_ = &model;
  count_ = 0;
}

void LayerPricer::on_layer(const graph::Layer& l) {
  if (count_ == rows_.layers.size()) rows_.layers.emplace_back();
  graph::Layer& r = rows_.layers[count_++];
  r.node_index = l.node_index;
  r.op_type.assign(l.op_type);
  r.domain.assign(l.domain);
  auto copy = [](const std::vector<Dims>& from, std::vector<Dims>& to) {
    to.resize(from.size());
    for (size_t k = 0; k < from.size(); ++k) to[k].assign(from[k].begin(), from[k].end());
  };
  copy(l.input_shapes, r.input_shapes);
  copy(l.output_shapes, r.output_shapes);
  r.output_dtypes.assign(l.output_dtypes.begin(), l.output_dtypes.end());
  r.supported = l.supported;
  r.folded = l.folded;
  r.params = l.params;
  r.weight_bytes = l.weight_bytes;
  r.macs = l.macs;
  r.flops = l.flops;
  r.activation_bytes = l.activation_bytes;
}

DeviceTable::Prediction LayerPricer::finish(const DeviceTable& table) {
  rows_.layers.resize(count_);
  const std::vector<graph::AnalysedNode> nodes = graph::analysed_nodes(*model_, rows_);
  const std::vector<PlannedLayer> plan = plan_layers(nodes, false);
  DeviceTable::Prediction p = table.new_prediction();
  for (size_t i = 0; i < plan.size(); ++i) {
    layer_config(plan[i], rows_.layers[i], &config_);
    table.add_layer(p, config_);
  }
  DeviceTable::close_prediction(p);
  return p;
}

void LayerPricer::trim() {
  if (rows_.layers.capacity() > (size_t(1) << 16)) std::vector<graph::Layer>().swap(rows_.layers);
  count_ = 0;
}

DeviceTable::Prediction predict_model(const DeviceTable& table, const onnx::Model& model,
                                      const graph::Options& options, graph::Profile* walked, bool layer_rows) {
  if (layer_rows || graph::ClassFeatureBuilder::needs_layer_rows(model)) {
    graph::Options with_layers = options;
    with_layers.want_layers = true;
    with_layers.observer = nullptr;
    graph::Profile profile = graph::analyze(model, with_layers);
    const DeviceTable::Prediction p = table.predict(layer_configs(graph::analysed_nodes(model, profile)));
    if (walked) *walked = std::move(profile);
    return p;
  }
  thread_local LayerPricer per_thread;   // its rows' capacity kept from one model to the next
  LayerPricer& pricer = per_thread;
  struct Trim {
    LayerPricer& pricer;
    ~Trim() { pricer.trim(); }
  } trim{pricer};
  pricer.reset(model);
  graph::Options observed = options;
  observed.want_layers = false;
  observed.observer = &pricer;
  graph::Profile profile = graph::analyze(model, observed);
  if (walked) *walked = std::move(profile);
  return pricer.finish(table);
}

DeviceTable::Prediction predict_bytes(const DeviceTable& table, const uint8_t* data, size_t size,
                                      const std::string& source_name, const graph::Options& options,
                                      graph::Profile* walked, bool layer_rows) {
  try {
    const onnx::ThreadModel model(data, size);
    return predict_model(table, model.model(), options, walked, layer_rows);
  } catch (const ModelError& e) {
    throw ModelError(source_name + ": " + e.what());
  }
}

}  // namespace netscore::bench
