// Recurrent ops: LSTM, GRU, RNN (all outputs, both layouts, forward/reverse/bidirectional) and
// com.microsoft DynamicQuantizeLSTM, which is an LSTM with int8 weights and is counted as one.
#include <string>

#include "graph/cost.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

bool is_lstm(std::string_view op) { return op == "LSTM" || op == "DynamicQuantizeLSTM"; }
int64_t gates_of(std::string_view op) { return is_lstm(op) ? 4 : op == "GRU" ? 3 : 1; }
// DynamicQuantizeLSTM stores W and R transposed: [dirs, input, 4 x hidden] and [dirs, hidden, 4 x hidden]
// (ai.onnx: [dirs, 4 x hidden, input] and [dirs, 4 x hidden, hidden]).
bool weights_transposed(std::string_view op) { return op == "DynamicQuantizeLSTM"; }

// The attributes both rules read, with their ONNX defaults (declared here once).
struct RnnAttrs {
  int64_t dirs = 1;           // direction: "forward" (default) and "reverse" run once, "bidirectional" twice
  bool batch_first = false;   // layout: 0 (default) = [seq, batch, ...], 1 = [batch, seq, ...]
  int64_t hidden_size = -1;   // -1 when absent: taken from W and R

  static RnnAttrs parse(const OpContext& ctx) {
    RnnAttrs a;
    const std::string_view direction = ctx.attr_string("direction", "forward");
    if (direction == "bidirectional") a.dirs = 2;
    else if (direction != "forward" && direction != "reverse")
      ctx.fail("unknown direction '" + std::string(direction) + "'");
    a.batch_first = ctx.attr_int("layout", 0) != 0;
    a.hidden_size = ctx.attr_int("hidden_size", -1);
    if (ctx.has_attr("hidden_size") && a.hidden_size < 1) ctx.fail("hidden_size must be >= 1");
    return a;
  }
};

struct RnnDims {
  int64_t seq = -1, batch = -1, input = -1, hidden = -1, dirs = 1, gates = 1;
  int32_t dtype = 0;
};

// Read and cross-check the dims of X (0), W (1), R (2), B (3).
RnnDims rnn_dims(const OpContext& ctx, const RnnAttrs& a) {
  RnnDims d;
  d.gates = gates_of(ctx.node().op_type);
  d.dirs = a.dirs;
  const bool transposed = weights_transposed(ctx.node().op_type);
  const size_t gate_axis = transposed ? 2 : 1, other_axis = transposed ? 1 : 2;  // of W and R
  const bool batch_first = a.batch_first;
  const Value* x = ctx.input(0);
  const Value* w = ctx.input(1);
  const Value* r = ctx.input(2);
  if (!x || !w || !r) ctx.fail("needs inputs X, W and R");
  d.dtype = x->dtype ? x->dtype : w->dtype;
  if (x->rank_known) {
    if (x->dims.size() != 3) ctx.fail("X must be 3-D, got " + dims_str(x->dims));
    d.seq = x->dims[batch_first ? 1 : 0];
    d.batch = x->dims[batch_first ? 0 : 1];
    d.input = x->dims[2];
  }
  d.hidden = a.hidden_size;
  auto agree = [&](int64_t& have, int64_t got, const char* what) {
    if (got < 0) return;
    if (have >= 0 && have != got)
      ctx.fail(std::string(what) + " disagree: " + std::to_string(have) + " vs " + std::to_string(got));
    have = got;
  };
  int64_t dirs = d.dirs;
  if (w->rank_known) {
    if (w->dims.size() != 3) ctx.fail("W must be 3-D, got " + dims_str(w->dims));
    agree(dirs, w->dims[0], "num_directions of W and the direction attribute");
    agree(d.input, w->dims[other_axis], "input sizes of X and W");
    if (const int64_t g = w->dims[gate_axis]; g >= 0) {
      if (g % d.gates != 0) ctx.fail("W dim " + std::to_string(gate_axis) + " is not a multiple of the gate count");
      agree(d.hidden, g / d.gates, "hidden sizes of W and hidden_size");
    }
  }
  if (r->rank_known) {
    if (r->dims.size() != 3) ctx.fail("R must be 3-D, got " + dims_str(r->dims));
    agree(dirs, r->dims[0], "num_directions of R and the direction attribute");
    agree(d.hidden, r->dims[other_axis], "hidden sizes of R and W / hidden_size");
    if (const int64_t g = r->dims[gate_axis]; g >= 0 && d.hidden >= 0 && g != d.gates * d.hidden)
      ctx.fail("R dim " + std::to_string(gate_axis) + " is " + std::to_string(g) + ", expected " +
               std::to_string(d.gates * d.hidden));
  }
  return d;
}

// Y: [seq, dirs, batch, hidden] (layout 0) or [batch, seq, dirs, hidden] (layout 1);
// Y_h, Y_c: [dirs, batch, hidden] or [batch, dirs, hidden].
void infer_rnn(OpContext& ctx) {
  const RnnAttrs a = RnnAttrs::parse(ctx);
  const RnnDims d = rnn_dims(ctx, a);
  if (a.batch_first) {
    set_output(ctx, 0, d.dtype, {d.batch, d.seq, d.dirs, d.hidden});
    for (size_t i = 1; i < ctx.num_outputs(); ++i) set_output(ctx, i, d.dtype, {d.batch, d.dirs, d.hidden});
  } else {
    set_output(ctx, 0, d.dtype, {d.seq, d.dirs, d.batch, d.hidden});
    for (size_t i = 1; i < ctx.num_outputs(); ++i) set_output(ctx, i, d.dtype, {d.dirs, d.batch, d.hidden});
  }
}

// MACs = seq * batch * dirs * gates * hidden * (input + hidden)  [+ 3 * hidden per step for LSTM peepholes]
// FLOPs = 2 * MACs + bias adds (Wb and Rb: 2 * gates * hidden per step) + gate activations and cell updates.
Cost cost_rnn(const OpContext& ctx) {
  const RnnDims d = rnn_dims(ctx, RnnAttrs::parse(ctx));
  const std::string_view op = ctx.node().op_type;
  if (d.seq < 0 || d.batch < 0 || d.input < 0 || d.hidden < 0) return {0, 0, false};
  const int64_t steps = mul_sat(mul_sat(d.seq, d.batch), d.dirs);  // cell evaluations
  const int64_t per_step_macs = mul_sat(d.gates * d.hidden, add_sat(d.input, d.hidden));
  int64_t macs = mul_sat(steps, per_step_macs);
  const bool peepholes = is_lstm(op) && ctx.input(7) != nullptr;
  if (peepholes) macs = add_sat(macs, mul_sat(steps, 3 * d.hidden));
  int64_t flops = mul_sat(macs, cost::kFlopsPerMac);
  if (ctx.input(3)) flops = add_sat(flops, mul_sat(steps, 2 * d.gates * d.hidden));
  const int64_t sig = cost::elementwise_flops_per_element("Sigmoid");
  const int64_t tanh = cost::elementwise_flops_per_element("Tanh");
  int64_t per_unit;  // elementwise FLOPs per hidden unit per step
  if (is_lstm(op)) per_unit = 3 * sig + 2 * tanh + 4;      // i, f, o gates; g and cell tanh; c = f*c + i*g; h = o*tanh(c)
  else if (op == "GRU") per_unit = 2 * sig + tanh + 4;      // z, r gates; n; r * (Rh); h = (1 - z) * n + z * h
  else per_unit = tanh;                                     // h = tanh(...)
  flops = add_sat(flops, mul_sat(steps, per_unit * d.hidden));
  return {macs, flops, true};
}

}  // namespace

void register_rnn(OpRegistry& r) {
  // Weights: W, R, B (and LSTM's P); X may be a constant too. Not sequence_lens, initial_h, initial_c.
  r.add("", "RNN", OpDef{infer_rnn, cost_rnn, bit(0) | bit(1) | bit(2) | bit(3)});
  r.add("", "GRU", OpDef{infer_rnn, cost_rnn, bit(0) | bit(1) | bit(2) | bit(3)});
  r.add("", "LSTM", OpDef{infer_rnn, cost_rnn, bit(0) | bit(1) | bit(2) | bit(3) | bit(7)});
  // LSTM's inputs 0-7, then W_scale, W_zero_point, R_scale, R_zero_point (8-11: not params); int8 W and R
  OpDef quantized_lstm{infer_rnn, cost_rnn, bit(0) | bit(1) | bit(2) | bit(3) | bit(7)};
  quantized_lstm.integer_weights = true;
  r.add("com.microsoft", "DynamicQuantizeLSTM", quantized_lstm);
}

}  // namespace netscore::graph
