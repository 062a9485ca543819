// Op-level kernel API: prepared kernels (weights packed at construction), ISA dispatch and a thread pool.
//
// Layout is NCHW for activations and OIHW (ONNX) for convolution weights. A prepared kernel owns its packed
// weights and any scratch; run() is const and thread-safe across distinct calls with distinct buffers when
// called without a pool (with a pool, one call at a time per pool). Packing happens in the constructor, so a
// timing loop around run() measures only the op.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "netscore/parallel.h"
#include "netscore/window.h"

namespace netscore::kernels {

// ---------------------------------------------------------------- ISA tiers and dispatch
// A tier names a micro-kernel flavour and the CPU features it requires:
//   scalar  portable C++
//   avx2    AVX2 + FMA (x86-64), OS saves YMM state
//   avx512  AVX-512 F, BW, DQ, VL (x86-64), OS saves ZMM/opmask state
//   neon    AArch64 Advanced SIMD
//   neondot AArch64 Advanced SIMD + dot product (SDOT; HWCAP_ASIMDDP)
// The tiers in enum order (add a tier here, in cpp/kernels/CMakeLists.txt and in cpu_features.cpp).
#define NS_ISA_TIERS(X) X(scalar) X(avx2) X(avx512) X(neon) X(neondot)
enum class Isa : int {
#define NS_ISA_TIER(name) name,
  NS_ISA_TIERS(NS_ISA_TIER)
#undef NS_ISA_TIER
};

const char* isa_name(Isa isa);                    // "scalar", "avx2", ...
bool parse_isa(std::string_view name, Isa* out);  // inverse of isa_name; false for an unknown name
std::vector<Isa> supported_isas();                // tiers this CPU + OS can run, scalar first, best last
Isa best_isa();                                   // supported_isas().back()
// The tier used when a kernel is constructed without one: set_isa() if called, else the NETSCORE_ISA
// environment variable (scalar|avx2|avx512|neon|neondot; an unsupported tier is an error), else best_isa().
Isa active_isa();
void set_isa(Isa isa);  // throws std::invalid_argument if this machine cannot run `isa`

// ---------------------------------------------------------------- activations (fused into epilogues)
struct Activation {
  enum Kind : int { none = 0, relu, relu6, clip, sigmoid, hardswish, silu, gelu };
  Kind kind = none;
  float min = 0.0f, max = 0.0f;  // bounds of clip only
  static Activation Clip(float lo, float hi) { return Activation{clip, lo, hi}; }
};
const char* activation_name(Activation::Kind kind);
bool parse_activation(std::string_view name, Activation::Kind* out);
// Plain scalar definition of each activation (the reference the vector versions are tested against).
// gelu is the exact erf form (ONNX Gelu, approximate="none").
float apply_activation(Activation act, float x);

// ---------------------------------------------------------------- threads
using netscore::ThreadPool;  // netscore/parallel.h: the one thread pool

// ---------------------------------------------------------------- shapes
struct Conv2dShape {
  int64_t n = 1, c_in = 1, h = 1, w = 1;  // input N, C, H, W
  int64_t c_out = 1, kh = 1, kw = 1;      // weights are [c_out, c_in / group, kh, kw]
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t group = 1;
  int64_t out_h() const { return window::output_size(h, kh, stride_h, dil_h, pad_top, pad_bottom, false); }
  int64_t out_w() const { return window::output_size(w, kw, stride_w, dil_w, pad_left, pad_right, false); }
  bool depthwise() const { return group == c_in && group == c_out && group > 1; }
  int64_t macs() const { return window::conv_macs(n * c_out * out_h() * out_w(), kh * kw, c_in / group); }
};

enum class PoolKind : int { max = 0, average = 1 };
struct Pool2dShape {
  int64_t n = 1, c = 1, h = 1, w = 1;
  int64_t kh = 1, kw = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dil_h = 1, dil_w = 1;
  bool ceil_mode = false;
  bool count_include_pad = false;  // average only (ONNX AveragePool attribute)
  int64_t out_h() const;
  int64_t out_w() const;
};

// Y[m, n] = X[m, k] * B + bias[n]; B is [n, k] (row-major, as a Linear layer / Gemm transB=1) when trans_b,
// else [k, n]. m == 1 is a GEMV that streams the weights.
struct GemmShape {
  int64_t m = 1, k = 1, n = 1;
  bool trans_b = true;
};

enum class BinaryOp : int { add = 0, mul = 1 };

// Per-tensor affine quantisation: real = scale * (q - zero_point).
struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// ---------------------------------------------------------------- prepared kernels
class Kernel {
 public:
  virtual ~Kernel() = default;
  // Untyped entry for harnesses: `in` and `out` point to input_elements() / output_elements() values of
  // the kernel's element type (float, or int8 for the Q* kernels).
  virtual void run_any(const void* in, void* out, ThreadPool* pool) const = 0;
  const std::string& kernel_name() const { return name_; }  // micro-kernel chosen, e.g. "f32-gemm-6x16-avx2"
  Isa isa() const { return isa_; }
  double flops() const { return flops_; }    // per run; one multiply-add = 2 FLOPs (int8: integer ops)
  double bytes() const { return bytes_; }    // compulsory traffic per run: inputs + weights + outputs
  int64_t input_elements() const { return in_elems_; }
  int64_t output_elements() const { return out_elems_; }
  int element_size() const { return elem_size_; }  // 4 (float) or 1 (int8)

 protected:
  std::string name_;
  Isa isa_ = Isa::scalar;
  double flops_ = 0, bytes_ = 0;
  int64_t in_elems_ = 0, out_elems_ = 0;
  int elem_size_ = 4;
};

// Convolution of every kind (standard, pointwise, grouped, depthwise) with bias and activation fused.
// weights: [c_out, c_in/group, kh, kw]; bias: c_out values or nullptr.
class Conv2d final : public Kernel {
 public:
  Conv2d(const Conv2dShape& shape, const float* weights, const float* bias, Activation act = {},
         Isa isa = active_isa());
  ~Conv2d() override;
  void run(const float* in, float* out, ThreadPool* pool = nullptr) const;
  // With a residual connection fused into the epilogue: out = act(conv(in) + bias + residual), residual
  // shaped like out (and not overlapping it), as runtimes fuse Conv + Add (+ activation).
  void run(const float* in, const float* residual, float* out, ThreadPool* pool = nullptr) const;
  void run_any(const void* in, void* out, ThreadPool* pool) const override;
  const Conv2dShape& shape() const { return shape_; }

 private:
  Conv2dShape shape_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fully connected / GEMM (GEMV when m == 1); bias: n values or nullptr.
class Gemm final : public Kernel {
 public:
  Gemm(const GemmShape& shape, const float* b, const float* bias, Activation act = {}, Isa isa = active_isa());
  ~Gemm() override;
  void run(const float* x, float* y, ThreadPool* pool = nullptr) const;
  void run_any(const void* in, void* out, ThreadPool* pool) const override;

 private:
  GemmShape shape_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Max / average pooling over NCHW.
class Pool2d final : public Kernel {
 public:
  Pool2d(PoolKind kind, const Pool2dShape& shape, Isa isa = active_isa());
  ~Pool2d() override;
  void run(const float* in, float* out, ThreadPool* pool = nullptr) const;
  void run_any(const void* in, void* out, ThreadPool* pool) const override;

 private:
  PoolKind kind_;
  Pool2dShape shape_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Global average pooling: [n, c, h, w] -> [n, c, 1, 1].
class GlobalAvgPool final : public Kernel {
 public:
  GlobalAvgPool(int64_t n, int64_t c, int64_t h, int64_t w, Isa isa = active_isa());
  ~GlobalAvgPool() override;
  void run(const float* in, float* out, ThreadPool* pool = nullptr) const;
  void run_any(const void* in, void* out, ThreadPool* pool) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Elementwise add / multiply with NumPy broadcasting of a_dims against b_dims.
// The second operand is copied at construction (run(a, out)) or passed per call (run(a, b, out)).
class Binary final : public Kernel {
 public:
  Binary(BinaryOp op, std::vector<int64_t> a_dims, std::vector<int64_t> b_dims, const float* b = nullptr,
         Isa isa = active_isa());
  ~Binary() override;
  void run(const float* a, float* out, ThreadPool* pool = nullptr) const;  // uses the stored operand
  void run(const float* a, const float* b, float* out, ThreadPool* pool = nullptr) const;
  void run_any(const void* in, void* out, ThreadPool* pool) const override;
  const std::vector<int64_t>& out_dims() const { return out_dims_; }

 private:
  std::vector<int64_t> out_dims_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A standalone activation over `count` contiguous values (in-place allowed).
class Unary final : public Kernel {
 public:
  Unary(Activation act, int64_t count, Isa isa = active_isa());
  ~Unary() override;
  void run(const float* in, float* out, ThreadPool* pool = nullptr) const;
  void run_any(const void* in, void* out, ThreadPool* pool) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// int8 convolution (any kind; depthwise when group == c_in == c_out) as TFLite / CMSIS-NN define it:
// int32 accumulation of (x - x_zero_point) * w, plus int32 bias (scale x.scale * w.scale), requantised per
// tensor with fp32 arithmetic: y = clamp(round_half_even(acc * x.scale * w.scale / y.scale) + y.zero_point).
// Weights are symmetric (w.zero_point must be 0). Fused activations: none, relu, relu6, clip (applied as
// the output clamp range in the quantised domain).
class QConv2d final : public Kernel {
 public:
  QConv2d(const Conv2dShape& shape, const int8_t* weights, const int32_t* bias, QuantParams x, QuantParams w,
          QuantParams y, Activation act = {}, Isa isa = active_isa());
  ~QConv2d() override;
  void run(const int8_t* in, int8_t* out, ThreadPool* pool = nullptr) const;
  void run_any(const void* in, void* out, ThreadPool* pool) const override;

 private:
  Conv2dShape shape_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// int8 fully connected / GEMM with the same quantisation scheme as QConv2d.
class QGemm final : public Kernel {
 public:
  QGemm(const GemmShape& shape, const int8_t* b, const int32_t* bias, QuantParams x, QuantParams w,
        QuantParams y, Activation act = {}, Isa isa = active_isa());
  ~QGemm() override;
  void run(const int8_t* x, int8_t* y, ThreadPool* pool = nullptr) const;
  void run_any(const void* in, void* out, ThreadPool* pool) const override;

 private:
  GemmShape shape_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netscore::kernels
