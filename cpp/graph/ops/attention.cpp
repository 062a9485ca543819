// Attention (ai.onnx, opset 23), FlexAttention (ai.onnx.preview), RotaryEmbedding, LinearAttention,
// TensorScatter, and com.microsoft Attention, MultiHeadAttention, GroupQueryAttention, SkipLayerNormalization,
// SkipSimplifiedLayerNormalization, RotaryEmbedding, BiasGelu, FastGelu, Gelu, QuickGelu.
// MACs: QK^T + PV per head (+ the input projection of com.microsoft Attention).
#include <algorithm>
#include <string>

#include "graph/cost.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

// Per attention score: scale (1) + softmax (5: max, subtract, exp, sum, divide).
constexpr int64_t kFlopsPerScore = 6;

int64_t div_known(int64_t a, int64_t b) { return a < 0 || b <= 0 ? -1 : a / b; }
int64_t add_known(int64_t a, int64_t b) { return add_sat(a, b); }

// Dimensions of one attention computation, -1 where unknown.
struct AttnDims {
  int64_t batch = -1, q_heads = -1, kv_heads = -1, q_seq = -1, kv_seq = -1, past = 0, head = -1, v_head = -1;
  bool four_d = false;
  int32_t dtype = 0;
  int64_t total() const { return add_known(kv_seq, past); }
};

// Cost of QK^T and PV over all heads plus the per-score scale/softmax (and mask add).
Cost attention_cost(const AttnDims& d, bool masked) {
  const int64_t scores = product({d.batch, d.q_heads, d.q_seq, d.total()});
  const int64_t per_score = add_known(d.head, d.v_head);
  if (scores < 0 || per_score < 0) return {0, 0, false};
  const int64_t macs = mul_sat(scores, per_score);
  const int64_t flops = add_sat(mul_sat(macs, cost::kFlopsPerMac), mul_sat(scores, kFlopsPerScore + (masked ? 1 : 0)));
  return {macs, flops, true};
}

// ---- ai.onnx Attention: Q (B, Sq, Hq*D) with q_num_heads or (B, Hq, Sq, D); K, V likewise with kv_num_heads.
AttnDims onnx_attention_dims(const OpContext& ctx) {
  const Value* q = ctx.input(0);
  const Value* k = ctx.input(1);
  const Value* v = ctx.input(2);
  if (!q || !k || !v) ctx.fail("needs Q, K and V");
  AttnDims d;
  d.dtype = q->dtype;
  if (!q->rank_known) {
    d.four_d = k->rank_known && k->dims.size() == 4;
    return d;
  }
  if (q->dims.size() != 3 && q->dims.size() != 4) ctx.fail("Q must be 3-D or 4-D, got " + dims_str(q->dims));
  d.four_d = q->dims.size() == 4;
  for (const Value* t : {k, v})
    if (t->rank_known && t->dims.size() != q->dims.size())
      ctx.fail("Q, K and V must have the same rank: " + dims_str(q->dims) + " vs " + dims_str(t->dims));
  d.batch = q->dims[0];
  if (d.four_d) {
    d.q_heads = q->dims[1];
    d.q_seq = q->dims[2];
    d.head = q->dims[3];
    if (k->rank_known) d.kv_heads = k->dims[1], d.kv_seq = k->dims[2];
    if (v->rank_known) d.v_head = v->dims[3];
    if (k->rank_known && k->dims[3] >= 0 && d.head >= 0 && k->dims[3] != d.head)
      ctx.fail("Q head size " + std::to_string(d.head) + " != K head size " + std::to_string(k->dims[3]));
  } else {
    d.q_heads = ctx.attr_int("q_num_heads", -1);
    d.kv_heads = ctx.attr_int("kv_num_heads", -1);
    if (d.q_heads < 1 || d.kv_heads < 1) ctx.fail("3-D inputs need q_num_heads and kv_num_heads");
    d.q_seq = q->dims[1];
    d.head = div_known(q->dims[2], d.q_heads);
    if (k->rank_known) d.kv_seq = k->dims[1];
    if (v->rank_known) d.v_head = div_known(v->dims[2], d.kv_heads);
  }
  if (d.q_heads > 0 && d.kv_heads > 0 && d.q_heads % d.kv_heads != 0)
    ctx.fail("q heads " + std::to_string(d.q_heads) + " not a multiple of kv heads " + std::to_string(d.kv_heads));
  if (const Value* pk = ctx.input(4)) d.past = pk->rank_known && pk->dims.size() == 4 ? pk->dims[2] : -1;
  return d;
}

void infer_onnx_attention(OpContext& ctx) {
  const AttnDims d = onnx_attention_dims(ctx);
  const Value* q = ctx.input(0);
  if (!q->rank_known) {
    for (size_t i = 0; i < ctx.num_outputs(); ++i) set_output(ctx, i, d.dtype, false, {});
    return;
  }
  if (d.four_d) set_output(ctx, 0, d.dtype, true, {d.batch, d.q_heads, d.q_seq, d.v_head});
  else set_output(ctx, 0, d.dtype, true, {d.batch, d.q_seq, mul_sat(d.q_heads, d.v_head)});
  set_output(ctx, 1, d.dtype, true, {d.batch, d.kv_heads, d.total(), d.head});
  set_output(ctx, 2, d.dtype, true, {d.batch, d.kv_heads, d.total(), d.v_head});
  set_output(ctx, 3, d.dtype, true, {d.batch, d.q_heads, d.q_seq, d.total()});
}

Cost cost_onnx_attention(const OpContext& ctx) {
  return attention_cost(onnx_attention_dims(ctx), ctx.input(3) != nullptr || ctx.attr_int("is_causal", 0) != 0);
}

// ---- ai.onnx.preview FlexAttention: rank-4 Q, K, V as in Attention; Y (B, Hq, Sq, Dv). The optional
// score_mod / prob_mod subgraphs are elementwise on the scores and are not counted.
void infer_flex_attention(OpContext& ctx) {
  for (size_t i = 0; i < 3; ++i)
    if (const Value* v = ctx.input(i); v && v->rank_known && v->dims.size() != 4)
      ctx.fail("Q, K and V must be 4-D, got " + dims_str(v->dims));
  const AttnDims d = onnx_attention_dims(ctx);
  const Value* q = ctx.input(0);
  set_output(ctx, 0, d.dtype, q->rank_known, {d.batch, d.q_heads, d.q_seq, d.v_head});
}

Cost cost_flex_attention(const OpContext& ctx) { return attention_cost(onnx_attention_dims(ctx), false); }

// ---- com.microsoft Attention: input (B, S, D_in) x weights (D_in, Dq + Dk + Dv) + bias, num_heads heads;
// past (2, B, N, P, H) -> present (2, B, N, P + S, H).
struct MsAttn {
  AttnDims d;
  int64_t d_in = -1, d_qkv = -1, d_v = -1;
};

MsAttn ms_attention_dims(const OpContext& ctx, size_t past_index) {
  const Value* x = ctx.input(0);
  const Value* w = ctx.input(1);
  if (!x || !w) ctx.fail("needs input and weights");
  MsAttn m;
  AttnDims& d = m.d;
  d.dtype = x->dtype;
  d.q_heads = d.kv_heads = ctx.attr_int("num_heads", -1);
  if (d.q_heads < 1) ctx.fail("num_heads is required");
  if (x->rank_known) {
    if (x->dims.size() != 3) ctx.fail("input must be 3-D, got " + dims_str(x->dims));
    d.batch = x->dims[0];
    d.q_seq = d.kv_seq = x->dims[1];
    m.d_in = x->dims[2];
  }
  if (w->rank_known) {
    if (w->dims.size() != 2) ctx.fail("weights must be 2-D, got " + dims_str(w->dims));
    if (m.d_in >= 0 && w->dims[0] >= 0 && w->dims[0] != m.d_in)
      ctx.fail("weights rows " + std::to_string(w->dims[0]) + " != input hidden size " + std::to_string(m.d_in));
    if (m.d_in < 0) m.d_in = w->dims[0];
    m.d_qkv = w->dims[1];
  }
  const std::vector<int64_t> sizes = ctx.attr_ints("qkv_hidden_sizes");
  int64_t dq = -1, dv = -1;
  if (sizes.size() == 3) {
    dq = sizes[0], dv = sizes[2];
  } else if (m.d_qkv >= 0) {
    if (m.d_qkv % 3 != 0) ctx.fail("weights columns " + std::to_string(m.d_qkv) + " not divisible by 3");
    dq = dv = m.d_qkv / 3;
  }
  m.d_v = dv;
  d.head = div_known(dq, d.q_heads);
  d.v_head = div_known(dv, d.q_heads);
  if (const Value* past = ctx.input(past_index))
    d.past = past->rank_known && past->dims.size() == 5 ? past->dims[3] : -1;
  return m;
}

}  // namespace

void infer_ms_attention_like(OpContext& ctx, size_t past_index, int32_t out_dtype) {
  const MsAttn m = ms_attention_dims(ctx, past_index);
  const AttnDims& d = m.d;
  set_output(ctx, 0, out_dtype, true, {d.batch, d.q_seq, m.d_v});
  set_output(ctx, 1, out_dtype, true, {2, d.batch, d.q_heads, d.total(), d.head});
}

Cost cost_ms_attention_like(const OpContext& ctx, size_t past_index, bool masked) {
  const MsAttn m = ms_attention_dims(ctx, past_index);
  Cost c = attention_cost(m.d, masked);
  const int64_t tokens = mul_sat(m.d.batch, m.d.q_seq);
  const int64_t proj = mul_sat(tokens, mul_sat(m.d_in, m.d_qkv));  // input projection to Q, K, V
  if (!c.known || proj < 0) return {0, 0, false};
  c.macs = add_sat(c.macs, proj);
  c.flops = add_sat(c.flops, mul_sat(proj, cost::kFlopsPerMac));
  if (ctx.input(2)) c.flops = add_sat(c.flops, mul_sat(tokens, m.d_qkv));
  return c;
}

namespace {

// input (0), weights (1), bias (2), mask_index (3), past (4), attention_bias (5)
void infer_ms_attention(OpContext& ctx) { infer_ms_attention_like(ctx, 4, ctx.input(0) ? ctx.input(0)->dtype : 0); }
Cost cost_ms_attention(const OpContext& ctx) {
  return cost_ms_attention_like(ctx, 4, ctx.input(3) != nullptr || ctx.input(5) != nullptr);
}

// ---- com.microsoft MultiHeadAttention: query (B, S, D); key/value (B, L, D) or (B, N, L, H); num_heads.
AttnDims mha_dims(const OpContext& ctx) {
  const Value* q = ctx.input(0);
  const Value* k = ctx.input(1);
  const Value* v = ctx.input(2);
  if (!q) ctx.fail("missing query");
  if (!k || !v) ctx.unsupported("MultiHeadAttention with packed QKV or packed KV");
  AttnDims d;
  d.dtype = q->dtype;
  d.q_heads = d.kv_heads = ctx.attr_int("num_heads", -1);
  if (d.q_heads < 1) ctx.fail("num_heads is required");
  if (q->rank_known) {
    if (q->dims.size() != 3) ctx.unsupported("MultiHeadAttention with packed query");
    d.batch = q->dims[0];
    d.q_seq = q->dims[1];
    d.head = div_known(q->dims[2], d.q_heads);
  }
  if (k->rank_known) {
    if (k->dims.size() == 3) d.kv_seq = k->dims[1];
    else if (k->dims.size() == 4) d.kv_seq = k->dims[2];
    else ctx.unsupported("MultiHeadAttention key of rank " + std::to_string(k->dims.size()));
  }
  if (v->rank_known) {
    if (v->dims.size() == 3) d.v_head = div_known(v->dims[2], d.q_heads);
    else if (v->dims.size() == 4) d.v_head = v->dims[3];
  }
  if (const Value* pk = ctx.input(6)) d.past = pk->rank_known && pk->dims.size() == 4 ? pk->dims[2] : -1;
  return d;
}

void infer_mha(OpContext& ctx) {
  const AttnDims d = mha_dims(ctx);
  set_output(ctx, 0, d.dtype, true, {d.batch, d.q_seq, mul_sat(d.v_head, d.q_heads)});
  set_output(ctx, 1, d.dtype, true, {d.batch, d.q_heads, d.total(), d.head});
  set_output(ctx, 2, d.dtype, true, {d.batch, d.q_heads, d.total(), d.v_head});
}

Cost cost_mha(const OpContext& ctx) {
  Cost c = attention_cost(mha_dims(ctx), ctx.input(4) != nullptr || ctx.input(5) != nullptr);
  const Value* bias = ctx.input(3);
  if (c.known && bias) {
    if (!bias->shape_known()) return {0, 0, false};
    const Value* q = ctx.input(0);
    c.flops = add_sat(c.flops, mul_sat(product(q->dims) / std::max<int64_t>(q->dims.back(), 1), product(bias->dims)));
  }
  return c;
}

// ---- com.microsoft GroupQueryAttention: query (B, S, Hq * D) (or packed QKV (B, S, (Hq + 2 Hkv) * D) when
// key/value are absent), key/value (B, S, Hkv * D), past_key/value (B, Hkv, P, D) (3, 4), seqlens_k (5),
// total_sequence_length (6). present: (B, Hkv, max(P, total), D).
struct GqaDims {
  AttnDims d;
  int64_t present = -1;
};

GqaDims gqa_dims(const OpContext& ctx) {
  const Value* q = ctx.input(0);
  if (!q) ctx.fail("missing query");
  GqaDims g;
  AttnDims& d = g.d;
  d.dtype = q->dtype;
  d.q_heads = ctx.attr_int("num_heads", 0);
  d.kv_heads = ctx.attr_int("kv_num_heads", 0);
  if (d.q_heads < 1 || d.kv_heads < 1) ctx.fail("num_heads and kv_num_heads are required");
  if (d.q_heads % d.kv_heads != 0) ctx.fail("num_heads must be a multiple of kv_num_heads");
  const bool packed = ctx.input(1) == nullptr;
  if (q->rank_known) {
    if (q->dims.size() != 3) ctx.fail("query must be 3-D, got " + dims_str(q->dims));
    d.batch = q->dims[0];
    d.q_seq = d.kv_seq = q->dims[1];
    d.head = div_known(q->dims[2], packed ? d.q_heads + 2 * d.kv_heads : d.q_heads);
  }
  d.v_head = d.head;
  int64_t past = 0;
  if (const Value* pk = ctx.input(3)) past = pk->rank_known && pk->dims.size() == 4 ? pk->dims[2] : -1;
  int64_t total = -1;
  if (const Value* t = ctx.input(6); t && t->values_known && t->ints.size() == 1) total = t->ints[0];
  if (ctx.input(3)) g.present = past >= 0 && total >= 0 ? std::max(past, total) : -1;
  else g.present = total >= 0 ? total : d.kv_seq;
  // attended keys: the valid sequence (total) when known, else the whole present buffer
  d.kv_seq = total >= 0 ? total : g.present;
  d.past = 0;
  return g;
}

void infer_gqa(OpContext& ctx) {
  const GqaDims g = gqa_dims(ctx);
  const AttnDims& d = g.d;
  set_output(ctx, 0, d.dtype, true, {d.batch, d.q_seq, mul_sat(d.q_heads, d.head)});
  set_output(ctx, 1, d.dtype, true, {d.batch, d.kv_heads, g.present, d.head});
  set_output(ctx, 2, d.dtype, true, {d.batch, d.kv_heads, g.present, d.head});
}

// Attention MACs over the attended length, + rotary (3 per rotated q and k element) with do_rotary.
Cost cost_gqa(const OpContext& ctx) {
  const GqaDims g = gqa_dims(ctx);
  Cost c = attention_cost(g.d, ctx.input(10) != nullptr);
  if (c.known && ctx.attr_int("do_rotary", 0) != 0) {
    const int64_t rotated = product({g.d.batch, g.d.q_seq, g.d.q_heads + g.d.kv_heads, g.d.head});
    c.flops = add_sat(c.flops, mul_sat(rotated, 3));
  }
  return c;
}

// ---- com.microsoft SkipLayerNormalization: input + skip (+ bias), then LayerNormalization over the last axis.
// Outputs: output, mean, inv_std_var (last dim 1), input_skip_bias_sum.
void infer_skip_layer_norm(OpContext& ctx) {
  const Value* x = ctx.input(0);
  const Value* skip = ctx.input(1);
  if (!x || !skip) ctx.fail("needs input and skip");
  if (x->rank_known && skip->rank_known && !broadcast_shapes(x->dims, skip->dims))
    ctx.fail("skip " + dims_str(skip->dims) + " does not match input " + dims_str(x->dims));
  set_output(ctx, 0, x->dtype, x->rank_known, x->dims);
  std::vector<int64_t> stat = x->dims;
  if (!stat.empty()) stat.back() = 1;
  set_output(ctx, 1, onnx::kFloat, x->rank_known, stat);
  set_output(ctx, 2, onnx::kFloat, x->rank_known, stat);
  set_output(ctx, 3, x->dtype, x->rank_known, x->dims);
}

// skip add (1) + bias (1 if given) + normalise (5) + gamma (1) + beta (1 if given)
Cost cost_skip_layer_norm(const OpContext& ctx) {
  return per_element(ctx.input(0), 1 + (ctx.input(4) ? 1 : 0) + 5 + 1 + (ctx.input(3) ? 1 : 0));
}

// SkipSimplifiedLayerNormalization: skip add (1) + bias (1 if given, input 3) + RMS normalisation (4).
Cost cost_skip_simplified_layer_norm(const OpContext& ctx) {
  return per_element(ctx.input(0), 1 + (ctx.input(3) ? 1 : 0) + 4);
}

// BiasGelu: bias add + exact Gelu (5, from the elementwise table).
Cost cost_bias_gelu(const OpContext& ctx) {
  return per_element(ctx.output(0), 1 + cost::elementwise_flops_per_element("Gelu"));
}
// FastGelu (tanh form): x^3 (2), multiply, add, multiply, tanh, add, multiply, multiply = 9; + bias add if given.
Cost cost_fast_gelu(const OpContext& ctx) { return per_element(ctx.output(0), 9 + (ctx.input(1) ? 1 : 0)); }
Cost cost_ms_gelu(const OpContext& ctx) {
  return per_element(ctx.output(0), cost::elementwise_flops_per_element("Gelu"));
}
// QuickGelu: x * Sigmoid(alpha * x), i.e. Swish.
Cost cost_quick_gelu(const OpContext& ctx) {
  return per_element(ctx.output(0), cost::elementwise_flops_per_element("Swish"));
}

// ---- RotaryEmbedding (opset 23): X (B, S, hidden) with num_heads or (B, heads, S, head); Y has X's shape.
// Each rotated element is x * cos + rotate(x) * sin: 2 multiplies and an add.
Cost cost_rotary(const OpContext& ctx) {
  const Value* x = ctx.input(0);
  if (!x || !x->shape_known() || x->dims.empty()) return {0, 0, false};
  const int64_t elems = product(x->dims);
  int64_t head = -1;
  if (x->dims.size() == 4) head = x->dims[3];
  else if (const int64_t heads = ctx.attr_int("num_heads", 0); heads > 0) head = x->dims.back() / heads;
  const int64_t rot = ctx.attr_int("rotary_embedding_dim", 0);
  const int64_t rotated = rot > 0 && head > 0 && rot < head ? elems / head * rot : elems;
  return {0, mul_sat(rotated, 3), true};
}

// ---- LinearAttention: query (B, T, Hq * Dk), key (B, T, Hkv * Dk), value (B, T, Hkv * Dv), past_state
// (B, Hkv, Dk, Dv) -> output (B, T, Hq * Dv), present_state (B, Hkv, Dk, Dv).
struct LinearDims {
  int64_t b = -1, t = -1, hq = -1, hkv = -1, dk = -1, dv = -1;
  int32_t dtype = 0;
};

LinearDims linear_attention_dims(const OpContext& ctx) {
  const Value* q = ctx.input(0);
  const Value* v = ctx.input(2);
  if (!q || !ctx.input(1) || !v) ctx.fail("needs query, key and value");
  LinearDims d;
  d.dtype = q->dtype;
  d.hq = ctx.attr_int("q_num_heads", 0);
  d.hkv = ctx.attr_int("kv_num_heads", 0);
  if (d.hq < 1 || d.hkv < 1) ctx.fail("q_num_heads and kv_num_heads are required");
  if (d.hq % d.hkv != 0) ctx.fail("q_num_heads must be a multiple of kv_num_heads");
  for (const Value* t : {q, ctx.input(1), v})
    if (t->rank_known && t->dims.size() != 3) ctx.fail("query, key and value must be 3-D, got " + dims_str(t->dims));
  if (q->rank_known) d.b = q->dims[0], d.t = q->dims[1], d.dk = div_known(q->dims[2], d.hq);
  if (v->rank_known) d.dv = div_known(v->dims[2], d.hkv);
  if (const Value* s = ctx.input(3); s && s->rank_known && s->dims.size() == 4) {
    if (d.dk < 0) d.dk = s->dims[2];
    if (d.dv < 0) d.dv = s->dims[3];
  }
  return d;
}

void infer_linear_attention(OpContext& ctx) {
  const LinearDims d = linear_attention_dims(ctx);
  set_output(ctx, 0, d.dtype, true, {d.b, d.t, mul_sat(d.hq, d.dv)});
  set_output(ctx, 1, d.dtype, true, {d.b, d.hkv, d.dk, d.dv});
}

// Per token: state update k (x) v (Hkv x Dk x Dv MACs; the delta rules add S^T k, as many again) and readout
// q^T S (Hq x Dk x Dv MACs); gated rules scale the state (Hkv x Dk x Dv FLOPs).
Cost cost_linear_attention(const OpContext& ctx) {
  const LinearDims d = linear_attention_dims(ctx);
  const std::string_view rule = ctx.attr_string("update_rule", "gated_delta");
  const int64_t tokens = mul_sat(d.b, d.t);
  const int64_t state = mul_sat(d.dk, d.dv);
  if (tokens < 0 || state < 0) return {0, 0, false};
  const bool delta = rule == "delta" || rule == "gated_delta";
  const bool gated = rule == "gated" || rule == "gated_delta";
  const int64_t per_token = mul_sat(state, d.hkv * (delta ? 2 : 1) + d.hq);
  const int64_t macs = mul_sat(tokens, per_token);
  int64_t flops = mul_sat(macs, cost::kFlopsPerMac);
  if (gated) flops = add_sat(flops, mul_sat(tokens, mul_sat(state, d.hkv)));
  return {macs, flops, true};
}

// ---- TensorScatter (opset 24): writes `update` into a KV cache; present_cache has past_cache's shape.
void infer_tensor_scatter(OpContext& ctx) {
  const Value* past = ctx.input(0);
  if (!past || !ctx.input(1)) ctx.fail("needs past_cache and update");
  set_output(ctx, 0, past->dtype, past->rank_known, past->dims);
}

}  // namespace

void register_attention(OpRegistry& r) {
  // Masks, caches and sequence lengths are not weights.
  r.add("", "Attention", OpDef{infer_onnx_attention, cost_onnx_attention, bit(0) | bit(1) | bit(2)});
  r.add("ai.onnx.preview", "FlexAttention", OpDef{infer_flex_attention, cost_flex_attention});
  r.add("", "RotaryEmbedding", OpDef{infer_same_as_input0, cost_rotary, bit(0)});   // cos/sin caches are tables
  r.add("", "LinearAttention", OpDef{infer_linear_attention, cost_linear_attention, bit(0) | bit(1) | bit(2)});
  r.add("", "TensorScatter", OpDef{infer_tensor_scatter, nullptr, 0});                // caches are state
  r.add("com.microsoft", "Attention", OpDef{infer_ms_attention, cost_ms_attention, bit(0) | bit(1) | bit(2)});
  r.add("com.microsoft", "GroupQueryAttention", OpDef{infer_gqa, cost_gqa, bit(0) | bit(1) | bit(2)});
  r.add("com.microsoft", "MultiHeadAttention", OpDef{infer_mha, cost_mha, bit(0) | bit(1) | bit(2) | bit(3)});
  r.add("com.microsoft", "SkipLayerNormalization", OpDef{infer_skip_layer_norm, cost_skip_layer_norm});
  r.add("com.microsoft", "BiasGelu", OpDef{infer_same_as_input0, cost_bias_gelu});
  r.add("com.microsoft", "FastGelu", OpDef{infer_same_as_input0, cost_fast_gelu});
  r.add("com.microsoft", "Gelu", OpDef{infer_same_as_input0, cost_ms_gelu});
  r.add("com.microsoft", "QuickGelu", OpDef{infer_same_as_input0, cost_quick_gelu});
  r.add("com.microsoft", "SkipSimplifiedLayerNormalization",
        OpDef{infer_skip_layer_norm, cost_skip_simplified_layer_norm});
  r.add("com.microsoft", "RotaryEmbedding", OpDef{infer_same_as_input0, cost_rotary, bit(0)});
}

}  // namespace netscore::graph
