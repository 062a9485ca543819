// Quantized ops: QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear, and com.microsoft QLinearAdd/QLinearMul/QGemm/QLinearAveragePool/
// QLinearGlobalAveragePool/MatMulNBits/DynamicQuantizeMatMul/MatMulIntegerToFloat/QAttention/QLinearSigmoid/
// QLinearLeakyRelu/QLinearSoftmax/QLinearConcat/QuantizeLinear/DequantizeLinear (DynamicQuantizeLSTM is with
// the LSTM in rnn.cpp). A fused quantized op costs what the float op it implements costs (its rescaling is
// not counted); explicit QuantizeLinear/DequantizeLinear nodes are counted per element.
#include <string>
#include <vector>

#include "graph/cost.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

constexpr size_t kNone = SIZE_MAX;

// Type of the quantized output: that of the output zero point when given, else `fallback`.
int32_t zero_point_type(const OpContext& ctx, size_t zp_index, int32_t fallback) {
  const Value* zp = ctx.input(zp_index);
  return zp && zp->dtype ? zp->dtype : fallback;
}

// QLinearConv: x(0) x_scale x_zp w(3) w_scale w_zp y_scale y_zp(7) B(8).
void infer_qlinear_conv(OpContext& ctx) {
  infer_conv_like(ctx, 0, 3, 8, zero_point_type(ctx, 7, data_input(ctx, "0").dtype));
}
Cost cost_qlinear_conv(const OpContext& ctx) { return cost_conv_like(ctx, 3, ctx.input(8) != nullptr); }

// ConvInteger: x, w, x_zp, w_zp -> int32.
void infer_conv_integer(OpContext& ctx) { infer_conv_like(ctx, 0, 1, kNone, onnx::kInt32); }
Cost cost_conv_integer(const OpContext& ctx) { return cost_conv_like(ctx, 1, false); }

// QLinearMatMul: a(0) a_scale a_zp b(3) b_scale b_zp y_scale y_zp(7).
void infer_qlinear_matmul(OpContext& ctx) {
  infer_matmul_like(ctx, 0, 3, zero_point_type(ctx, 7, data_input(ctx, "0").dtype));
}
Cost cost_qlinear_matmul(const OpContext& ctx) { return cost_matmul_like(ctx, 0, 3); }

// MatMulInteger: A, B, a_zp, b_zp -> int32.
void infer_matmul_integer(OpContext& ctx) { infer_matmul_like(ctx, 0, 1, onnx::kInt32); }
Cost cost_matmul_integer(const OpContext& ctx) { return cost_matmul_like(ctx, 0, 1); }

// QuantizeLinear: y = saturate(round(x / scale) + zero_point); type from y_zp, else output_dtype, else uint8.
void infer_quantize(OpContext& ctx) {
  const Value& x = data_input(ctx, "0");
  int32_t t = static_cast<int32_t>(ctx.attr_int("output_dtype", 0));
  if (t == 0) t = onnx::kUint8;
  set_output(ctx, 0, zero_point_type(ctx, 2, t), x.rank_known, x.dims);
}
Cost cost_quantize(const OpContext& ctx) { return per_element(ctx.input(0), 4); }  // divide, round, add, saturate

// DequantizeLinear: y = (x - zero_point) * scale; type of the scale (or output_dtype, opset 23).
void infer_dequantize(OpContext& ctx) {
  const Value& x = data_input(ctx, "0");
  const Value* scale = ctx.input(1);
  int32_t t = static_cast<int32_t>(ctx.attr_int("output_dtype", 0));
  if (t == 0) t = scale && scale->dtype ? scale->dtype : onnx::kFloat;
  set_output(ctx, 0, t, x.rank_known, x.dims);
}
Cost cost_dequantize(const OpContext& ctx) { return per_element(ctx.input(0), 2); }  // subtract, multiply

// DynamicQuantizeLinear: x -> y (uint8, x's shape), y_scale (float scalar), y_zero_point (uint8 scalar).
void infer_dynamic_quantize(OpContext& ctx) {
  const Value& x = data_input(ctx, "0");
  set_output(ctx, 0, onnx::kUint8, x.rank_known, x.dims);
  set_output(ctx, 1, onnx::kFloat, true, {});
  set_output(ctx, 2, onnx::kUint8, true, {});
}
Cost cost_dynamic_quantize(const OpContext& ctx) { return per_element(ctx.input(0), 6); }  // min, max + quantize (4)

// com.microsoft QLinearAdd / QLinearMul: A(0) A_scale A_zp B(3) B_scale B_zp C_scale C_zp; broadcast A, B.
void infer_qlinear_binary(OpContext& ctx) {
  const Value& a = data_input(ctx, "0");
  const Value* b = ctx.input(3);
  if (!b) ctx.fail("missing input B");
  if (!a.rank_known || !b->rank_known) {
    set_output(ctx, 0, a.dtype, false, {});
    return;
  }
  auto out = broadcast_shapes(a.dims, b->dims);
  if (!out) ctx.fail("shapes " + dims_str(a.dims) + " and " + dims_str(b->dims) + " do not broadcast");
  set_output(ctx, 0, a.dtype, true, *out);
}
Cost cost_qlinear_binary(const OpContext& ctx) {
  const Value* y = ctx.output(0);
  if (!y || !y->shape_known()) return {0, 0, false};
  return {0, product(y->dims), true};
}

// com.microsoft QGemm: A(0) a_scale a_zp B(3) b_scale b_zp C(6) y_scale(7) y_zp(8); float output without y_scale.
void infer_qgemm(OpContext& ctx) {
  const int32_t t = ctx.input(7) ? zero_point_type(ctx, 8, data_input(ctx, "0").dtype) : onnx::kFloat;
  infer_gemm_like(ctx, 0, 3, 6, t);
}
Cost cost_qgemm(const OpContext& ctx) { return cost_gemm_like(ctx, 0, 3, ctx.input(6) != nullptr); }

// com.microsoft QLinearAveragePool / QLinearGlobalAveragePool: X(0) x_scale x_zp y_scale y_zp;
// channels_last = 1 puts C last (N, spatial..., C).
struct Layout {
  std::vector<int64_t> spatial;
  size_t first = 2;  // index of the first spatial dim
};

Layout pool_layout(const OpContext& ctx, const Value& x) {
  if (x.dims.size() < 3) ctx.fail("input must have rank >= 3, got " + dims_str(x.dims));
  Layout l;
  const bool last = ctx.attr_int("channels_last", 0) != 0;
  l.first = last ? 1 : 2;
  l.spatial.assign(x.dims.begin() + l.first, x.dims.begin() + l.first + (x.dims.size() - 2));
  return l;
}

void infer_qlinear_global_pool(OpContext& ctx) {
  const Value& x = data_input(ctx, "0");
  const int32_t t = zero_point_type(ctx, 4, x.dtype);
  if (!x.rank_known) return set_output(ctx, 0, t, false, {});
  const Layout l = pool_layout(ctx, x);
  std::vector<int64_t> d = x.dims;
  for (size_t i = 0; i < l.spatial.size(); ++i) d[l.first + i] = 1;
  set_output(ctx, 0, t, true, d);
}

void infer_qlinear_average_pool(OpContext& ctx) {
  const Value& x = data_input(ctx, "0");
  const int32_t t = zero_point_type(ctx, 4, x.dtype);
  const std::vector<int64_t> ks = ctx.attr_ints("kernel_shape");
  if (ks.empty()) ctx.fail("kernel_shape is required");
  if (!x.rank_known) return set_output(ctx, 0, t, false, {});
  const Layout l = pool_layout(ctx, x);
  auto r = window_output(l.spatial, ks, ctx.attr_ints("strides"), {}, ctx.attr_ints("pads"),
                         auto_pad_attr(ctx), ctx.attr_int("ceil_mode", 0) != 0);
  if (!r) ctx.fail("kernel " + dims_str(ks) + " does not fit input " + dims_str(x.dims));
  std::vector<int64_t> d = x.dims;
  for (size_t i = 0; i < l.spatial.size(); ++i) d[l.first + i] = r->out[i];
  set_output(ctx, 0, t, true, d);
}

// As the float pools: one add per input element (global) or window element, one divide per output.
Cost cost_qlinear_global_pool(const OpContext& ctx) {
  const Value* x = ctx.input(0);
  const Value* y = ctx.output(0);
  if (!x || !y || !x->shape_known() || !y->shape_known()) return {0, 0, false};
  return {0, add_sat(product(x->dims), product(y->dims)), true};
}
Cost cost_qlinear_average_pool(const OpContext& ctx) {
  const Value* y = ctx.output(0);
  if (!y || !y->shape_known()) return {0, 0, false};
  return {0, mul_sat(product(y->dims), add_sat(product(ctx.attr_ints("kernel_shape")), 1)), true};
}

// com.microsoft MatMulNBits: A (..., K) x B packed to `bits` bits (N, K / block_size, blob) -> (..., N);
// inputs scales (2), zero_points (3), g_idx (4), bias (5).
void infer_matmul_nbits(OpContext& ctx) {
  const Value& a = data_input(ctx, "0");
  const int64_t k = ctx.attr_int("K", -1), n = ctx.attr_int("N", -1);
  if (k < 1 || n < 1) ctx.fail("attributes K and N are required");
  if (!a.rank_known) return set_output(ctx, 0, a.dtype, false, {});
  if (a.dims.empty()) ctx.fail("A must have rank >= 1");
  if (a.dims.back() >= 0 && a.dims.back() != k)
    ctx.fail("A's last dim " + std::to_string(a.dims.back()) + " != K = " + std::to_string(k));
  std::vector<int64_t> d = a.dims;
  d.back() = n;
  set_output(ctx, 0, a.dtype, true, d);
}

// MACs = rows of A x N x K, as the float MatMul it replaces.
Cost cost_matmul_nbits(const OpContext& ctx) {
  const Value* y = ctx.output(0);
  if (!y || !y->shape_known()) return {0, 0, false};
  const int64_t out = product(y->dims);
  const int64_t macs = mul_sat(out, ctx.attr_int("K", -1));
  int64_t flops = mul_sat(macs, 2);
  if (ctx.input(5)) flops = add_sat(flops, out);
  return {macs, flops, true};
}

// com.microsoft DynamicQuantizeMatMul: A (float) x B (int8), b_scale, b_zero_point, bias (4) -> float;
// MatMulIntegerToFloat: A, B, a_scale (2), b_scale, a_zero_point, b_zero_point, bias (6) -> a_scale's type.
// Both are MatMul (+ bias adds), as the float graph they replace.
constexpr size_t kDqmmBias = 4, kMmitfBias = 6;

void infer_dynamic_quantize_matmul(OpContext& ctx) { infer_matmul_like(ctx, 0, 1, data_input(ctx, "A").dtype); }
void infer_matmul_integer_to_float(OpContext& ctx) {
  const Value* a_scale = ctx.input(2);
  infer_matmul_like(ctx, 0, 1, a_scale && a_scale->dtype ? a_scale->dtype : onnx::kFloat);
}

Cost matmul_plus_bias(const OpContext& ctx, size_t bias_index) {
  Cost c = cost_matmul_like(ctx, 0, 1);
  if (c.known && ctx.input(bias_index)) c.flops = add_sat(c.flops, product(ctx.output(0)->dims));
  return c;
}
Cost cost_dynamic_quantize_matmul(const OpContext& ctx) { return matmul_plus_bias(ctx, kDqmmBias); }
Cost cost_matmul_integer_to_float(const OpContext& ctx) { return matmul_plus_bias(ctx, kMmitfBias); }

// com.microsoft QAttention: input (0, uint8/int8), weight (1, int8), bias (2, float), input_scale (3),
// weight_scale (4), mask_index (5), input_zero_point (6), weight_zero_point (7), past (8) -> float.
// As com.microsoft Attention: the QKV projection, then attention.
constexpr size_t kQAttentionMask = 5, kQAttentionPast = 8;
void infer_qattention(OpContext& ctx) {
  const Value* scale = ctx.input(3);
  infer_ms_attention_like(ctx, kQAttentionPast, scale && scale->dtype ? scale->dtype : onnx::kFloat);
}
Cost cost_qattention(const OpContext& ctx) {
  return cost_ms_attention_like(ctx, kQAttentionPast, ctx.input(kQAttentionMask) != nullptr);
}

// com.microsoft QLinearSigmoid / QLinearLeakyRelu / QLinearSoftmax: X(0) X_scale X_zp Y_scale Y_zp(4) -> X's
// shape, Y_zp's type; the float activation's FLOPs per element.
void infer_qlinear_unary(OpContext& ctx) {
  const Value& x = data_input(ctx);
  set_output(ctx, 0, zero_point_type(ctx, 4, x.dtype), x.rank_known, x.dims);
}
Cost cost_qlinear_sigmoid(const OpContext& ctx) {
  return per_element(ctx.input(0), cost::elementwise_flops_per_element("Sigmoid"));
}
Cost cost_qlinear_leaky_relu(const OpContext& ctx) {
  return per_element(ctx.input(0), cost::elementwise_flops_per_element("LeakyRelu"));
}
Cost cost_qlinear_softmax(const OpContext& ctx) { return per_element(ctx.input(0), 5); }  // as Softmax

// com.microsoft QLinearConcat: Y_scale (0), Y_zero_point (1), then (X, X_scale, X_zero_point) per input. The
// shape rule is Concat's own, looked up in the registry and applied to the Xs; like Concat it costs nothing
// (the requantization is not counted).
constexpr size_t kQConcatFirst = 2, kQConcatStride = 3;
void infer_qlinear_concat(OpContext& ctx) {
  const size_t n = ctx.num_inputs();
  if (n < kQConcatFirst + kQConcatStride || (n - kQConcatFirst) % kQConcatStride != 0)
    ctx.fail("needs Y_scale, Y_zero_point and (X, X_scale, X_zero_point) for each input, got " +
             std::to_string(n) + " inputs");
  std::vector<const Value*> xs;
  for (size_t i = kQConcatFirst; i < n; i += kQConcatStride) xs.push_back(ctx.input(i));
  const std::vector<Value*> outs{ctx.output(0)};
  OpContext inner(ctx.node(), ctx.opset(), xs, outs, std::string_view());
  default_registry().find("", "Concat")->infer(inner);
  if (Value* y = ctx.output(0); y && ctx.input(1) && ctx.input(1)->dtype) y->dtype = ctx.input(1)->dtype;
}
constexpr uint64_t qlinear_concat_params() {  // the X positions
  uint64_t m = 0;
  for (int i = kQConcatFirst; i < 64; i += kQConcatStride) m |= bit(i);
  return m;
}

OpDef quantized(InferFn infer, CostFn cost, uint64_t params) {
  OpDef d{infer, cost, params};
  d.integer_weights = true;  // int8/uint8 constants at weight positions are the model's weights
  return d;
}

}  // namespace

void register_quantized(OpRegistry& r) {
  // Scales and zero points are never params; only the weight (and bias) positions are.
  r.add("", "QLinearConv", quantized(infer_qlinear_conv, cost_qlinear_conv, bit(3) | bit(8)));
  r.add("", "QLinearMatMul", quantized(infer_qlinear_matmul, cost_qlinear_matmul, bit(0) | bit(3)));
  r.add("", "ConvInteger", quantized(infer_conv_integer, cost_conv_integer, bit(0) | bit(1)));
  r.add("", "MatMulInteger", quantized(infer_matmul_integer, cost_matmul_integer, bit(0) | bit(1)));
  r.add("", "QuantizeLinear", OpDef{infer_quantize, cost_quantize, bit(0)});
  // In QDQ models int8 weights flow DequantizeLinear -> Conv: input 0 is the weight position.
  r.add("", "DequantizeLinear", quantized(infer_dequantize, cost_dequantize, bit(0)));
  r.add("", "DynamicQuantizeLinear", OpDef{infer_dynamic_quantize, cost_dynamic_quantize, bit(0)});
  r.add("com.microsoft", "QLinearAdd", quantized(infer_qlinear_binary, cost_qlinear_binary, bit(0) | bit(3)));
  r.add("com.microsoft", "QLinearMul", quantized(infer_qlinear_binary, cost_qlinear_binary, bit(0) | bit(3)));
  // packed low-bit weights B and the bias; scales, zero points and g_idx are not params
  r.add("com.microsoft", "MatMulNBits", quantized(infer_matmul_nbits, cost_matmul_nbits, bit(0) | bit(1) | bit(5)));
  r.add("com.microsoft", "QGemm", quantized(infer_qgemm, cost_qgemm, bit(0) | bit(3) | bit(6)));
  r.add("com.microsoft", "DynamicQuantizeMatMul",
        quantized(infer_dynamic_quantize_matmul, cost_dynamic_quantize_matmul, bit(0) | bit(1) | bit(kDqmmBias)));
  r.add("com.microsoft", "MatMulIntegerToFloat",
        quantized(infer_matmul_integer_to_float, cost_matmul_integer_to_float, bit(0) | bit(1) | bit(kMmitfBias)));
  r.add("com.microsoft", "QAttention", quantized(infer_qattention, cost_qattention, bit(0) | bit(1) | bit(2)));
  r.add("com.microsoft", "QLinearSigmoid", quantized(infer_qlinear_unary, cost_qlinear_sigmoid, bit(0)));
  r.add("com.microsoft", "QLinearLeakyRelu", quantized(infer_qlinear_unary, cost_qlinear_leaky_relu, bit(0)));
  r.add("com.microsoft", "QLinearSoftmax", quantized(infer_qlinear_unary, cost_qlinear_softmax, bit(0)));
  r.add("com.microsoft", "QLinearConcat", quantized(infer_qlinear_concat, nullptr, qlinear_concat_params()));
  // onnxruntime's older QDQ models put QuantizeLinear / DequantizeLinear in com.microsoft: the same ops
  r.add("com.microsoft", "QuantizeLinear", OpDef{infer_quantize, cost_quantize, bit(0)});
  r.add("com.microsoft", "DequantizeLinear", quantized(infer_dequantize, cost_dequantize, bit(0)));
  r.add("com.microsoft", "QLinearAveragePool", quantized(infer_qlinear_average_pool, cost_qlinear_average_pool, bit(0)));
  r.add("com.microsoft", "QLinearGlobalAveragePool",
        quantized(infer_qlinear_global_pool, cost_qlinear_global_pool, bit(0)));
}

}  // namespace netscore::graph
