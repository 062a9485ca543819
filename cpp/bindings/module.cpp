// The extension module netscore_fast._core: the only place pybind11 meets the C++ layers.
#include <pybind11/pybind11.h>

#include "bindings/common.h"
#include "bindings/pystr.h"
#include "netscore/errors.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "netscore_fast C++ core: ONNX decoding, graph analysis and micro-kernels";
  static py::exception<netscore::ModelError> model_error(m, "ModelError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const netscore::ModelError& e) {
      py::set_error(model_error, netscore::bindings::to_pystr(e.what()));  // names may not be UTF-8
    }
  });
  netscore::bindings::bind_profile(m);
  netscore::bindings::bind_batch(m);
  netscore::bindings::bind_kernels(m);
  netscore::bindings::bind_bench(m);
}
