// Shape arithmetic shared by op families: broadcasting, axis normalisation, sliding-window sizes.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "netscore/window.h"

namespace netscore::graph {

// The most dims a value may have (docs/limits.md): numpy's limit (NPY_MAXDIMS, 64 since numpy 2), so every
// tensor onnx's reference runtime can hold fits. A rank read from a model (the length of a shape input) is
// checked against it before anything is sized by it.
constexpr int64_t kMaxRank = 64;

// Numpy-style multidirectional broadcast; -1 (unknown) dims stay unknown unless the other side fixes them.
// Returns std::nullopt when two known dims are incompatible.
std::optional<std::vector<int64_t>> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// The same in place: acc := broadcast(acc, b); false (acc unspecified) when incompatible.
bool broadcast_into(std::vector<int64_t>& acc, const std::vector<int64_t>& b);

// Map a possibly negative axis into [0, rank); std::nullopt when out of range.
std::optional<int64_t> normalize_axis(int64_t axis, int64_t rank);

// a * b with saturation at INT64_MAX (both >= 0); -1 if either is negative (unknown).
// Inline: called for every dim of every value the walk touches.
inline int64_t mul_sat(int64_t a, int64_t b) {
  constexpr int64_t kSat = std::numeric_limits<int64_t>::max();
  if (a < 0 || b < 0) return -1;
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return kSat;  // one multiply, no division
  return r;
}
inline int64_t add_sat(int64_t a, int64_t b) {
  constexpr int64_t kSat = std::numeric_limits<int64_t>::max();
  if (a < 0 || b < 0) return -1;
  if (a > kSat - b) return kSat;
  return a + b;
}
// Product of dims, -1 if any is unknown; saturates at INT64_MAX instead of overflowing.
inline int64_t product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    p = mul_sat(p, d);
  }
  return p;
}

// A read-only run of int64 values (part of a dims vector, an attribute's list), viewed without a copy.
struct IntsView {
  const int64_t* data = nullptr;
  size_t size = 0;
  IntsView() = default;
  IntsView(const int64_t* d, size_t n) : data(d), size(n) {}
  IntsView(const std::vector<int64_t>& v) : data(v.data()), size(v.size()) {}  // NOLINT: implicit on purpose
  bool empty() const { return size == 0; }
  int64_t operator[](size_t i) const { return data[i]; }
  const int64_t* begin() const { return data; }
  const int64_t* end() const { return data + size; }
};

// Spatial output size and resolved begin/end pads of Conv, ConvTranspose-free pooling ops and their auto_pad.
struct WindowResult {
  std::vector<int64_t> out;        // -1 where the input dim is unknown
  std::vector<int64_t> pads;       // begin pads then end pads, as resolved
};
// in: spatial input dims; kernel, strides, dilations, pads (2*n, may be empty = zeros); auto_pad as in ONNX.
// ceil_mode: pooling's rounding. Returns std::nullopt when the window does not fit.
std::optional<WindowResult> window_output(IntsView in, IntsView kernel, IntsView strides, IntsView dilations,
                                          IntsView pads, std::string_view auto_pad, bool ceil_mode);
// The same without allocating: writes in.size output sizes to `out` and, when `pads_out` is not null, the
// 2 * in.size resolved pads to it; false when the window does not fit (the buffers then hold partial results).
bool window_output_into(IntsView in, IntsView kernel, IntsView strides, IntsView dilations, IntsView pads,
                        std::string_view auto_pad, bool ceil_mode, int64_t* out, int64_t* pads_out);
// The same with auto_pad already parsed (typed attributes).
std::optional<WindowResult> window_output(IntsView in, IntsView kernel, IntsView strides, IntsView dilations,
                                          IntsView pads, window::AutoPad auto_pad, bool ceil_mode);
bool window_output_into(IntsView in, IntsView kernel, IntsView strides, IntsView dilations, IntsView pads,
                        window::AutoPad auto_pad, bool ceil_mode, int64_t* out, int64_t* pads_out);

}  // namespace netscore::graph
