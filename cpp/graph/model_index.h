// What the walk looks up per model rather than per graph -- its functions by (domain, name), the opset
// version it imports per domain -- indexed once, on first use, and shared by the walkers of its subgraphs
// (a subgraph indexing the whole model again made many functions or imports times many If nodes quadratic).
#pragma once
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "graph/name_map.h"
#include "graph/walk_util.h"
#include "onnx/ir.h"

namespace netscore::graph::walk {

class ModelIndex {
 public:
  explicit ModelIndex(const onnx::Model& model) : model_(model) {}
  ModelIndex(const ModelIndex&) = delete;
  ModelIndex& operator=(const ModelIndex&) = delete;

  // The model-local function (domain, name) ("ai.onnx" as ""), the first of equal ones; nullptr if none.
  const onnx::Function* function(std::string_view domain, std::string_view name) {
    if (model_.functions.empty()) return nullptr;
    if (functions_.size() == 0) index_functions();
    domain = canonical(domain);
    const uint32_t i = functions_.find(pair_hash(domain, name), [&](uint32_t k) {
      const onnx::Function& f = model_.functions[k];
      return f.name == name && canonical(f.domain) == domain;
    });
    return i == kNone ? nullptr : &model_.functions[i];
  }

  // The highest version the model imports for `domain` ("" and "ai.onnx" are one); 0 when none (or only
  // versions <= 0) is imported.
  int64_t opset(std::string_view domain) {
    if (opsets_.empty() && !model_.opsets.empty()) index_opsets();
    domain = canonical(domain);
    const uint32_t i = opset_index_.find(NameMap::hash(domain), [&](uint32_t k) { return opsets_[k].first == domain; });
    return i == kNone ? 0 : opsets_[i].second;
  }

  // The version function `f` imports for `domain`: its first import of the domain with a version > 0; 0
  // when none. Asked per inlined node: a function of many imports is indexed once instead of scanned.
  int64_t function_opset(const onnx::Function& f, std::string_view domain) {
    domain = canonical(domain);
    if (f.opsets.size() <= kScanImports) {
      for (const onnx::OpsetId& o : f.opsets)
        if (o.version > 0 && canonical(o.domain) == domain) return o.version;
      return 0;
    }
    FunctionImports& imports = function_opsets_[&f];
    const auto imports_domain = [&f](std::string_view d) {
      return [&f, d](uint32_t k) { return canonical(f.opsets[k].domain) == d; };
    };
    if (!imports.indexed) {
      imports.indexed = true;
      imports.index.reserve(f.opsets.size());
      for (size_t k = 0; k < f.opsets.size(); ++k) {
        const std::string_view d = canonical(f.opsets[k].domain);
        const uint64_t h = NameMap::hash(d);
        if (f.opsets[k].version > 0 && imports.index.find(h, imports_domain(d)) == kNone)
          imports.index.insert(h, static_cast<uint32_t>(k));
      }
    }
    const uint32_t k = imports.index.find(NameMap::hash(domain), imports_domain(domain));
    return k == kNone ? 0 : f.opsets[k].version;
  }

  // A hint: the start of a later opset(domain) brought towards the cache.
  void prefetch_opset(std::string_view domain) {
    if (opsets_.empty() && !model_.opsets.empty()) index_opsets();
    opset_index_.prefetch(NameMap::hash(canonical(domain)));
  }

  // Memo of the nodes a call of each function expands to (InlinedNodes), indexed like model.functions;
  // -1 while not known.
  int64_t& inlined_size(const onnx::Function& f) {
    if (inlined_sizes_.empty()) inlined_sizes_.assign(model_.functions.size(), -1);
    return inlined_sizes_[static_cast<size_t>(&f - model_.functions.data())];
  }

 private:
  static constexpr size_t kAhead = 8;  // index loops prefetch the slot of the entry this far ahead
  static constexpr size_t kScanImports = 16;  // a function with at most this many imports is scanned
  static std::string_view canonical(std::string_view domain) {
    return is_default_domain(domain) ? std::string_view() : domain;
  }
  void index_functions() {
    functions_.reserve(model_.functions.size());
    const size_t n = model_.functions.size();
    for (size_t k = 0; k < n; ++k) {
      if (k + kAhead < n) {
        const onnx::Function& next = model_.functions[k + kAhead];
        functions_.prefetch(pair_hash(canonical(next.domain), next.name));
      }
      const onnx::Function& f = model_.functions[k];
      const std::string_view domain = canonical(f.domain);
      const uint64_t h = pair_hash(domain, f.name);
      const auto same = [&](uint32_t j) {
        return model_.functions[j].name == f.name && canonical(model_.functions[j].domain) == domain;
      };
      if (functions_.find(h, same) == kNone) functions_.insert(h, static_cast<uint32_t>(k));
    }
  }
  void index_opsets() {
    opset_index_.reserve(model_.opsets.size());
    const size_t n = model_.opsets.size();
    for (size_t k = 0; k < n; ++k) {
      if (k + kAhead < n) opset_index_.prefetch(NameMap::hash(canonical(model_.opsets[k + kAhead].domain)));
      const onnx::OpsetId& o = model_.opsets[k];
      const std::string_view domain = canonical(o.domain);
      const uint64_t h = NameMap::hash(domain);
      uint32_t i = opset_index_.find(h, [&](uint32_t k) { return opsets_[k].first == domain; });
      if (i == kNone) {
        i = static_cast<uint32_t>(opsets_.size());
        opsets_.emplace_back(domain, 0);
        opset_index_.insert(h, i);
      }
      opsets_[i].second = std::max(opsets_[i].second, o.version);
    }
  }

  const onnx::Model& model_;
  HashIndex functions_;                                   // (domain, name) -> position in model.functions
  std::vector<std::pair<std::string_view, int64_t>> opsets_;  // (domain, highest version imported)
  HashIndex opset_index_;                                 // domain -> position in opsets_
  std::vector<int64_t> inlined_sizes_;
  struct FunctionImports {
    bool indexed = false;
    HashIndex index;  // domain -> position of its first import with a version > 0
  };
  std::unordered_map<const onnx::Function*, FunctionImports> function_opsets_;  // functions of many imports
};

}  // namespace netscore::graph::walk
