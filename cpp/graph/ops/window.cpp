// Sliding-window output size shared by Conv and pooling, with auto_pad and ceil_mode.
#include "graph/ops/shape_util.h"

#include <algorithm>

namespace netscore::graph {

namespace {
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }
// Kernel sizes, strides, dilations and pads beyond this are rejected: they keep the arithmetic in range.
constexpr int64_t kMaxWindowValue = int64_t{1} << 31;
}  // namespace

std::optional<WindowResult> window_output(const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                                          const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                          const std::vector<int64_t>& pads, std::string_view auto_pad,
                                          bool ceil_mode) {
  const size_t n = in.size();
  if (kernel.size() != n) return std::nullopt;
  if (!strides.empty() && strides.size() != n) return std::nullopt;
  if (!dilations.empty() && dilations.size() != n) return std::nullopt;
  if (!pads.empty() && pads.size() != 2 * n) return std::nullopt;
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  const bool valid = auto_pad == "VALID";
  if (!same && !valid && !auto_pad.empty() && auto_pad != "NOTSET") return std::nullopt;

  WindowResult r;
  r.out.assign(n, -1);
  r.pads.assign(2 * n, 0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t k = kernel[i];
    const int64_t s = strides.empty() ? 1 : strides[i];
    const int64_t d = dilations.empty() ? 1 : dilations[i];
    if (k < 1 || s < 1 || d < 1 || k > kMaxWindowValue || s > kMaxWindowValue || d > kMaxWindowValue)
      return std::nullopt;
    const int64_t eff_k = (k - 1) * d + 1;  // span of the dilated window
    int64_t pb = 0, pe = 0;
    if (!same && !valid && !pads.empty()) {
      pb = pads[i];
      pe = pads[i + n];
      if (pb < 0 || pe < 0 || pb > kMaxWindowValue || pe > kMaxWindowValue) return std::nullopt;
    }
    if (in[i] < 0) {  // unknown input dim: output unknown; SAME pads unknown too
      r.out[i] = -1;
      r.pads[i] = same ? -1 : pb;
      r.pads[i + n] = same ? -1 : pe;
      continue;
    }
    int64_t out;
    if (same) {
      // Output covers ceil(in / stride) windows; the padding needed is split, the odd one at the end (UPPER)
      // or at the beginning (LOWER).
      out = ceil_div(in[i], s);
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + eff_k - in[i]);
      pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      const int64_t span = in[i] + pb + pe - eff_k;
      if (span < 0) return std::nullopt;
      out = (ceil_mode ? ceil_div(span, s) : floor_div(span, s)) + 1;
      // With ceil_mode the last window must still start inside the input or its begin padding.
      if (ceil_mode && (out - 1) * s >= in[i] + pb) --out;
    }
    if (out < 1) return std::nullopt;
    r.out[i] = out;
    r.pads[i] = pb;
    r.pads[i + n] = pe;
  }
  return r;
}

}  // namespace netscore::graph
