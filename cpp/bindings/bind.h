// Former name of bindings/common.h, kept until bind_bench.cpp and bind_kernels.cpp include common.h.
#pragma once
#include "bindings/common.h"
