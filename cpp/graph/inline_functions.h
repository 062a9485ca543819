// Model-local functions: the node list a walk sees, with calls of functions the registry does not know
// replaced by their bodies.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "graph/model_index.h"
#include "graph/op_registry.h"
#include "onnx/ir.h"

namespace netscore::graph::walk {

// Calls of model-local functions (FunctionProto) that the registry does not know are replaced by their
// bodies: inner tensors are renamed "<call node>/<name>", attribute references resolved from the call,
// inner nodes keep the function's opset imports. Layers of inlined nodes are named "<call node>/<inner
// node>" and carry the call's node_index. Nested calls are expanded up to kMaxFunctionDepth.
class InlinedNodes {
 public:
  static constexpr int kMaxFunctionDepth = 16;
  // At most this many nodes come out of inlining (docs/limits.md): nested calls of a 1.5 KB model could
  // otherwise expand to billions. Checked before anything is expanded.
  static constexpr int64_t kMaxInlinedNodes = 1000000;

  // `index`: the model's functions, shared by the walks of its subgraphs.
  InlinedNodes(const onnx::Model& model, const OpRegistry& registry, ModelIndex& index)
      : model_(model), registry_(registry), index_(index) {}

  // Expands the calls of the model's main graph (nothing to do, and no copy, when there are none).
  void build() { build(model_.graph); }
  // The same for `graph`, a subgraph (If branch, Loop / Scan body) of the model.
  void build(const onnx::Graph& graph);

  const std::vector<onnx::Node>& nodes() const { return *nodes_; }
  // Per expanded node (both empty when nothing was inlined): its index in the graph's nodes, and the
  // function whose body it came from (nullptr for a node of the graph itself).
  const std::vector<uint32_t>& origin() const { return origin_; }
  const std::vector<const onnx::Function*>& node_function() const { return node_function_; }

 private:
  // The function a call of `n` expands to: a model-local function the registry does not know; else nullptr.
  const onnx::Function* callee(const onnx::Node& n);
  int64_t inlined_size(const onnx::Function& f, int depth);
  std::string_view own(std::string s);
  void expand_call(const onnx::Node& call, const onnx::Function& f, uint32_t origin, const std::string& prefix,
                   int depth);

  const onnx::Model& model_;
  const OpRegistry& registry_;
  ModelIndex& index_;
  const std::vector<onnx::Node>* nodes_ = nullptr;     // the graph's nodes, or expanded_ when functions were inlined
  std::vector<onnx::Node> expanded_;
  std::vector<uint32_t> origin_;                       // expanded node -> index in the graph's nodes
  std::vector<const onnx::Function*> node_function_;   // expanded node -> function whose body it came from
  std::deque<std::string> owned_names_;                // storage for renamed tensors and nodes (stable)
};

}  // namespace netscore::graph::walk
