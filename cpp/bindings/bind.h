// One bind_<area>() per file; module.cpp calls each.
#pragma once
#include <pybind11/pybind11.h>

namespace netscore::bindings {
void bind_profile(pybind11::module_& m);   // bind_profile.cpp: profile of one model
void bind_batch(pybind11::module_& m);     // bind_batch.cpp: many models on a thread pool
void bind_kernels(pybind11::module_& m);   // bind_kernels.cpp: direct kernel calls (tests), ISA dispatch
void bind_bench(pybind11::module_& m);     // bind_bench.cpp: timing harness, per-layer model timing, cpu info
}  // namespace netscore::bindings
