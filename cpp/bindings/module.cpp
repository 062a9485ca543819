// The extension module netscore_fast._core: the only place pybind11 meets the C++ layers.
#include <pybind11/pybind11.h>

#include "bindings/common.h"
#include "bindings/pystr.h"
#include "netscore/cancel.h"
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
    } catch (const netscore::Cancelled&) {
      // Ctrl-C (see Interruptible in common.h): the KeyboardInterrupt of Python's handler, which the
      // signal has tripped; a new one when the flag was set by cancel()
      if (PyErr_CheckSignals() == 0) PyErr_SetNone(PyExc_KeyboardInterrupt);
    }
  });
  m.def(
      "cancel", []() { netscore::request_cancel(); },
      "Ask every running analysis, bulk and timing call of this process to stop (they raise KeyboardInterrupt)\n"
      "as Ctrl-C does; the request stays until clear_cancel().");
  m.def(
      "clear_cancel", []() { netscore::clear_cancel(); },
      "Withdraw a cancel() request: later calls run normally.");
  netscore::bindings::bind_profile(m);
  netscore::bindings::bind_batch(m);
  netscore::bindings::bind_kernels(m);
  netscore::bindings::bind_bench(m);
  netscore::bindings::bind_device_profile(m);
}
