// Small lookups on the decoded IR (the data-type facts are inline in ir.h).
#include "onnx/ir.h"

namespace netscore::onnx {

int64_t Model::opset(std::string_view domain) const {
  auto is_default = [](std::string_view d) { return d.empty() || d == "ai.onnx"; };
  const bool want_default = is_default(domain);
  int64_t best = 0;
  for (const OpsetId& o : opsets) {
    // A model may (redundantly) list a domain twice; the highest version wins.
    if ((want_default ? is_default(o.domain) : o.domain == domain) && o.version > best) best = o.version;
  }
  return best;
}

}  // namespace netscore::onnx
