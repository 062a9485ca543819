// Bindings for the bench area (to be filled by its owner).
#include "bindings/bind.h"

namespace netscore::bindings {
void bind_bench(pybind11::module_& m) { (void)m; }
}  // namespace netscore::bindings
