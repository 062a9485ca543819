// Elementwise ops: arithmetic, comparison, logic and activations, with multidirectional broadcasting.
// Shapes broadcast numpy-style; values are computed when every input's values are known (shape arithmetic
// of dynamic-axes exports folds this way). Cost: MACs 0; FLOPs = output elements x
// cost::elementwise_flops_per_element(op) (variadic Sum/Mean/Max/Min: x (inputs - 1), at least 1).
// Integer Div truncates toward zero (C semantics, as ONNX and onnxruntime do); integer Mod follows the
// divisor's sign unless fmod=1.
#include <algorithm>
#include <cmath>
#include <string>

#include "graph/cost.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

using Dims = std::vector<int64_t>;

// Element i of a known value as double / int64, whichever storage it uses.
double as_double(const Value& v, size_t i) { return int_storage(v.dtype) ? static_cast<double>(v.ints[i]) : v.floats[i]; }
int64_t as_int(const Value& v, size_t i) { return int_storage(v.dtype) ? v.ints[i] : static_cast<int64_t>(v.floats[i]); }

// Flat source index of every output element, per input, under broadcasting.
std::vector<Dims> broadcast_indices(const Dims& out, const std::vector<const Value*>& ins) {
  const int64_t n = product(out);
  std::vector<Dims> idx(ins.size(), Dims(static_cast<size_t>(n)));
  std::vector<Dims> str(ins.size());
  for (size_t k = 0; k < ins.size(); ++k) {
    const Dims& d = ins[k]->dims;
    Dims s(out.size(), 0);
    int64_t acc = 1;
    for (size_t a = d.size(); a-- > 0;) {
      const size_t oa = a + out.size() - d.size();
      s[oa] = d[a] == 1 ? 0 : acc;
      acc *= d[a];
    }
    str[k] = s;
  }
  Dims pos(out.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < ins.size(); ++k) {
      int64_t f = 0;
      for (size_t a = 0; a < out.size(); ++a) f += pos[a] * str[k][a];
      idx[k][static_cast<size_t>(i)] = f;
    }
    for (size_t a = out.size(); a-- > 0;) {
      if (++pos[a] < out[a]) break;
      pos[a] = 0;
    }
  }
  return idx;
}

enum class Bin {
  kAdd, kSub, kMul, kDiv, kPow, kMod, kMax, kMin, kSum, kMean, kEqual, kLess, kLessOrEqual, kGreater,
  kGreaterOrEqual, kAnd, kOr, kXor, kBitShift, kBitwiseAnd, kBitwiseOr, kBitwiseXor, kPRelu, kUnknown
};

struct BinName {
  std::string_view name;
  Bin op;
};
constexpr BinName kBinary[] = {
    {"Add", Bin::kAdd}, {"Sub", Bin::kSub}, {"Mul", Bin::kMul}, {"Div", Bin::kDiv}, {"Pow", Bin::kPow},
    {"Mod", Bin::kMod}, {"Max", Bin::kMax}, {"Min", Bin::kMin}, {"Sum", Bin::kSum}, {"Mean", Bin::kMean},
    {"Equal", Bin::kEqual}, {"Less", Bin::kLess}, {"LessOrEqual", Bin::kLessOrEqual},
    {"Greater", Bin::kGreater}, {"GreaterOrEqual", Bin::kGreaterOrEqual}, {"And", Bin::kAnd},
    {"Or", Bin::kOr}, {"Xor", Bin::kXor}, {"BitShift", Bin::kBitShift}, {"BitwiseAnd", Bin::kBitwiseAnd},
    {"BitwiseOr", Bin::kBitwiseOr}, {"BitwiseXor", Bin::kBitwiseXor}, {"PRelu", Bin::kPRelu},
};

Bin binary_op(std::string_view name) {
  for (const BinName& b : kBinary)
    if (b.name == name) return b.op;
  return Bin::kUnknown;
}

bool is_comparison(Bin op) {
  return op == Bin::kEqual || op == Bin::kLess || op == Bin::kLessOrEqual || op == Bin::kGreater ||
         op == Bin::kGreaterOrEqual || op == Bin::kAnd || op == Bin::kOr || op == Bin::kXor;
}

// The ops that read the same on integers and floating point: min/max, comparisons, logic, PRelu.
template <typename T>
bool eval_common(Bin op, T a, T b, T& r) {
  switch (op) {
    case Bin::kMax: r = std::max(a, b); return true;
    case Bin::kMin: r = std::min(a, b); return true;
    case Bin::kEqual: r = a == b; return true;
    case Bin::kLess: r = a < b; return true;
    case Bin::kLessOrEqual: r = a <= b; return true;
    case Bin::kGreater: r = a > b; return true;
    case Bin::kGreaterOrEqual: r = a >= b; return true;
    case Bin::kAnd: r = (a != 0) && (b != 0); return true;
    case Bin::kOr: r = (a != 0) || (b != 0); return true;
    case Bin::kXor: r = (a != 0) != (b != 0); return true;
    case Bin::kPRelu: r = a < 0 ? a * b : a; return true;
    default: return false;
  }
}

// a op b on integers; false when the result is undefined or would overflow (values then stay unknown).
bool eval_int(Bin op, int64_t a, int64_t b, bool fmod_attr, bool shift_left, int64_t& r) {
  switch (op) {
    case Bin::kAdd: case Bin::kSum: case Bin::kMean: return !__builtin_add_overflow(a, b, &r);
    case Bin::kSub: return !__builtin_sub_overflow(a, b, &r);
    case Bin::kMul: return !__builtin_mul_overflow(a, b, &r);
    case Bin::kDiv:
      if (b == 0 || (a == INT64_MIN && b == -1)) return false;
      r = a / b;  // truncates toward zero
      return true;
    case Bin::kMod:
      if (b == 0 || (a == INT64_MIN && b == -1)) return false;
      r = a % b;
      if (!fmod_attr && r != 0 && ((r < 0) != (b < 0))) r += b;  // result takes the divisor's sign
      return true;
    case Bin::kPow: {  // by squaring: at most 64 steps whatever the exponent
      if (b < 0) return false;
      int64_t acc = 1, base = a;
      for (int64_t e = b; e > 0; e >>= 1) {
        if ((e & 1) && __builtin_mul_overflow(acc, base, &acc)) return false;
        if (e > 1 && __builtin_mul_overflow(base, base, &base)) return false;
      }
      r = acc;
      return true;
    }
    case Bin::kBitShift:
      if (b < 0 || b >= 64) return false;
      r = shift_left ? static_cast<int64_t>(static_cast<uint64_t>(a) << b) : static_cast<int64_t>(static_cast<uint64_t>(a) >> b);
      return true;
    case Bin::kBitwiseAnd: r = a & b; return true;
    case Bin::kBitwiseOr: r = a | b; return true;
    case Bin::kBitwiseXor: r = a ^ b; return true;
    default: return eval_common(op, a, b, r);
  }
}

bool eval_float(Bin op, double a, double b, bool fmod_attr, double& r) {
  switch (op) {
    case Bin::kAdd: case Bin::kSum: case Bin::kMean: r = a + b; return true;
    case Bin::kSub: r = a - b; return true;
    case Bin::kMul: r = a * b; return true;
    case Bin::kDiv: r = a / b; return true;
    case Bin::kPow: r = std::pow(a, b); return true;
    case Bin::kMod: r = fmod_attr ? std::fmod(a, b) : a - std::floor(a / b) * b; return true;
    default: return eval_common(op, a, b, r);
  }
}

// Broadcast shape of all present inputs; fails with both shapes on a mismatch.
bool broadcast_all(const OpContext& c, const std::vector<const Value*>& ins, Dims& out) {
  bool rank_known = true;
  for (const Value* v : ins)
    if (!v->rank_known) rank_known = false;
  if (!rank_known) return false;
  out = ins[0]->dims;
  for (size_t k = 1; k < ins.size(); ++k) {
    if (!broadcast_into(out, ins[k]->dims)) {  // the message shows the shape before this input: redo it
      Dims so_far = ins[0]->dims;
      for (size_t j = 1; j < k; ++j) broadcast_into(so_far, ins[j]->dims);
      c.fail("cannot broadcast " + dims_str(so_far) + " with " + dims_str(ins[k]->dims));
    }
  }
  return true;
}

// Output shape := the inputs' broadcast shape. True when the output's values can be computed: its shape is
// known and small, and every input's values are known.
bool broadcast_output(const OpContext& c, const std::vector<const Value*>& ins, Value& o, Dims& out) {
  if (!broadcast_all(c, ins, out)) return false;
  o.rank_known = true;
  o.dims = out;
  if (!o.shape_known() || !small_enough(out)) return false;
  for (const Value* v : ins)
    if (!v->values_known || !v->shape_known()) return false;
  return true;
}

std::vector<const Value*> present_inputs(const OpContext& c) {
  std::vector<const Value*> ins;
  for (size_t i = 0; i < c.num_inputs(); ++i)
    if (const Value* v = c.input(i)) ins.push_back(v);
  if (ins.empty()) c.fail("needs at least one input");
  return ins;
}

// The broadcast shape of the node's present inputs into `out`, as broadcast_all; false (out untouched) when
// a rank is unknown. Reads the inputs in place: most nodes are not folded and need no list of them.
bool broadcast_present(const OpContext& c, Dims& out) {
  for (size_t i = 0; i < c.num_inputs(); ++i)
    if (const Value* v = c.input(i); v && !v->rank_known) return false;
  bool first = true;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    const Value* v = c.input(i);
    if (!v) continue;
    if (first) {
      out.assign(v->dims.begin(), v->dims.end());
      first = false;
    } else if (!broadcast_into(out, v->dims)) {
      Dims unused;
      broadcast_all(c, present_inputs(c), unused);  // fails, naming the shapes as broadcast_all does
    }
  }
  return true;
}

void infer_binary(OpContext& c) {
  const Bin op = c.def() ? static_cast<Bin>(c.def()->op_code) : binary_op(c.node().op_type);
  size_t present = 0;
  const Value* first = nullptr;
  for (size_t i = 0; i < c.num_inputs(); ++i)
    if (const Value* v = c.input(i)) {
      if (!first) first = v;
      ++present;
    }
  if (!first) c.fail("needs at least one input");
  const bool variadic = op == Bin::kSum || op == Bin::kMean || op == Bin::kMax || op == Bin::kMin;
  if (!variadic && present != 2) c.fail("needs exactly two inputs");
  Value* o = c.output(0);
  if (!o) return;
  o->dtype = is_comparison(op) ? onnx::kBool : first->dtype;
  // As broadcast_output, with the shape written straight into the output.
  if (!broadcast_present(c, o->dims)) return;
  o->rank_known = true;
  if (!o->shape_known() || !small_enough(o->dims)) return;
  for (size_t i = 0; i < c.num_inputs(); ++i)
    if (const Value* v = c.input(i); v && (!v->values_known || !v->shape_known())) return;
  // Every input's values are known: fold.
  const std::vector<const Value*> ins = present_inputs(c);
  const Dims out = o->dims;
  const std::vector<Dims> idx = broadcast_indices(out, ins);
  const size_t n = static_cast<size_t>(product(out));
  bool any_float = false;
  for (const Value* v : ins)
    if (!int_storage(v->dtype)) any_float = true;
  const bool fmod_attr = c.attr_int("fmod", 0) != 0;
  const std::string_view direction = c.attr_string("direction", "");  // BitShift's; required, no default
  const bool shift_left = direction == "LEFT";
  if (op == Bin::kBitShift && direction != "LEFT" && direction != "RIGHT")
    c.fail("direction must be LEFT or RIGHT");
  if (!any_float) {
    std::vector<int64_t> r(n);
    for (size_t i = 0; i < n; ++i) {
      int64_t acc = ins[0]->ints[static_cast<size_t>(idx[0][i])];
      for (size_t k = 1; k < ins.size(); ++k)
        if (!eval_int(op, acc, ins[k]->ints[static_cast<size_t>(idx[k][i])], fmod_attr, shift_left, acc)) return;
      if (op == Bin::kMean) acc /= static_cast<int64_t>(ins.size());
      r[i] = acc;
    }
    o->values_known = true;
    if (int_storage(o->dtype)) o->ints = std::move(r);
    else o->floats.assign(r.begin(), r.end());
  } else {
    std::vector<double> r(n);
    for (size_t i = 0; i < n; ++i) {
      double acc = as_double(*ins[0], static_cast<size_t>(idx[0][i]));
      for (size_t k = 1; k < ins.size(); ++k)
        if (!eval_float(op, acc, as_double(*ins[k], static_cast<size_t>(idx[k][i])), fmod_attr, acc)) return;
      if (op == Bin::kMean) acc /= static_cast<double>(ins.size());
      r[i] = acc;
    }
    o->values_known = true;
    if (int_storage(o->dtype)) {
      o->ints.resize(n);
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(r[i]) || std::fabs(r[i]) > 9.2e18) {
          o->values_known = false;
          o->ints.clear();
          return;
        }
        o->ints[i] = static_cast<int64_t>(r[i]);
      }
    } else {
      o->floats = std::move(r);
    }
  }
}

void infer_where(OpContext& c) {
  const Value* cond = c.input(0);
  const Value* x = c.input(1);
  const Value* y = c.input(2);
  if (!cond || !x || !y) c.fail("needs condition, X and Y");
  Value* o = c.output(0);
  if (!o) return;
  o->dtype = x->dtype ? x->dtype : y->dtype;
  const std::vector<const Value*> ins = {cond, x, y};
  Dims out;
  if (!broadcast_output(c, ins, *o, out)) return;
  if (int_storage(x->dtype) != int_storage(y->dtype)) return;
  const std::vector<Dims> idx = broadcast_indices(out, ins);
  const size_t n = static_cast<size_t>(product(out));
  o->values_known = true;
  if (int_storage(o->dtype)) o->ints.resize(n);
  else o->floats.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const bool take_x = as_double(*cond, static_cast<size_t>(idx[0][i])) != 0.0;
    const Value& src = take_x ? *x : *y;
    const size_t j = static_cast<size_t>(idx[take_x ? 1 : 2][i]);
    if (int_storage(o->dtype)) o->ints[i] = as_int(src, j);
    else o->floats[i] = as_double(src, j);
  }
}

// Unary ops whose values we compute (the ones shape arithmetic uses, plus cheap ones).
bool eval_unary(std::string_view op, double x, double& r) {
  if (op == "Neg") r = -x;
  else if (op == "Abs") r = std::fabs(x);
  else if (op == "Floor") r = std::floor(x);
  else if (op == "Ceil") r = std::ceil(x);
  else if (op == "Round") r = std::nearbyint(x);  // round half to even
  else if (op == "Sqrt") r = std::sqrt(x);
  else if (op == "Reciprocal") r = 1.0 / x;
  else if (op == "Exp") r = std::exp(x);
  else if (op == "Log") r = std::log(x);
  else if (op == "Relu") r = x > 0 ? x : 0.0;
  else if (op == "Sign") r = (x > 0) - (x < 0);
  else if (op == "Not") r = x == 0.0;
  else if (op == "IsNaN") r = std::isnan(x);
  else if (op == "Sigmoid") r = 1.0 / (1.0 + std::exp(-x));
  else if (op == "Tanh") r = std::tanh(x);
  else return false;
  return true;
}

void infer_unary(OpContext& c) {
  const Value* x = c.input(0);
  if (!x) c.fail("needs the input");
  Value* o = c.output(0);
  if (!o) return;
  const std::string_view op = c.node().op_type;
  const bool to_bool = op == "Not" || op == "IsNaN" || op == "IsInf";
  o->dtype = to_bool ? onnx::kBool : x->dtype;
  o->rank_known = x->rank_known;
  o->dims = x->dims;
  if (!x->values_known || !x->shape_known()) return;
  const size_t n = int_storage(x->dtype) ? x->ints.size() : x->floats.size();
  if (int_storage(x->dtype) && int_storage(o->dtype)) {
    std::vector<int64_t> r(n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t v = x->ints[i];
      if (op == "Neg" && v != INT64_MIN) r[i] = -v;
      else if (op == "Abs" && v != INT64_MIN) r[i] = v < 0 ? -v : v;
      else if (op == "Sign") r[i] = (v > 0) - (v < 0);
      else if (op == "Relu") r[i] = v > 0 ? v : 0;
      else if (op == "Not") r[i] = v == 0;
      else if (op == "Floor" || op == "Ceil" || op == "Round") r[i] = v;
      else if (op == "BitwiseNot") r[i] = ~v;
      else return;
    }
    o->values_known = true;
    o->ints = std::move(r);
    return;
  }
  std::vector<double> r(n);
  for (size_t i = 0; i < n; ++i)
    if (!eval_unary(op, as_double(*x, i), r[i])) return;
  o->values_known = true;
  if (int_storage(o->dtype)) o->ints.assign(r.begin(), r.end());
  else o->floats = std::move(r);
}

void infer_clip(OpContext& c) {
  const Value* x = c.input(0);
  if (!x) c.fail("needs the input");
  Value* o = c.output(0);
  if (!o) return;
  o->dtype = x->dtype;
  o->rank_known = x->rank_known;
  o->dims = x->dims;
  if (!x->values_known || !x->shape_known()) return;
  double lo = -INFINITY, hi = INFINITY;
  if (c.opset() < 11) {
    lo = c.attr_float("min", -INFINITY);
    hi = c.attr_float("max", INFINITY);
  } else {
    for (size_t k = 1; k <= 2; ++k) {
      const Value* b = c.input(k);
      if (!b) continue;
      if (!b->values_known) return;
      const size_t n = int_storage(b->dtype) ? b->ints.size() : b->floats.size();
      if (n != 1) c.fail("min and max must be scalars");
      (k == 1 ? lo : hi) = as_double(*b, 0);
    }
  }
  const size_t n = int_storage(x->dtype) ? x->ints.size() : x->floats.size();
  o->values_known = true;
  if (int_storage(x->dtype)) {
    o->ints.resize(n);
    for (size_t i = 0; i < n; ++i) {
      double v = std::min(std::max(static_cast<double>(x->ints[i]), lo), hi);
      o->ints[i] = static_cast<int64_t>(v);
    }
  } else {
    o->floats.resize(n);
    for (size_t i = 0; i < n; ++i) o->floats[i] = std::min(std::max(x->floats[i], lo), hi);
  }
}

// SwiGLU(A, B) = Swish_alpha(A) * B: identical shapes, no broadcasting.
void infer_swiglu(OpContext& c) {
  const Value* a = c.input(0);
  const Value* b = c.input(1);
  if (!a || !b) c.fail("needs the gate A and the value B");
  if (a->rank_known && b->rank_known) {
    if (a->dims.size() != b->dims.size()) c.fail("A and B must have the same shape");
    for (size_t i = 0; i < a->dims.size(); ++i)
      if (a->dims[i] >= 0 && b->dims[i] >= 0 && a->dims[i] != b->dims[i])
        c.fail("A " + dims_str(a->dims) + " and B " + dims_str(b->dims) + " must have the same shape");
  }
  Value* o = c.output(0);
  if (!o) return;
  o->dtype = a->dtype;
  o->rank_known = a->rank_known || b->rank_known;
  o->dims = a->rank_known ? a->dims : b->dims;
  if (a->rank_known && b->rank_known)
    for (size_t i = 0; i < o->dims.size(); ++i)
      if (o->dims[i] < 0) o->dims[i] = b->dims[i];
}

Cost cost_swiglu(const OpContext& c) {  // the Swish of the gate, then one multiply
  Cost cost;
  const Value* o = c.output(0);
  const int64_t n = o ? o->numel() : -1;
  const int64_t swish = cost::elementwise_flops_per_element("Swish"), mul = cost::elementwise_flops_per_element("Mul");
  if (n < 0 || swish < 0 || mul < 0) {
    cost.known = false;
    return cost;
  }
  cost.flops = mul_sat(n, swish + mul);
  return cost;
}

Cost cost_elementwise(const OpContext& c) {
  Cost cost;
  const Value* o = c.output(0);
  const int64_t n = o ? o->numel() : -1;
  const int64_t per = c.def() ? c.def()->flops_per_element : cost::elementwise_flops_per_element(c.node().op_type);
  if (n < 0 || per < 0) {
    cost.known = false;
    return cost;
  }
  int64_t present = 0;
  for (size_t i = 0; i < c.num_inputs(); ++i) present += c.input(i) != nullptr;
  const Bin op = c.def() ? static_cast<Bin>(c.def()->op_code) : binary_op(c.node().op_type);
  const bool variadic = op == Bin::kSum || op == Bin::kMean || op == Bin::kMax || op == Bin::kMin;
  const int64_t times = variadic ? std::max<int64_t>(1, present - 1) : 1;
  cost.flops = mul_sat(mul_sat(n, per), times);
  return cost;
}

}  // namespace

void register_elementwise(OpRegistry& r) {
  auto def = [](std::string_view op, InferFn f, uint64_t params) {
    OpDef d;
    d.infer = f;
    d.cost = cost_elementwise;
    d.param_inputs = params;
    d.flops_per_element = cost::elementwise_flops_per_element(op);
    d.op_code = static_cast<int32_t>(binary_op(op));  // Bin::kUnknown for the others
    return d;
  };
  for (const BinName& b : kBinary) r.add("", b.name, def(b.name, infer_binary, ~0ull));
  r.add("", "Where", def("Where", infer_where, 0b110));  // X and Y may be weights, the condition is not
  static constexpr std::string_view kUnary[] = {
      "Not", "BitwiseNot", "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Round", "Sqrt", "Exp", "Log",
      "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf", "Sign",
      "IsNaN", "IsInf", "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish",
      "Tanh", "Softplus", "Softsign", "Gelu", "Mish", "ThresholdedRelu", "Shrink", "Swish"};
  for (std::string_view op : kUnary) r.add("", op, def(op, infer_unary, ~0ull));
  r.add("", "Clip", def("Clip", infer_clip, 0b001));  // min and max are bounds, not weights
  OpDef swiglu = def("SwiGLU", infer_swiglu, ~0ull);
  swiglu.cost = cost_swiglu;
  r.add("", "SwiGLU", swiglu);
}

}  // namespace netscore::graph
