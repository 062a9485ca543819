// Sliding windows (Conv, pooling): output size, auto_pad padding and conv MACs, written once for the graph
// layer and the kernels (header-only; knows nothing of ONNX protobufs or the graph).
#pragma once
#include <cstdint>
#include <string_view>

namespace netscore::window {

// ONNX auto_pad. `unknown` is a value the spec does not define: no window fits it.
enum class AutoPad : uint8_t { notset, same_upper, same_lower, valid, unknown };

inline AutoPad parse_auto_pad(std::string_view s) {
  if (s.empty() || s == "NOTSET") return AutoPad::notset;
  if (s == "SAME_UPPER") return AutoPad::same_upper;
  if (s == "SAME_LOWER") return AutoPad::same_lower;
  if (s == "VALID") return AutoPad::valid;
  return AutoPad::unknown;
}

inline bool is_same(AutoPad p) { return p == AutoPad::same_upper || p == AutoPad::same_lower; }

inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Span of a dilated window: (kernel - 1) * dilation + 1.
inline int64_t dilated_kernel(int64_t kernel, int64_t dilation) { return (kernel - 1) * dilation + 1; }

// Window positions along one axis with explicit pads (stride, dilation >= 1):
//   floor((in + pad_begin + pad_end - dilated_kernel) / stride) + 1, or the ceiling with ceil_mode, where a
// window may not start inside the end padding (as ONNX and PyTorch define ceil_mode).
// 0 when the window is larger than the padded input.
inline int64_t output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                           int64_t pad_end, bool ceil_mode) {
  const int64_t span = in + pad_begin + pad_end - dilated_kernel(kernel, dilation);
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? ceil_div(span, stride) : floor_div(span, stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

// SAME_UPPER / SAME_LOWER: ceil(in / stride) windows; the padding they need is split in two, the odd one at
// the end (UPPER) or at the beginning (LOWER). Returns the output size; writes the pads.
inline int64_t same_padding(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, bool upper,
                            int64_t* pad_begin, int64_t* pad_end) {
  const int64_t out = ceil_div(in, stride);
  int64_t total = (out - 1) * stride + dilated_kernel(kernel, dilation) - in;
  if (total < 0) total = 0;
  *pad_begin = upper ? total / 2 : total - total / 2;
  *pad_end = total - *pad_begin;
  return out;
}

// a * b for counts: -1 when either is negative (unknown), INT64_MAX when the product overflows.
inline int64_t mul_count(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return -1;
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return INT64_MAX;
  return r;
}

// Conv MACs: every output element is a dot product over the kernel volume of C_in / group channels.
// -1 when a factor is unknown (negative); saturates at INT64_MAX.
inline int64_t conv_macs(int64_t output_elements, int64_t kernel_volume, int64_t in_channels_per_group) {
  return mul_count(mul_count(output_elements, kernel_volume), in_channels_per_group);
}

}  // namespace netscore::window
