// The one error type every layer throws for bad input; bindings map it to netscore_fast.ModelError.
#pragma once
#include <stdexcept>
#include <string>

namespace netscore {

// A model (or its bytes) is malformed, inconsistent or unsupported in a way that stops analysis.
// The message states the problem; the outermost entry point prefixes the source name.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace netscore
