// Helpers shared by the op drivers: scratch buffers, pool fan-out, padded plane building, activation names.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/ukernels.h"

namespace netscore::kernels {

void* scratch_bytes(size_t n, int slot) {
  // One set of buffers per OS thread: pool workers are persistent, so buffers are allocated once.
  thread_local std::vector<std::vector<float>> buffers;
  if (buffers.size() <= size_t(slot)) buffers.resize(slot + 1);
  std::vector<float>& b = buffers[slot];
  const size_t floats = (n + sizeof(float) - 1) / sizeof(float) + 16;
  if (b.size() < floats) b.assign(floats, 0.0f);
  // 64-byte alignment for the vector loads.
  auto p = reinterpret_cast<uintptr_t>(b.data());
  return reinterpret_cast<void*>((p + 63) & ~uintptr_t(63));
}

float* scratch_f32(size_t n, int slot) { return static_cast<float*>(scratch_bytes(n * sizeof(float), slot)); }

void parallel(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int)>& fn) {
  if (pool && pool->num_threads() > 1 && n > 1) {
    pool->parallel_for(n, fn);
  } else {
    for (int64_t i = 0; i < n; ++i) fn(i, 0);
  }
}

void build_phase_planes(const float* src, size_t h, size_t w, size_t pad_top, size_t pad_left, size_t rows,
                        size_t sw, size_t row_stride, float pad_value, float* dst) {
  build_phase_planes_window(src, h, w, pad_top, pad_left, 0, rows, sw, row_stride, pad_value, dst);
}

void build_phase_planes_window(const float* src, size_t h, size_t w, size_t pad_top, size_t pad_left,
                               size_t row0, size_t rows, size_t sw, size_t row_stride, float pad_value,
                               float* dst) {
  const size_t phase_stride = rows * row_stride;
  for (size_t r = 0; r < rows; ++r) {
    const ptrdiff_t ih = ptrdiff_t(row0 + r) - ptrdiff_t(pad_top);
    const bool inside = ih >= 0 && ih < ptrdiff_t(h);
    const float* srow = inside ? src + size_t(ih) * w : nullptr;
    for (size_t p = 0; p < sw; ++p) {
      float* d = dst + p * phase_stride + r * row_stride;
      if (!inside) {
        std::fill(d, d + row_stride, pad_value);
        continue;
      }
      // Phase p column j holds padded column j*sw + p, i.e. input column j*sw + p - pad_left.
      // Valid j: 0 <= j*sw + p - pad_left < w.
      const ptrdiff_t first_in = ptrdiff_t(p) - ptrdiff_t(pad_left);
      size_t j0 = first_in >= 0 ? 0 : size_t((-first_in + ptrdiff_t(sw) - 1) / ptrdiff_t(sw));
      size_t j1 = 0;  // one past the last valid j
      if (ptrdiff_t(w) - first_in > 0) j1 = size_t((ptrdiff_t(w) - first_in + ptrdiff_t(sw) - 1) / ptrdiff_t(sw));
      j1 = std::min(j1, row_stride);
      j0 = std::min(j0, j1);
      std::fill(d, d + j0, pad_value);
      if (sw == 1) {
        std::memcpy(d + j0, srow + (ptrdiff_t(j0) + first_in), (j1 - j0) * sizeof(float));
      } else if (sw == 2) {
        // Written as a plain strided copy so the compiler vectorises the deinterleave.
        const float* __restrict s = srow + (ptrdiff_t(j0 * 2) + first_in);
        float* __restrict o = d + j0;
        const size_t cnt = j1 - j0;
        for (size_t j = 0; j < cnt; ++j) o[j] = s[2 * j];
      } else {
        const float* s = srow + (ptrdiff_t(j0 * sw) + first_in);
        for (size_t j = j0; j < j1; ++j, s += sw) d[j] = *s;
      }
      std::fill(d + j1, d + row_stride, pad_value);
    }
  }
}

void activation_clamp(Activation act, float* lo, float* hi, bool* rest) {
  *lo = -INFINITY;
  *hi = INFINITY;
  *rest = false;
  switch (act.kind) {
    case Activation::none: break;
    case Activation::relu: *lo = 0.0f; break;
    case Activation::relu6: *lo = 0.0f; *hi = 6.0f; break;
    case Activation::clip: *lo = act.min; *hi = act.max; break;
    default: *rest = true;
  }
}

const char* activation_name(Activation::Kind kind) {
  switch (kind) {
    case Activation::none: return "none";
    case Activation::relu: return "relu";
    case Activation::relu6: return "relu6";
    case Activation::clip: return "clip";
    case Activation::sigmoid: return "sigmoid";
    case Activation::hardswish: return "hardswish";
    case Activation::silu: return "silu";
    case Activation::gelu: return "gelu";
  }
  return "unknown";
}

bool parse_activation(std::string_view name, Activation::Kind* out) {
  for (int k = Activation::none; k <= Activation::gelu; ++k)
    if (name == activation_name(Activation::Kind(k))) {
      *out = Activation::Kind(k);
      return true;
    }
  return false;
}

float apply_activation(Activation act, float x) {
  switch (act.kind) {
    case Activation::none: return x;
    case Activation::relu: return x > 0.0f ? x : 0.0f;
    case Activation::relu6: return std::min(std::max(x, 0.0f), 6.0f);
    case Activation::clip: return std::min(std::max(x, act.min), act.max);
    case Activation::sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Activation::hardswish: return x * std::min(std::max(x / 6.0f + 0.5f, 0.0f), 1.0f);
    case Activation::silu: return x / (1.0f + std::exp(-x));
    case Activation::gelu: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
  }
  return x;
}

}  // namespace netscore::kernels
