// Sliding-window output sizes of Conv and pooling over all spatial dims, with auto_pad and ceil_mode (the
// per-axis formula is netscore/window.h, shared with the kernels).
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {
// Kernel sizes, strides, dilations and pads beyond this are rejected: they keep the arithmetic in range.
constexpr int64_t kMaxWindowValue = int64_t{1} << 31;
}  // namespace

bool window_output_into(IntsView in, IntsView kernel, IntsView strides, IntsView dilations, IntsView pads,
                        window::AutoPad auto_pad, bool ceil_mode, int64_t* out, int64_t* pads_out) {
  using window::AutoPad;
  const size_t n = in.size;
  if (kernel.size != n) return false;
  if (!strides.empty() && strides.size != n) return false;
  if (!dilations.empty() && dilations.size != n) return false;
  if (!pads.empty() && pads.size != 2 * n) return false;
  if (auto_pad == AutoPad::unknown) return false;
  const bool same = window::is_same(auto_pad);
  const bool valid = auto_pad == AutoPad::valid;

  for (size_t i = 0; i < n; ++i) {
    const int64_t k = kernel[i];
    const int64_t s = strides.empty() ? 1 : strides[i];
    const int64_t d = dilations.empty() ? 1 : dilations[i];
    if (k < 1 || s < 1 || d < 1 || k > kMaxWindowValue || s > kMaxWindowValue || d > kMaxWindowValue)
      return false;
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
    const int64_t o = same ? window::same_padding(in[i], k, s, d, auto_pad == AutoPad::same_upper, &pb, &pe)
                           : window::output_size(in[i], k, s, d, pb, pe, ceil_mode);
    if (o < 1) return false;
    out[i] = o;
    if (pads_out) {
      pads_out[i] = pb;
      pads_out[i + n] = pe;
    }
  }
  return true;
}

bool window_output_into(IntsView in, IntsView kernel, IntsView strides, IntsView dilations, IntsView pads,
                        std::string_view auto_pad, bool ceil_mode, int64_t* out, int64_t* pads_out) {
  return window_output_into(in, kernel, strides, dilations, pads, window::parse_auto_pad(auto_pad), ceil_mode,
                            out, pads_out);
}

std::optional<WindowResult> window_output(IntsView in, IntsView kernel, IntsView strides, IntsView dilations,
                                          IntsView pads, window::AutoPad auto_pad, bool ceil_mode) {
  WindowResult r;
  r.out.assign(in.size, -1);
  r.pads.assign(2 * in.size, 0);
  if (!window_output_into(in, kernel, strides, dilations, pads, auto_pad, ceil_mode, r.out.data(), r.pads.data()))
    return std::nullopt;
  return r;
}

std::optional<WindowResult> window_output(IntsView in, IntsView kernel, IntsView strides, IntsView dilations,
                                          IntsView pads, std::string_view auto_pad, bool ceil_mode) {
  return window_output(in, kernel, strides, dilations, pads, window::parse_auto_pad(auto_pad), ceil_mode);
}

}  // namespace netscore::graph
