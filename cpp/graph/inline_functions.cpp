// Model-local functions inlined before the walk (see inline_functions.h).
#include "graph/inline_functions.h"

#include <algorithm>
#include <unordered_map>

#include "graph/walk_util.h"
#include "netscore/cancel.h"
#include "netscore/errors.h"

namespace netscore::graph::walk {

const onnx::Function* InlinedNodes::find_function(const onnx::Node& n) {
  const auto domain_of = [](std::string_view d) { return is_default_domain(d) ? std::string_view() : d; };
  if (functions_.empty())  // the first of equal (domain, name) wins
    for (const onnx::Function& f : model_.functions) functions_.emplace(NamePair{domain_of(f.domain), f.name}, &f);
  auto it = functions_.find({domain_of(n.domain), n.op_type});
  return it == functions_.end() ? nullptr : it->second;
}

bool InlinedNodes::inlinable(const onnx::Node& n) {
  return !is_subgraph_op(n) && find_function(n) != nullptr && registry_.find(n.domain, n.op_type) == nullptr;
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
  auto it = inlined_size_.find(&f);
  if (it != inlined_size_.end()) return it->second;
  int64_t total = 0;
  for (const onnx::Node& inner : f.nodes)
    total = std::min(total + (inlinable(inner) ? inlined_size(*find_function(inner), depth + 1) : 1), kSaturated);
  inlined_size_.emplace(&f, total);
  return total;
}

std::string_view InlinedNodes::own(std::string s) {
  owned_names_.push_back(std::move(s));
  return owned_names_.back();
}

void InlinedNodes::build(const onnx::Graph& graph) {
  nodes_ = &graph.nodes;
  if (model_.functions.empty()) return;
  bool any = false;
  for (const onnx::Node& n : graph.nodes)
    if (inlinable(n)) {
      any = true;
      break;
    }
  if (!any) return;
  int64_t inlined = 0;
  for (const onnx::Node& n : graph.nodes)
    if (inlinable(n)) inlined = std::min(inlined + inlined_size(*find_function(n), 1), kSaturated);
  if (inlined > kMaxInlinedNodes)
    throw ModelError("model-local functions expand to " + std::to_string(inlined) + " nodes, more than the limit of " +
                     std::to_string(kMaxInlinedNodes) + " nodes after inlining");
  expanded_.reserve(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    check_cancelled();
    const onnx::Node& n = graph.nodes[i];
    if (inlinable(n)) {
      const std::string prefix = (n.name.empty() ? std::string(n.op_type) + "_" + std::to_string(i) : std::string(n.name)) + "/";
      expand_call(n, *find_function(n), static_cast<uint32_t>(i), prefix, 1);
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
    if (inlinable(copy)) {
      expand_call(copy, *find_function(copy), origin, std::string(copy.name) + "/", depth + 1);
    } else {
      expanded_.push_back(std::move(copy));
      origin_.push_back(origin);
      node_function_.push_back(&f);
    }
  }
}

}  // namespace netscore::graph::walk
