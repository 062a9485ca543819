// One op at one shape, as our kernels run it: build the prepared kernel with random data and time run().
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "measure/harness.h"
#include "kernels/kernels.h"

namespace netscore::bench {

// What to time. Only the fields of `kind` are read.
struct OpSpec {
  enum class Kind { conv, gemm, maxpool, avgpool, globalavgpool, add, mul, unary, qconv, qgemm };
  Kind kind = Kind::conv;
  kernels::Conv2dShape conv;              // conv, qconv (int8)
  kernels::GemmShape gemm;                // gemm, qgemm (int8; m == 1: GEMV)
  kernels::Pool2dShape pool;              // maxpool, avgpool, globalavgpool (n, c, h, w)
  std::vector<int64_t> a_dims, b_dims;    // add, mul (NumPy broadcasting)
  int64_t count = 0;                      // unary: elements
  kernels::Activation act;                // conv, gemm: fused epilogue; unary: the function
  bool bias = true;                       // conv, gemm
  bool residual = false;                  // conv: a residual input added before the activation (Conv+Add)
  int64_t repeat = 1;                     // gemm: independent products per call (batched MatMul)

  // Identical configurations have equal keys (kind, shapes, attributes, activation).
  std::string key() const;
};

const char* kind_name(OpSpec::Kind kind);  // "conv", "gemm", ...

// A kernel for `spec` built with seeded random weights, plus `copies` sets of random input and output
// buffers (and kernel instances when copies > 1, so weights rotate too). run() is what the harness times.
// Without own buffers, only run_on() may be called: the caller passes input and output (chained layers).
class PreparedOp {
 public:
  explicit PreparedOp(const OpSpec& spec, int copies = 1, bool own_buffers = true);
  void run(int copy, kernels::ThreadPool* pool);
  void run_on(const void* in, void* out, kernels::ThreadPool* pool);  // kernel 0, caller's buffers
  int64_t input_bytes() const { return in_elems_ * repeat_ * kernel().element_size(); }
  int64_t output_bytes() const { return out_elems_ * repeat_ * kernel().element_size(); }
  const kernels::Kernel& kernel() const { return *kernels_[0]; }
  int copies() const { return int(kernels_.size()); }
  double flops() const { return kernel().flops() * double(repeat_); }  // per run(), all repeats
  double bytes() const {  // a fused residual is read too
    return (kernel().bytes() + (residual_ ? double(output_bytes()) : 0.0)) * double(repeat_);
  }

 private:
  bool binary_ = false;
  bool residual_ = false;  // conv with a fused residual: b_ holds the residual per copy
  int64_t repeat_ = 1, in_elems_ = 0, out_elems_ = 0;
  std::vector<std::unique_ptr<kernels::Kernel>> kernels_;
  std::vector<std::vector<float>> in_, out_, b_;        // float kernels
  std::vector<std::vector<int8_t>> qin_, qout_;         // int8 kernels
};

struct OpTiming {
  std::string kernel;                     // micro-kernel name reported by the prepared kernel
  Timing timing;
};

// Bytes the buffers of `spec` may take (inputs, outputs, weights and the kernels' padded or unrolled
// copies of the input; an upper estimate computed in doubles, so hostile dims cannot overflow it).
double spec_buffer_bytes(const OpSpec& spec);

// The most bytes one measured op may allocate: NETSCORE_MEASURE_MAX_BYTES if set, else half of the memory
// available now (MemAvailable in /proc/meminfo, else free physical pages). See docs/limits.md.
double measure_buffer_limit();

// Thrown by time_op for a spec whose buffers would exceed measure_buffer_limit(); what() is
// "needs N GB of buffers, above the limit of M GB".
struct BufferLimitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Build the kernel for `spec` (seeded random weights and inputs) and time it. `pool` may be nullptr (one
// thread). With options.cold_cache, several kernel instances and buffers are rotated (see harness.h).
// Throws std::invalid_argument for a spec the kernels reject, BufferLimitError for one too big to build.
OpTiming time_op(const OpSpec& spec, const TimingOptions& options, kernels::ThreadPool* pool);

}  // namespace netscore::bench
