// The op registry (op type -> OpDef), OpContext's attribute readers and error helpers.
#include "graph/op_registry.h"

#include <algorithm>
#include <limits>

#include "graph/ops/shape_util.h"
#include "netscore/errors.h"

namespace netscore::graph {

namespace {

// "ai.onnx" and "" name the same (default) domain.
std::string_view canonical_domain(std::string_view domain) { return domain == "ai.onnx" ? std::string_view() : domain; }

std::string registry_key(std::string_view domain, std::string_view op_type) {
  domain = canonical_domain(domain);
  std::string key;
  key.reserve(domain.size() + op_type.size() + 2);
  if (!domain.empty()) {
    key.append(domain);
    key.append("::");
  }
  key.append(op_type);
  return key;
}

}  // namespace

int64_t OpContext::attr_int(std::string_view name, int64_t def) const {
  const onnx::Attribute* a = node_.attribute(name);
  if (!a) return def;
  if (a->type == onnx::AttrType::kInt) return a->i;
  if (a->type == onnx::AttrType::kFloat) return static_cast<int64_t>(a->f);
  fail("attribute '" + std::string(name) + "' should be an int");
}

float OpContext::attr_float(std::string_view name, float def) const {
  const onnx::Attribute* a = node_.attribute(name);
  if (!a) return def;
  if (a->type == onnx::AttrType::kFloat) return a->f;
  if (a->type == onnx::AttrType::kInt) return static_cast<float>(a->i);
  fail("attribute '" + std::string(name) + "' should be a float");
}

std::string_view OpContext::attr_string(std::string_view name, std::string_view def) const {
  const onnx::Attribute* a = node_.attribute(name);
  if (!a) return def;
  if (a->type == onnx::AttrType::kString) return a->s;
  fail("attribute '" + std::string(name) + "' should be a string");
}

std::vector<int64_t> OpContext::attr_ints(std::string_view name) const {
  const onnx::Attribute* a = node_.attribute(name);
  if (!a) return {};
  if (a->type == onnx::AttrType::kInts) return a->ints;
  if (a->type == onnx::AttrType::kInt) return {a->i};  // lenient: a single value written as INT
  fail("attribute '" + std::string(name) + "' should be a list of ints");
}

std::vector<float> OpContext::attr_floats(std::string_view name) const {
  const onnx::Attribute* a = node_.attribute(name);
  if (!a) return {};
  if (a->type == onnx::AttrType::kFloats) return a->floats;
  if (a->type == onnx::AttrType::kFloat) return {a->f};
  fail("attribute '" + std::string(name) + "' should be a list of floats");
}

// Message form: "node 'conv1' (Conv): problem"; a non-empty model name is put in front ("model: node ...").
void OpContext::fail(const std::string& problem) const {
  std::string msg;
  if (!model_name_.empty()) {
    msg.append(model_name_);
    msg.append(": ");
  }
  msg.append("node '");
  msg.append(node_.name);
  msg.append("' (");
  if (!canonical_domain(node_.domain).empty()) {
    msg.append(node_.domain);
    msg.append("::");
  }
  msg.append(node_.op_type);
  msg.append("): ");
  msg.append(problem);
  throw ModelError(msg);
}

void OpContext::unsupported(const std::string& what) const { throw UnsupportedConstruct(what); }

void OpRegistry::add(std::string_view domain, std::string_view op_type, const OpDef& def) {
  const std::string key = registry_key(domain, op_type);
  if (!def.infer) throw std::logic_error("op " + key + " registered without an infer function");
  if (find(domain, op_type)) throw std::logic_error("op " + key + " registered twice");
  domain = canonical_domain(domain);
  index_.insert(walk::pair_hash(domain, op_type), static_cast<uint32_t>(ops_.size()));
  ops_.push_back(Entry{std::string(domain), std::string(op_type), def});
}

const OpDef* OpRegistry::find(std::string_view domain, std::string_view op_type) const {
  domain = canonical_domain(domain);
  const uint32_t id = index_.find(walk::pair_hash(domain, op_type), [&](uint32_t i) {
    return ops_[i].op_type == op_type && ops_[i].domain == domain;
  });
  return id == walk::kNone ? nullptr : &ops_[id].def;
}

std::vector<std::string> OpRegistry::op_types() const {
  std::vector<std::string> out;
  out.reserve(ops_.size());
  for (const Entry& e : ops_) out.push_back(registry_key(e.domain, e.op_type));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace netscore::graph
