// Every op family registers itself through one of these; register_all.cpp calls each, explicitly.
#pragma once
#include <cstddef>
#include <cstdint>

#include "graph/op_registry.h"

namespace netscore::graph {
// shape and layout ops: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Expand, Tile, Cast, ...
// (shape_ops.cpp)
void register_shape_ops(OpRegistry& r);
// indexing ops: Slice, Gather*, Scatter*, NonZero, Compress, OneHot, Unique, ... (indexing.cpp)
void register_indexing(OpRegistry& r);
// Concat, Split, Pad, CenterCropPad (concat_split_pad.cpp)
void register_concat_split_pad(OpRegistry& r);
// Constant, ConstantOfShape, Range, random generators, EyeLike (constant.cpp)
void register_constant(OpRegistry& r);
// arithmetic, comparison, logic and activation ops, elementwise with broadcasting (elementwise.cpp)
void register_elementwise(OpRegistry& r);
// Conv, ConvTranspose (conv.cpp)
void register_conv(OpRegistry& r);
// MaxPool, AveragePool, LpPool, Global*Pool, MaxUnpool, MaxRoiPool (pool.cpp)
void register_pool(OpRegistry& r);
// Gemm, MatMul, Einsum (linear.cpp)
void register_linear(OpRegistry& r);
// BatchNormalization, LayerNormalization, InstanceNormalization, GroupNormalization, LRN, ... (norm.cpp)
void register_norm(OpRegistry& r);
// Reduce*, Softmax, LogSoftmax, Hardmax, ArgMax/ArgMin, TopK, CumSum (reduce.cpp)
void register_reduce(OpRegistry& r);
// Resize, Upsample, DepthToSpace, SpaceToDepth, GridSample (resize.cpp)
void register_resize(OpRegistry& r);
// LSTM, GRU, RNN, com.microsoft DynamicQuantizeLSTM (rnn.cpp)
void register_rnn(OpRegistry& r);
// QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, QuantizeLinear, DequantizeLinear, ... (quantized.cpp)
void register_quantized(OpRegistry& r);
// ai.onnx.ml: LinearClassifier/Regressor, TreeEnsemble*, Normalizer, Scaler, ZipMap, LabelEncoder, ... (ml.cpp)
void register_ml(OpRegistry& r);
// Attention (ai.onnx) and com.microsoft Attention/MultiHeadAttention (attention.cpp)
void register_attention(OpRegistry& r);
// If, Loop, Scan: their subgraphs are walked by the walker (control_flow.cpp)
void register_control_flow(OpRegistry& r);
}  // namespace netscore::graph

// Shape and cost helpers shared between compute families (quantized and contrib ops reuse the float ones);
// the *_index arguments locate the operands among the node's inputs, SIZE_MAX for "none".
namespace netscore::graph {
void infer_conv_like(OpContext& ctx, size_t x_index, size_t w_index, size_t b_index, int32_t out_dtype);  // conv.cpp
Cost cost_conv_like(const OpContext& ctx, size_t w_index, bool has_bias);                               // conv.cpp
void infer_matmul_like(OpContext& ctx, size_t a_index, size_t b_index, int32_t out_dtype);              // linear.cpp
Cost cost_matmul_like(const OpContext& ctx, size_t a_index, size_t b_index);                           // linear.cpp
void infer_gemm_like(OpContext& ctx, size_t a_index, size_t b_index, size_t c_index, int32_t out_dtype);  // linear.cpp
Cost cost_gemm_like(const OpContext& ctx, size_t a_index, size_t b_index, bool has_c);                 // linear.cpp
// com.microsoft Attention's rule (input 0, weights 1, bias 2; past at past_index), shared with QAttention:
void infer_ms_attention_like(OpContext& ctx, size_t past_index, int32_t out_dtype);                   // attention.cpp
Cost cost_ms_attention_like(const OpContext& ctx, size_t past_index, bool masked);                     // attention.cpp
}  // namespace netscore::graph
