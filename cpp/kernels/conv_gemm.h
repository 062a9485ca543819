// Convolution as a packed GEMM per group: weights packed into MR-row panels at construction, input columns
// packed on the fly (implicit im2col; a plain copy for 1x1 stride-1 convolutions) into NR-column panels.
#pragma once
#include <vector>

#include "kernels/ukernels.h"

namespace netscore::kernels {

struct ConvGemm {
  Conv2dShape s;
  const F32GemmUkernel* ukernel = nullptr;
  size_t m = 0, k = 0, n = 0;    // per group: c_out/group, c_in/group*kh*kw, out_h*out_w
  size_t kc = 0;                 // K block
  std::vector<float> a_packed;   // [group][m panels][k][MR]
  std::vector<float> bias;       // c_out values (zeros when absent)
  float lo = 0, hi = 0;
  void init(const Conv2dShape& shape, const float* weights, const float* bias, Isa isa, float lo, float hi);
  // rest_act: activation applied per tile after the clamp (nullptr if none).
  void run(const float* in, float* out, ThreadPool* pool, const Activation* rest_act, const F32VactUkernel* vact) const;
};

// Pack columns [n0, n0 + nc) and rows [k0, k0 + kc) of the implicit im2col matrix of one image and group
// (x points at the group's first input channel) into NR-column panels (kc x NR each, zero-padded).
void pack_conv_columns(const Conv2dShape& s, const float* x, size_t k0, size_t kc, size_t n0, size_t nc,
                       size_t nr, float* dst);

}  // namespace netscore::kernels
