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

bool window_output_into(IntsView in, IntsView kernel, IntsView strides, IntsView dilations, IntsView pads,
                        std::string_view auto_pad, bool ceil_mode, int64_t* out, int64_t* pads_out) {
  const size_t n = in.size;
  if (kernel.size != n) return false;
  if (!strides.empty() && strides.size != n) return false;
  if (!dilations.empty() && dilations.size != n) return false;
  if (!pads.empty() && pads.size != 2 * n) return false;
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  const bool upper = auto_pad == "SAME_UPPER";
  const bool valid = auto_pad == "VALID";
  if (!same && !valid && !auto_pad.empty() && auto_pad != "NOTSET") return false;

  for (size_t i = 0; i < n; ++i) {
    const int64_t k = kernel[i];
    const int64_t s = strides.empty() ? 1 : strides[i];
    const int64_t d = dilations.empty() ? 1 : dilations[i];
    if (k < 1 || s < 1 || d < 1 || k > kMaxWindowValue || s > kMaxWindowValue || d > kMaxWindowValue)
      return false;
    const int64_t eff_k = (k - 1) * d + 1;  // span of the dilated window
    int64_t pb = 0, pe = 0;
    if (!same && !valid && !pads.empty()) {
      pb = pads[i];
      pe = pads[i + n];
      if (pb < 0 || pe < 0 || pb > kMaxWindowValue || pe > kMaxWindowValue) return false;
    }
    if (in[i] < 0) {  // unknown input dim: output unknown; SAME pads unknown too
      out[i] = -1;
      if (pads_out) {
        pads_out[i] = same ? -1 : pb;
        pads_out[i + n] = same ? -1 : pe;
      }
      continue;
    }
    int64_t o;
    if (same) {
      // Output covers ceil(in / stride) windows; the padding needed is split, the odd one at the end (UPPER)
      // or at the beginning (LOWER).
      o = ceil_div(in[i], s);
      const int64_t total = std::max<int64_t>(0, (o - 1) * s + eff_k - in[i]);
      pb = upper ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      const int64_t span = in[i] + pb + pe - eff_k;
      if (span < 0) return false;
      o = (ceil_mode ? ceil_div(span, s) : floor_div(span, s)) + 1;
      // With ceil_mode the last window must still start inside the input or its begin padding.
      if (ceil_mode && (o - 1) * s >= in[i] + pb) --o;
    }
    if (o < 1) return false;
    out[i] = o;
    if (pads_out) {
      pads_out[i] = pb;
      pads_out[i + n] = pe;
    }
  }
  return true;
}

std::optional<WindowResult> window_output(IntsView in, IntsView kernel, IntsView strides, IntsView dilations,
                                          IntsView pads, std::string_view auto_pad, bool ceil_mode) {
  WindowResult r;
  r.out.assign(in.size, -1);
  r.pads.assign(2 * in.size, 0);
  if (!window_output_into(in, kernel, strides, dilations, pads, auto_pad, ceil_mode, r.out.data(), r.pads.data()))
    return std::nullopt;
  return r;
}

}  // namespace netscore::graph
