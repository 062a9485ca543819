// Bindings for the batch area (to be filled by its owner).
#include "bindings/bind.h"

namespace netscore::bindings {
void bind_batch(pybind11::module_& m) { (void)m; }
}  // namespace netscore::bindings
