// What the binding files share: one bind_<area>() per file (module.cpp calls each), the analysis options
// built from Python arguments, and the readers of Python buffers: one set of rules for every binding.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/analysis.h"

namespace netscore::bindings {

void bind_profile(pybind11::module_& m);   // bind_profile.cpp: profile of one model
void bind_batch(pybind11::module_& m);     // bind_batch.cpp: many models on a thread pool
void bind_kernels(pybind11::module_& m);   // bind_kernels.cpp: direct kernel calls (tests), ISA dispatch
void bind_bench(pybind11::module_& m);     // bind_bench.cpp: timing harness, per-layer model timing, cpu info

// input_shapes as Python passes them: [(input name, dims)].
using InputShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// input_values as Python passes them: [(input name, values)] (a scalar is a one-element list).
using InputValues = std::vector<std::pair<std::string, std::vector<double>>>;

// Analysis options from the Python arguments every profiling entry point takes (ValueError when
// batch_size < 1). layers=false skips building per-node rows.
inline graph::Options profile_options_from_python(InputShapes input_shapes, int64_t batch_size, bool layers,
                                                  InputValues input_values = {}) {
  if (batch_size < 1) throw pybind11::value_error("batch_size must be >= 1, got " + std::to_string(batch_size));
  graph::Options options;
  options.input_shapes = std::move(input_shapes);
  options.batch_size = batch_size;
  options.want_layers = layers;
  options.input_values = std::move(input_values);
  return options;
}

// A contiguous view of the Python buffer `obj` (the caller releases it with PyBuffer_Release, GIL held).
// ValueError for a buffer that is not contiguous, TypeError for an object that is no buffer; both name
// `source_name`.
inline Py_buffer acquire_contiguous_buffer(const pybind11::handle& obj, const std::string& source_name) {
  Py_buffer view{};
  if (PyObject_GetBuffer(obj.ptr(), &view, PyBUF_ANY_CONTIGUOUS) != 0) {
    PyErr_Clear();
    if (PyObject_CheckBuffer(obj.ptr()))
      throw pybind11::value_error(source_name + ": buffer is not contiguous; pass bytes(buffer) instead");
    throw pybind11::type_error(source_name + ": expected a path, a bytes-like object or an onnx.ModelProto, got " +
                               std::string(Py_TYPE(obj.ptr())->tp_name));
  }
  return view;
}

// Holds a contiguous view of one Python buffer for as long as the C++ work needs it; released with the
// GIL held (destroy it after the GIL is re-acquired).
class BufferView {
 public:
  BufferView(const pybind11::handle& obj, const std::string& source_name)
      : view_(acquire_contiguous_buffer(obj, source_name)) {}
  ~BufferView() { PyBuffer_Release(&view_); }
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;

  const uint8_t* data() const { return static_cast<const uint8_t*>(view_.buf); }
  size_t size() const { return static_cast<size_t>(view_.len); }

 private:
  Py_buffer view_{};
};

// Views of many Python buffers held for the duration of a call, released together with the GIL held.
class HeldBuffers {
 public:
  HeldBuffers() = default;
  HeldBuffers(const HeldBuffers&) = delete;
  HeldBuffers& operator=(const HeldBuffers&) = delete;
  ~HeldBuffers() {
    for (Py_buffer& v : views_) PyBuffer_Release(&v);
  }
  void reserve(size_t n) { views_.reserve(n); }   // no reallocation: returned references stay valid
  const Py_buffer& hold(const pybind11::handle& obj, const std::string& source_name) {
    views_.push_back(acquire_contiguous_buffer(obj, source_name));
    return views_.back();
  }

 private:
  std::vector<Py_buffer> views_;
};

}  // namespace netscore::bindings
