// Model-local functions inlined before the walk (see inline_functions.h).
#include "graph/inline_functions.h"

#include <algorithm>
#include <unordered_map>

#include "graph/walk_util.h"
#include "netscore/cancel.h"
#include "netscore/errors.h"

namespace netscore::graph::walk {

const onnx::Function* InlinedNodes::callee(const onnx::Node& n) {
  if (model_.functions.empty() || is_subgraph_op(n)) return nullptr;
  const onnx::Function* f = index_.function(n.domain, n.op_type);
  return f && registry_.find(n.domain, n.op_type) == nullptr ? f : nullptr;
}

namespace {
constexpr int64_t kSaturated = int64_t(1) << 61;   // a sum of two stays below INT64_MAX
}  // namespace

// Nodes a call of f at nesting `depth` expands to (saturating), memoized per function: linear in the size
// of the functions however deep they nest.
int64_t InlinedNodes::inlined_size(const onnx::Function& f, int depth) {
  if (depth > kMaxFunctionDepth)  // the error expand_call would raise on the same path
    throw ModelError("function '" + std::string(f.name) + "' nests deeper than " + std::to_string(kMaxFunctionDepth) +
                     " calls (recursive?)");
  int64_t& memo = index_.inlined_size(f);
  if (memo >= 0) return memo;
  int64_t total = 0;
  for (const onnx::Node& inner : f.nodes) {
    const onnx::Function* g = callee(inner);
    total = std::min(total + (g ? inlined_size(*g, depth + 1) : 1), kSaturated);
  }
  memo = total;  // (the memo's storage is sized once, for every function: the reference stays valid)
  return total;
}

std::string_view InlinedNodes::own(std::string s) {
  owned_names_.push_back(std::move(s));
  return owned_names_.back();
}

void InlinedNodes::build(const onnx::Graph& graph) {
  nodes_ = &graph.nodes;
  if (model_.functions.empty()) return;
  std::vector<const onnx::Function*> calls;  // per node: the function it expands to, looked up once
  int64_t inlined = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const onnx::Function* f = callee(graph.nodes[i]);
    if (!f) continue;
    if (calls.empty()) calls.resize(graph.nodes.size(), nullptr);
    calls[i] = f;
    inlined = std::min(inlined + inlined_size(*f, 1), kSaturated);
  }
  if (calls.empty()) return;
  if (inlined > kMaxInlinedNodes)
    throw ModelError("model-local functions expand to " + std::to_string(inlined) + " nodes, more than the limit of " +
                     std::to_string(kMaxInlinedNodes) + " nodes after inlining");
  expanded_.reserve(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    check_cancelled();
    const onnx::Node& n = graph.nodes[i];
    if (calls[i]) {
      const std::string prefix = (n.name.empty() ? std::string(n.op_type) + "_" + std::to_string(i) : std::string(n.name)) + "/";
      expand_call(n, *calls[i], static_cast<uint32_t>(i), prefix, 1);
    } else {
      expanded_.push_back(n);
      origin_.push_back(static_cast<uint32_t>(i));
      node_function_.push_back(nullptr);
    }
  }
  nodes_ = &expanded_;
}

void InlinedNodes::expand_call(const onnx::Node& call, const onnx::Function& f, uint32_t origin, const std::string& prefix, int depth) {
  if (depth > kMaxFunctionDepth)
    throw ModelError("function '" + std::string(f.name) + "' nests deeper than " + std::to_string(kMaxFunctionDepth) +
                     " calls (recursive?)");
  std::unordered_map<std::string_view, std::string_view> rename;
  for (size_t k = 0; k < f.inputs.size(); ++k)
    rename[f.inputs[k]] = k < call.inputs.size() ? call.inputs[k] : std::string_view();
  for (size_t k = 0; k < f.outputs.size(); ++k)
    rename[f.outputs[k]] = k < call.outputs.size() && !call.outputs[k].empty() ? call.outputs[k]
                                                                               : own(prefix + std::string(f.outputs[k]));
  auto map_name = [&](std::string_view name) -> std::string_view {
    if (name.empty()) return name;
    auto it = rename.find(name);
    if (it != rename.end()) return it->second;
    std::string_view renamed = own(prefix + std::string(name));
    rename.emplace(name, renamed);
    return renamed;
  };
  for (size_t j = 0; j < f.nodes.size(); ++j) {
    check_cancelled();   // up to kMaxInlinedNodes copies: Ctrl-C must not wait for all of them
    const onnx::Node& inner = f.nodes[j];
    onnx::Node copy;
    copy.op_type = inner.op_type;
    copy.domain = inner.domain;
    copy.name = own(prefix + (inner.name.empty() ? std::string(inner.op_type) + "_" + std::to_string(j) : std::string(inner.name)));
    copy.inputs.reserve(inner.inputs.size());
    for (std::string_view in : inner.inputs) copy.inputs.push_back(map_name(in));
    copy.outputs.reserve(inner.outputs.size());
    for (std::string_view out : inner.outputs) copy.outputs.push_back(map_name(out));
    for (const onnx::Attribute& a : inner.attributes) {
      if (a.ref_attr_name.empty()) {
        copy.attributes.push_back(a);
      } else if (const onnx::Attribute* given = call.attribute(a.ref_attr_name)) {
        copy.attributes.push_back(*given);
        copy.attributes.back().name = a.name;
      }  // a reference the call does not set: the attribute takes its default
    }
    if (const onnx::Function* g = callee(copy)) {
      expand_call(copy, *g, origin, std::string(copy.name) + "/", depth + 1);
    } else {
      expanded_.push_back(std::move(copy));
      origin_.push_back(origin);
      node_function_.push_back(&f);
    }
  }
}

}  // namespace netscore::graph::walk
