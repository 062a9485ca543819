// FLOPs per element of elementwise and activation ops: the table documented in docs/counting.md.
// Convention: every arithmetic operation, comparison, select and every elementary function call (exp, log,
// sqrt, tanh, erf, sin, ...) counts as one FLOP; composite activations add up their pieces as written in the
// ONNX definition.
#include "graph/cost.h"

#include <string_view>

namespace netscore::graph::cost {

namespace {

struct Entry {
  std::string_view op;
  int64_t flops;
};

constexpr Entry kTable[] = {
    // binary arithmetic (per output element; variadic Sum/Max/Min count one operation per element)
    {"Add", 1}, {"Sub", 1}, {"Mul", 1}, {"Div", 1}, {"Pow", 1}, {"Mod", 1},
    {"Max", 1}, {"Min", 1}, {"Sum", 1},
    {"Mean", 2},                       // add, then divide by the input count
    {"BitShift", 1}, {"BitwiseAnd", 1}, {"BitwiseOr", 1}, {"BitwiseXor", 1}, {"BitwiseNot", 1},
    // comparison and logic
    {"Equal", 1}, {"Greater", 1}, {"Less", 1}, {"GreaterOrEqual", 1}, {"LessOrEqual", 1},
    {"And", 1}, {"Or", 1}, {"Xor", 1}, {"Not", 1}, {"Where", 1}, {"IsNaN", 1}, {"IsInf", 1},
    // unary math
    {"Abs", 1}, {"Neg", 1}, {"Reciprocal", 1}, {"Floor", 1}, {"Ceil", 1}, {"Round", 1}, {"Sign", 1},
    {"Sqrt", 1}, {"Exp", 1}, {"Log", 1}, {"Erf", 1},
    {"Sin", 1}, {"Cos", 1}, {"Tan", 1}, {"Asin", 1}, {"Acos", 1}, {"Atan", 1},
    {"Sinh", 1}, {"Cosh", 1}, {"Asinh", 1}, {"Acosh", 1}, {"Atanh", 1},
    // activations
    {"Relu", 1},                       // max(0, x)
    {"LeakyRelu", 2},                  // compare, multiply by alpha
    {"PRelu", 2},                      // compare, multiply by slope
    {"ThresholdedRelu", 1},            // compare (select)
    {"Elu", 4},                        // compare, exp, subtract 1, multiply by alpha
    {"Selu", 5},                       // compare, exp, multiply, subtract, multiply by gamma
    {"Celu", 7},                       // divide, exp, subtract, multiply, min, max, add
    {"Sigmoid", 4},                    // negate, exp, add 1, divide
    {"HardSigmoid", 4},                // multiply, add, min, max
    {"HardSwish", 5},                  // HardSigmoid, then multiply by x
    {"Swish", 6},                      // multiply by alpha, Sigmoid, multiply by x
    {"Tanh", 1},
    {"Softplus", 3},                   // exp, add 1, log
    {"Softsign", 3},                   // abs, add 1, divide
    {"Gelu", 5},                       // divide by sqrt(2), erf, add 1, multiply by x, multiply by 0.5
    {"Mish", 5},                       // Softplus (3), tanh, multiply by x
    {"Clip", 2},                       // min, max
    {"Shrink", 2},                     // compare, add or subtract bias
};

}  // namespace

int64_t elementwise_flops_per_element(std::string_view op_type) {
  for (const Entry& e : kTable)
    if (e.op == op_type) return e.flops;
  return -1;
}

}  // namespace netscore::graph::cost
