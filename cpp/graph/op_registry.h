// What an op is to the analysis: three pure functions (attributes with defaults are read through
// OpContext) -- infer output types/shapes (and values when folding), and compute cost.
#pragma once
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "graph/name_map.h"
#include "graph/ops/shape_util.h"
#include "onnx/ir.h"

namespace netscore::graph {

// State of one tensor during the walk.
struct Value {
  int32_t dtype = 0;                  // onnx::DataType, 0 unknown
  bool rank_known = false;
  std::vector<int64_t> dims;          // -1 = unknown dim
  bool is_const = false;              // initializer, Constant, ConstantOfShape, or folded from constants alone
  bool values_known = false;          // small tensor whose data is below (ints for integer/bool, floats otherwise)
  std::vector<int64_t> ints;
  std::vector<double> floats;

  bool shape_known() const {          // rank and every dim known
    if (!rank_known) return false;
    for (int64_t d : dims) if (d < 0) return false;
    return true;
  }
  int64_t numel() const {             // -1 unless shape_known(); saturates instead of overflowing
    return rank_known ? product(dims) : -1;  // one pass: product() is -1 when a dim is unknown
  }
};

struct OpDef;

class OpContext {
 public:
  // `inputs` and `outputs` are borrowed (not copied: one context per node of every walk); they must
  // outlive the context.
  // `def`: the node's registry entry, for what was resolved once at registration (nullptr when not known).
  OpContext(const onnx::Node& node, int64_t opset, const std::vector<const Value*>& inputs,
            const std::vector<Value*>& outputs, std::string_view model_name, const OpDef* def = nullptr)
      : node_(node), opset_(opset), inputs_(inputs), outputs_(outputs), model_name_(model_name), def_(def) {}

  const onnx::Node& node() const { return node_; }
  const OpDef* def() const { return def_; }
  int64_t opset() const { return opset_; }                  // version imported for the node's domain

  size_t num_inputs() const { return inputs_.size(); }
  const Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }  // nullptr: omitted
  size_t num_outputs() const { return outputs_.size(); }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }    // nullptr: omitted

  bool has_attr(std::string_view name) const { return node_.attribute(name) != nullptr; }
  const onnx::Attribute* attr(std::string_view name) const { return node_.attribute(name); }
  int64_t attr_int(std::string_view name, int64_t def) const;
  float attr_float(std::string_view name, float def) const;
  std::string_view attr_string(std::string_view name, std::string_view def) const;
  std::vector<int64_t> attr_ints(std::string_view name) const;   // empty when absent
  std::vector<float> attr_floats(std::string_view name) const;

  // Throw ModelError naming the node, its op type and the model.
  [[noreturn]] void fail(const std::string& problem) const;
  // The model is valid but uses a construct this op's implementation does not handle: the walker
  // lists the node as unsupported (costs unknown) instead of failing.
  [[noreturn]] void unsupported(const std::string& what) const;

 private:
  const onnx::Node& node_;
  int64_t opset_;
  const std::vector<const Value*>& inputs_;
  const std::vector<Value*>& outputs_;
  std::string_view model_name_;
  const OpDef* def_;
};

// Thrown by OpContext::unsupported(); caught by the walker, never escapes analyze().
struct UnsupportedConstruct : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Cost {
  int64_t macs = 0;
  int64_t flops = 0;
  bool known = true;                  // false when a needed shape is unknown (never a silent zero)
};

using InferFn = void (*)(OpContext&);       // set output dtype/rank/dims; set values when inputs' values allow
using CostFn = Cost (*)(const OpContext&);  // called after infer, shapes in place

struct OpDef {
  InferFn infer = nullptr;
  CostFn cost = nullptr;                  // nullptr: the op costs nothing (pure data movement)
  uint64_t param_inputs = ~0ull;          // bit i: input i may hold weights (clear for shape/axes/index args)
  uint64_t stat_inputs = 0;               // bit i: input i is a running statistic (BatchNormalization 3, 4)
  bool deterministic = true;              // false: outputs never constant (RandomNormal, ...)
  bool integer_weights = false;           // integer-typed constants at param positions are weights (quantized
                                          // ops, DequantizeLinear); otherwise only floating-point ones count
  // Resolved from the op type once, at registration, instead of by string compares per node:
  int64_t flops_per_element = -1;         // elementwise ops: cost::elementwise_flops_per_element(op type)
  int32_t op_code = 0;                    // the family's own code for the op type (elementwise: which operation)
  bool product = false;                   // input 0 is the data operand and input 1 the weight of a product
                                          // (Conv, ConvTranspose, Gemm, MatMul): see ParamCounter::fold
};

class OpRegistry {
 public:
  // Adds an op; a duplicate (domain, op_type) throws std::logic_error. Domain "" is the default domain.
  void add(std::string_view domain, std::string_view op_type, const OpDef& def);
  const OpDef* find(std::string_view domain, std::string_view op_type) const;  // "ai.onnx" == ""
  std::vector<std::string> op_types() const;  // "Op" or "domain::Op", sorted

 private:
  struct Entry {
    std::string domain;                   // "" for the default domain
    std::string op_type;
    OpDef def;
  };
  // find() hashes the two views it is given: no key string is built per look-up. A deque: the OpDef
  // pointers find() returns stay valid while ops are added.
  std::deque<Entry> ops_;
  walk::HashIndex index_;                 // (domain, op type) -> position in ops_
};

// The registry with every op family registered (built once, immutable afterwards).
const OpRegistry& default_registry();

}  // namespace netscore::graph
