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

// A model file could not be opened or mapped (missing, unreadable, not a regular file): a state of the
// file system rather than of the model, so bulk results never cache it. Still a ModelError to callers.
struct FileError : ModelError {
  using ModelError::ModelError;
};

}  // namespace netscore
