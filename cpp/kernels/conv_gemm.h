// Convolution as a packed GEMM per group: weights packed into MR-row panels at construction, input columns
// packed on the fly (implicit im2col; a plain copy for 1x1 stride-1 convolutions) into NR-column panels.
#pragma once
#include <vector>

#include "kernels/ukernels.h"

namespace netscore::kernels {

// Column blocks of one image's GEMM: block b covers columns [first(b), first(b + 1)) (clip to the width).
struct ColumnBlocks {
  size_t nr = 1, panels = 0, blocks = 0, max_cols = 0, per_block = 0;
  bool even = false;  // panels dealt out evenly; else per_block panels each, the last block short
  size_t first(size_t b) const { return (even ? b * panels / blocks : b * per_block) * nr; }
};
ColumnBlocks column_blocks(size_t cols, size_t nr, size_t images, size_t threads, size_t floats_per_col);

// What a convolution adds after the GEMM: the residual (shaped like the output, or nullptr) and the
// activation. rest: the activation part the clamp does not cover (nullptr if none); act: all of it.
struct ConvOutput {
  const float* residual = nullptr;
  const Activation* rest = nullptr;
  const Activation* act = nullptr;
  const F32VactUkernel* vact = nullptr;
  const F32VbinaryUkernel* vadd = nullptr;
};

struct ConvGemm {
  Conv2dShape s;
  const F32GemmUkernel* ukernel = nullptr;
  const F32Im2colUkernel* im2col = nullptr;
  const F32IgemmUkernel* igemm = nullptr;  // stride-1 path on a padded input (nullptr: pack instead)
  bool pixel_major = false;      // small images: rows = output pixels, columns = output channels
  size_t m = 0, k = 0, n = 0;    // per group: c_out/group, c_in/group*kh*kw, out_h*out_w
  size_t kc = 0;                 // K block
  std::vector<float> a_packed;   // [group][m panels][k][MR]; pixel-major: [group][m panels][k][NR]
  std::vector<float> bias;       // c_out values (zeros when absent), then one panel width of zeros
  float lo = 0, hi = 0;
  bool uses_igemm() const {
    const bool pointwise = s.kh == 1 && s.kw == 1 && s.pad_top == 0 && s.pad_left == 0 && s.pad_bottom == 0 &&
                           s.pad_right == 0;
    return igemm && !pixel_major && s.stride_h == 1 && s.stride_w == 1 && !pointwise;
  }
  void init(const Conv2dShape& shape, const float* weights, const float* bias, Isa isa, float lo, float hi);
  // a_packed: the weights as panels of `width` output channels, k-major inside a panel (zero-padded);
  // bias: the biases (zeros when absent), padded so a whole tile's load stays inside.
  void pack_weights(const float* weights, const float* bias, size_t width);
  void run(const float* in, float* out, ThreadPool* pool, const ConvOutput& o) const;
  // Stride-1 convolutions: GEMM over a padded copy of the input, whose im2col rows are contiguous slices.
  void run_padded(const float* in, float* out, ThreadPool* pool, const ConvOutput& o) const;
  // Small images (7x7): the GEMM with pixels as rows, so a tile of MR pixels keeps every vector lane on
  // output channels; its C block (pixels x NR channels) is transposed into NCHW once, with the epilogue.
  void run_pixel_major(const float* in, float* out, ThreadPool* pool, const ConvOutput& o) const;
};

}  // namespace netscore::kernels
