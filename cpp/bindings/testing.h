// The test-only submodule netscore_fast._core._testing: kernel entry points and helpers the tests call
// directly. Built only with the CMake option NETSCORE_TEST_BINDINGS (default ON).
#pragma once
#include <pybind11/pybind11.h>

#ifndef NETSCORE_TEST_BINDINGS
#define NETSCORE_TEST_BINDINGS 0
#endif

namespace netscore::bindings {
// The submodule, created by the first binding file that asks for it.
inline pybind11::module_ testing_module(pybind11::module_& m) {
  if (pybind11::hasattr(m, "_testing")) return m.attr("_testing").cast<pybind11::module_>();
  return m.def_submodule("_testing", "Test-only bindings: direct kernel calls and harness helpers");
}
}  // namespace netscore::bindings
