// Graph analysis entry points (being filled in).
#include "graph/analysis.h"
#include "netscore/errors.h"

namespace netscore::graph {

Profile analyze(const onnx::Model& model, const Options& options) { throw ModelError("analysis not available yet"); }

Profile profile_bytes(const uint8_t* data, size_t size, const std::string& source_name, const Options& options) {
  throw ModelError(source_name + ": analysis not available yet");
}

Profile profile_file(const std::string& path, const Options& options) {
  throw ModelError(path + ": analysis not available yet");
}

}  // namespace netscore::graph
