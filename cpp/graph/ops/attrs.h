// Typed attributes of the compute ops (conv, pooling, Gemm, BatchNormalization): each parsed once from the
// node, with its ONNX defaults declared here; the op's shape rule and cost rule take the struct, and timing
// (cpp/measure) reads the same structs through graph::analysed_nodes(). Lists are views of the node's
// attributes, valid while the model is.
#pragma once
#include <cstdint>

#include "graph/ops/shape_util.h"
#include "netscore/window.h"

namespace netscore::graph {

class OpContext;

// Sliding window of Conv-like and pooling ops. An empty list means the ONNX default for every spatial dim.
struct WindowAttrs {
  IntsView kernel_shape;  // Conv: optional (the weight's spatial dims); pooling: required
  IntsView strides;       // default 1
  IntsView dilations;     // default 1
  IntsView pads;          // default 0; begin pads of every axis, then end pads
  window::AutoPad auto_pad = window::AutoPad::notset;

  int64_t stride(size_t i) const { return strides.empty() ? 1 : strides[i]; }
  int64_t dilation(size_t i) const { return dilations.empty() ? 1 : dilations[i]; }
};

// Conv, ConvTranspose, QLinearConv, ConvInteger, DeformConv, FusedConv.
struct ConvAttrs : WindowAttrs {
  int64_t group = 1;
};

// MaxPool, AveragePool, LpPool.
struct PoolAttrs : WindowAttrs {
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool
};

// Gemm: Y = alpha * A' * B' + beta * C.
struct GemmAttrs {
  float alpha = 1.0f;
  float beta = 1.0f;
  bool trans_a = false;
  bool trans_b = false;
};

// BatchNormalization.
struct BatchNormAttrs {
  bool training_mode = false;  // opset 14+: the attribute; before: any output past Y is requested
};

// Parsers (type-checked: a wrong attribute type fails naming the node).
ConvAttrs parse_conv_attrs(const OpContext& ctx);            // conv.cpp
PoolAttrs parse_pool_attrs(const OpContext& ctx);            // pool.cpp
GemmAttrs parse_gemm_attrs(const OpContext& ctx);            // linear.cpp
BatchNormAttrs parse_batch_norm_attrs(const OpContext& ctx); // norm.cpp

}  // namespace netscore::graph
