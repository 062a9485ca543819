// What the binding files share: one bind_<area>() per file (module.cpp calls each), the analysis options
// built from Python arguments, the readers of Python buffers and Ctrl-C during long calls: one set of
// rules for every binding.
#pragma once
#include <pybind11/pybind11.h>

#include <csignal>
#ifndef _WIN32
#include <signal.h>
#endif
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bulk/batch.h"
#include "graph/analysis.h"
#include "netscore/cancel.h"

namespace netscore::bindings {

void bind_profile(pybind11::module_& m);   // bind_profile.cpp: profile of one model
void bind_batch(pybind11::module_& m);     // bind_batch.cpp: many models on a thread pool
void bind_kernels(pybind11::module_& m);   // bind_kernels.cpp: direct kernel calls (tests), ISA dispatch
void bind_bench(pybind11::module_& m);     // bind_bench.cpp: timing harness, per-layer model timing, cpu info
void bind_device_profile(pybind11::module_& m);  // bind_device_profile.cpp: device profiles, zero-shot latency

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

// The buffers of a call's sources, and the parts of every tuple in one array, kept until the call ends.
struct HeldSources {
  HeldBuffers buffers;
  std::vector<graph::BytesView> parts;
};

// Paths (str), buffers and tuples of bytes parts (ModelParts) of `items` as batch sources (bind_batch.cpp);
// `held` keeps the buffers alive, and holds the parts of every tuple in one array, until the call ends.
std::vector<graph::BatchSource> collect_sources(const pybind11::list& items, const std::vector<std::string>* names,
                                                HeldSources& held);

// profile_batch's result from per-model totals (bind_batch.cpp): (totals int64[n, len(TOTALS_COLUMNS)], status
// int32[n], errors list[str]). When a row was cancelled (Ctrl-C), raises KeyboardInterrupt with that tuple as
// its .partial instead.
pybind11::tuple totals_result(const std::vector<graph::BatchTotals>& results);

// Python's cyclic garbage collector paused while a binding builds many container objects (GIL held): a dict
// of a million lists set off a thousand collections, each traversing what was built so far, and took more
// than half the conversion's time. What is built holds no cycles; collection resumes at the scope's end.
class GcPaused {
 public:
  GcPaused() {
#if PY_VERSION_HEX >= 0x030A0000
    was_enabled_ = PyGC_Disable() != 0;
#else
    gc_ = pybind11::module_::import("gc");
    was_enabled_ = gc_.attr("isenabled")().cast<bool>();
    if (was_enabled_) gc_.attr("disable")();
#endif
  }
  ~GcPaused() {
    if (!was_enabled_) return;
#if PY_VERSION_HEX >= 0x030A0000
    PyGC_Enable();
#else
    try {
      gc_.attr("enable")();
    } catch (const pybind11::error_already_set&) {
    }
#endif
  }
  GcPaused(const GcPaused&) = delete;
  GcPaused& operator=(const GcPaused&) = delete;

 private:
  bool was_enabled_ = false;
#if PY_VERSION_HEX < 0x030A0000
  pybind11::object gc_;
#endif
};

// ---- Ctrl-C during a call that runs with the GIL released ---------------------------------------------
// Python only notes a SIGINT (its C handler sets a flag) and raises KeyboardInterrupt once the main thread
// runs Python again, i.e. after the C++ call. So a C handler of ours sits in front of Python's: while a
// guarded call (Interruptible) runs it also sets the cancellation flag (netscore/cancel.h), which the loops
// of every layer poll, unwinding with Cancelled, which the module turns into the KeyboardInterrupt Python
// raises. It is installed once, by the first guarded call, and stays: outside guarded calls it only passes
// the signal on to Python's handler (two sigaction calls per call cost microseconds, as much as profiling a
// small model). Only the main thread's calls are guarded, and only while Python's handler is the default
// one (a program with a handler of its own gets it called after the call, as before; installing it through
// signal.signal() replaces ours, and the next guarded call checks for that); elsewhere the flag can still
// be set with _core.cancel().
namespace interrupt_detail {
#ifndef _WIN32
inline struct sigaction previous{};             // Python's handler, called after ours
inline volatile std::sig_atomic_t guarded = 0;  // a guarded call runs (changed with the GIL held only)
inline volatile std::sig_atomic_t seen = 0;     // a SIGINT set the cancellation flag

inline void on_sigint(int sig, siginfo_t* info, void* context) {
  if (guarded) {
    request_cancel();
    seen = 1;
  }
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction != nullptr) previous.sa_sigaction(sig, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
  }
}

// Ours is SIGINT's handler: then Python's (previous) was signal.default_int_handler's when it was installed
// and has not been changed since (signal.signal() would have replaced ours). One query, no change.
inline bool ours_installed() {
  struct sigaction current {};
  return sigaction(SIGINT, nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) &&
         current.sa_sigaction == &on_sigint;
}
#endif

struct PythonLookups {
  unsigned long main_thread = 0;
  PyObject* getsignal = nullptr;
  PyObject* default_handler = nullptr;
  PyObject* sigint = nullptr;
};

// Looked up once (GIL held) and kept for the life of the process: no destruction at exit.
inline const PythonLookups& python_lookups() {
  static const PythonLookups lookups = [] {
    PythonLookups l;
    try {
      l.main_thread = pybind11::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
      const pybind11::module_ signal = pybind11::module_::import("signal");
      l.getsignal = pybind11::object(signal.attr("getsignal")).release().ptr();
      l.default_handler = pybind11::object(signal.attr("default_int_handler")).release().ptr();
      l.sigint = pybind11::int_(static_cast<int>(SIGINT)).release().ptr();
    } catch (const pybind11::error_already_set&) {
      l.getsignal = nullptr;
    }
    return l;
  }();
  return lookups;
}

inline bool on_main_thread() {
  const PythonLookups& l = python_lookups();
  return l.getsignal != nullptr && PyThread_get_thread_ident() == l.main_thread;
}

// True while Python's SIGINT handler is signal.default_int_handler (GIL held).
inline bool python_raises_keyboard_interrupt() {
  const PythonLookups& l = python_lookups();
  PyObject* handler = PyObject_CallOneArg(l.getsignal, l.sigint);
  if (handler == nullptr) {
    PyErr_Clear();
    return false;
  }
  const bool is_default = handler == l.default_handler;
  Py_DECREF(handler);
  return is_default;
}
}  // namespace interrupt_detail

// Scope of a long call: construct with the GIL held, before releasing it; destroyed (GIL held again), it
// ends the guard and, when a SIGINT arrived, clears the flag (Python has noted the signal and raises
// KeyboardInterrupt: at once when the call ended with Cancelled, see module.cpp, else on return). A flag a
// SIGINT left set (one that reached another thread just as the last call ended) is cleared when the next
// call starts; a request of _core.cancel() stays until clear_cancel().
class Interruptible {
 public:
  Interruptible() {
#ifndef _WIN32
    namespace d = interrupt_detail;
    if (d::guarded || !d::on_main_thread()) return;
    if (!d::ours_installed()) {
      if (!d::python_raises_keyboard_interrupt()) return;
      struct sigaction ours {};
      ours.sa_sigaction = &d::on_sigint;
      sigemptyset(&ours.sa_mask);
      ours.sa_flags = SA_SIGINFO | SA_ONSTACK;   // as Python installs its own
      if (sigaction(SIGINT, &ours, &d::previous) != 0) return;
    }
    if (d::seen) {
      d::seen = 0;
      clear_cancel();
    }
    d::guarded = 1;
    guarding_ = true;
#endif
  }
  ~Interruptible() {
#ifndef _WIN32
    namespace d = interrupt_detail;
    if (!guarding_) return;
    d::guarded = 0;
    if (d::seen) {
      d::seen = 0;
      clear_cancel();
    }
#endif
  }
  Interruptible(const Interruptible&) = delete;
  Interruptible& operator=(const Interruptible&) = delete;

 private:
  bool guarding_ = false;
};

// The KeyboardInterrupt of a cancelled call that returns what it finished: taken at construction (the one
// Python's handler raises for the pending SIGINT, or a new one), so that building the partial result runs
// no signal handler (any Python code, even numpy's, would raise it there and lose the result); raise()
// raises it with the result as its attribute .partial. GIL held.
class PendingInterrupt {
 public:
  PendingInterrupt() {
    if (PyErr_CheckSignals() == 0) PyErr_SetNone(PyExc_KeyboardInterrupt);
    PyErr_Fetch(&type_, &value_, &traceback_);
    PyErr_NormalizeException(&type_, &value_, &traceback_);
  }
  ~PendingInterrupt() {
    Py_XDECREF(type_);
    Py_XDECREF(value_);
    Py_XDECREF(traceback_);
  }
  PendingInterrupt(const PendingInterrupt&) = delete;
  PendingInterrupt& operator=(const PendingInterrupt&) = delete;

  [[noreturn]] void raise(pybind11::handle partial) {
    if (value_ != nullptr && PyObject_SetAttrString(value_, "partial", partial.ptr()) != 0) PyErr_Clear();
    PyErr_Restore(type_, value_, traceback_);   // steals the references
    type_ = value_ = traceback_ = nullptr;
    throw pybind11::error_already_set();
  }

 private:
  PyObject* type_ = nullptr;
  PyObject* value_ = nullptr;
  PyObject* traceback_ = nullptr;
};

}  // namespace netscore::bindings
