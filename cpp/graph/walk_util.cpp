// Node labels for the walk's error messages.
#include "graph/walk_util.h"

#include "netscore/errors.h"

namespace netscore::graph::walk {

std::string op_label(const onnx::Node& n) {
  if (is_default_domain(n.domain)) return std::string(n.op_type);
  std::string s(n.domain);
  s += "::";
  s += n.op_type;
  return s;
}

// "node 'name' (Op)" for messages; unnamed nodes are identified by their index.
std::string node_label(const onnx::Node& n, size_t index) {
  std::string s = "node ";
  if (n.name.empty()) {
    s += '#';
    s += std::to_string(index);
  } else {
    s += '\'';
    s += n.name;
    s += '\'';
  }
  s += " (";
  s += op_label(n);
  s += ")";
  return s;
}

[[noreturn]] void node_error(const onnx::Node& n, size_t index, const std::string& problem) {
  throw ModelError(node_label(n, index) + ": " + problem);
}

}  // namespace netscore::graph::walk
