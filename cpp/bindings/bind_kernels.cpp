// Bindings for the kernels area: ISA dispatch (submodule netscore_fast._core.kernels) and, when built with
// NETSCORE_TEST_BINDINGS, direct kernel calls on numpy arrays for the tests (netscore_fast._core._testing;
// every call accepts isa=<tier name>, default: the active tier).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "bindings/testing.h"
#include "measure/op_timing.h"
#include "kernels/kernels.h"

namespace py = pybind11;
namespace k = netscore::kernels;

namespace netscore::bindings {
namespace {

using F32 = py::array_t<float, py::array::c_style | py::array::forcecast>;
using I8 = py::array_t<int8_t, py::array::c_style | py::array::forcecast>;
using I32 = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;
using Ints = std::vector<int64_t>;

k::Isa isa_arg(const std::optional<std::string>& name) {
  if (!name) return k::active_isa();
  k::Isa isa;
  if (!k::parse_isa(*name, &isa)) throw py::value_error("unknown ISA tier '" + *name + "'");
  for (k::Isa s : k::supported_isas())
    if (s == isa) return isa;
  throw py::value_error("ISA tier '" + *name + "' is not supported on this CPU");
}

#if NETSCORE_TEST_BINDINGS
k::Activation act_arg(const std::string& name, float clip_min, float clip_max) {
  k::Activation act;
  if (!k::parse_activation(name, &act.kind)) throw py::value_error("unknown activation '" + name + "'");
  if (act.kind == k::Activation::clip) {
    act.min = clip_min;
    act.max = clip_max;
  }
  return act;
}

Ints dims_of(const py::array& a) { return Ints(a.shape(), a.shape() + a.ndim()); }

std::unique_ptr<k::ThreadPool> pool_arg(int threads) {
  if (threads < 1) throw py::value_error("threads must be >= 1");
  return threads > 1 ? std::make_unique<k::ThreadPool>(threads) : nullptr;
}

// Refuses a shape whose buffers would pass the measurement memory limit (docs/limits.md) before a kernel
// sizes its scratch from it: a huge stride otherwise allocates gigabytes, or overflows and crashes.
void check_buffers(const netscore::bench::OpSpec& spec, const char* what) {
  const double need = netscore::bench::spec_buffer_bytes(spec), limit = netscore::bench::measure_buffer_limit();
  if (need > limit)
    throw py::value_error(std::string(what) + ": needs " + std::to_string(need / 1e9) + " GB of buffers, above the limit of " +
                          std::to_string(limit / 1e9) + " GB");
}

k::Conv2dShape conv_shape(const Ints& xd, const Ints& wd, const Ints& strides, const Ints& pads, const Ints& dil,
                          int64_t group) {
  if (xd.size() != 4 || wd.size() != 4) throw py::value_error("conv2d: x and w must be 4-d (NCHW, OIHW)");
  if (strides.size() != 2 || pads.size() != 4 || dil.size() != 2)
    throw py::value_error("conv2d: strides (2), pads (top, left, bottom, right) and dilations (2) expected");
  k::Conv2dShape s;
  s.n = xd[0]; s.c_in = xd[1]; s.h = xd[2]; s.w = xd[3];
  s.c_out = wd[0]; s.kh = wd[2]; s.kw = wd[3];
  s.stride_h = strides[0]; s.stride_w = strides[1];
  s.pad_top = pads[0]; s.pad_left = pads[1]; s.pad_bottom = pads[2]; s.pad_right = pads[3];
  s.dil_h = dil[0]; s.dil_w = dil[1];
  s.group = group;
  if (group < 1 || s.c_in % group || wd[1] * group != s.c_in)
    throw py::value_error("conv2d: w must be [c_out, c_in / group, kh, kw]");
  netscore::bench::OpSpec spec;
  spec.conv = s;
  check_buffers(spec, "conv2d");
  return s;
}

py::object with_name(py::array y, const std::string& name, bool return_kernel) {
  if (return_kernel) return py::make_tuple(y, name);
  return std::move(y);
}
#endif  // NETSCORE_TEST_BINDINGS

}  // namespace

void bind_kernels(py::module_& m) {
  py::module_ km = m.def_submodule("kernels", "Direct calls of the micro-kernels on numpy arrays, and ISA dispatch");

  km.def("supported_isas", [] {
    std::vector<std::string> out;
    for (k::Isa isa : k::supported_isas()) out.push_back(k::isa_name(isa));
    return out;
  }, "ISA tiers this CPU and OS can run, scalar first, best last.");
  km.def("best_isa", [] { return std::string(k::isa_name(k::best_isa())); }, "The best tier this CPU can run.");
  km.def("active_isa", [] { return std::string(k::isa_name(k::active_isa())); },
         "The tier used by default: set_isa(), else NETSCORE_ISA, else best_isa().");
  km.def("set_isa", [](const std::string& name) { k::set_isa(isa_arg(name)); }, py::arg("isa"),
         "Force a tier for kernels constructed from now on (ValueError if unsupported).");

#if NETSCORE_TEST_BINDINGS
  py::module_ tm = testing_module(m);
  tm.def(
      "conv2d",
      [](F32 x, F32 w, std::optional<F32> b, Ints strides, Ints pads, Ints dilations, int64_t group,
         const std::string& activation, float clip_min, float clip_max, std::optional<std::string> isa, int threads,
         bool return_kernel, std::optional<F32> residual) {
        const k::Conv2dShape s = conv_shape(dims_of(x), dims_of(w), strides, pads, dilations, group);
        if (b && b->size() != s.c_out) throw py::value_error("conv2d: b must have c_out values");
        if (residual && dims_of(*residual) != Ints{s.n, s.c_out, s.out_h(), s.out_w()})
          throw py::value_error("conv2d: residual must have the output's shape");
        k::Conv2d op(s, w.data(), b ? b->data() : nullptr, act_arg(activation, clip_min, clip_max), isa_arg(isa));
        F32 y({s.n, s.c_out, s.out_h(), s.out_w()});
        auto pool = pool_arg(threads);
        {
          py::gil_scoped_release release;
          op.run(x.data(), residual ? residual->data() : nullptr, y.mutable_data(), pool.get());
        }
        return with_name(y, op.kernel_name(), return_kernel);
      },
      py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("strides") = Ints{1, 1},
      py::arg("pads") = Ints{0, 0, 0, 0}, py::arg("dilations") = Ints{1, 1}, py::arg("group") = 1,
      py::arg("activation") = "none", py::arg("clip_min") = 0.0f, py::arg("clip_max") = 6.0f,
      py::arg("isa") = py::none(), py::arg("threads") = 1, py::arg("return_kernel") = false,
      py::arg("residual") = py::none(),
      "fp32 NCHW convolution (any kind) with fused bias and activation. pads = (top, left, bottom, right). "
      "residual (shaped like the output) is added before the activation: y = act(conv + b + residual).");

  tm.def(
      "dwconv",
      [](F32 x, F32 w, std::optional<F32> b, Ints strides, Ints pads, Ints dilations, const std::string& activation,
         std::optional<std::string> isa, bool return_kernel) {
        const Ints xd = dims_of(x), wd = dims_of(w);
        if (xd.size() != 4 || wd.size() != 4 || wd[1] != 1) throw py::value_error("dwconv: w must be [c, 1, kh, kw]");
        const k::Conv2dShape s = conv_shape(xd, wd, strides, pads, dilations, xd[1]);
        k::Conv2d op(s, w.data(), b ? b->data() : nullptr, act_arg(activation, 0.0f, 6.0f), isa_arg(isa));
        F32 y({s.n, s.c_out, s.out_h(), s.out_w()});
        {
          py::gil_scoped_release release;
          op.run(x.data(), y.mutable_data());
        }
        return with_name(y, op.kernel_name(), return_kernel);
      },
      py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("strides") = Ints{1, 1},
      py::arg("pads") = Ints{0, 0, 0, 0}, py::arg("dilations") = Ints{1, 1}, py::arg("activation") = "none",
      py::arg("isa") = py::none(), py::arg("return_kernel") = false, "fp32 depthwise convolution (group = channels).");

  tm.def(
      "gemm",
      [](F32 x, F32 w, std::optional<F32> b, bool trans_b, const std::string& activation, float clip_min,
         float clip_max, std::optional<std::string> isa, int threads, bool return_kernel) {
        const Ints xd = dims_of(x), wd = dims_of(w);
        if (xd.size() != 2 || wd.size() != 2) throw py::value_error("gemm: x and w must be 2-d");
        k::GemmShape s{xd[0], xd[1], trans_b ? wd[0] : wd[1], trans_b};
        if ((trans_b ? wd[1] : wd[0]) != s.k) throw py::value_error("gemm: inner dimensions differ");
        if (b && b->size() != s.n) throw py::value_error("gemm: b must have n values");
        k::Gemm op(s, w.data(), b ? b->data() : nullptr, act_arg(activation, clip_min, clip_max), isa_arg(isa));
        F32 y({s.m, s.n});
        auto pool = pool_arg(threads);
        {
          py::gil_scoped_release release;
          op.run(x.data(), y.mutable_data(), pool.get());
        }
        return with_name(y, op.kernel_name(), return_kernel);
      },
      py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("trans_b") = true,
      py::arg("activation") = "none", py::arg("clip_min") = 0.0f, py::arg("clip_max") = 6.0f,
      py::arg("isa") = py::none(), py::arg("threads") = 1, py::arg("return_kernel") = false,
      "Y = X @ (W.T if trans_b else W) + b with fused activation; GEMV when X has one row.");

  tm.def(
      "pool",
      [](F32 x, const std::string& kind, Ints kernel, Ints strides, Ints pads, Ints dilations, bool ceil_mode,
         bool count_include_pad, std::optional<std::string> isa, bool return_kernel) {
        const Ints xd = dims_of(x);
        if (xd.size() != 4 || kernel.size() != 2 || strides.size() != 2 || pads.size() != 4 || dilations.size() != 2)
          throw py::value_error("pool: x NCHW, kernel (2), strides (2), pads (4), dilations (2) expected");
        if (kind != "max" && kind != "avg") throw py::value_error("pool: kind must be 'max' or 'avg'");
        k::Pool2dShape s;
        s.n = xd[0]; s.c = xd[1]; s.h = xd[2]; s.w = xd[3];
        s.kh = kernel[0]; s.kw = kernel[1]; s.stride_h = strides[0]; s.stride_w = strides[1];
        s.pad_top = pads[0]; s.pad_left = pads[1]; s.pad_bottom = pads[2]; s.pad_right = pads[3];
        s.dil_h = dilations[0]; s.dil_w = dilations[1];
        s.ceil_mode = ceil_mode;
        s.count_include_pad = count_include_pad;
        netscore::bench::OpSpec spec;
        spec.kind = netscore::bench::OpSpec::Kind::maxpool;
        spec.pool = s;
        check_buffers(spec, "pool");
        k::Pool2d op(kind == "max" ? k::PoolKind::max : k::PoolKind::average, s, isa_arg(isa));
        F32 y({s.n, s.c, s.out_h(), s.out_w()});
        {
          py::gil_scoped_release release;
          op.run(x.data(), y.mutable_data());
        }
        return with_name(y, op.kernel_name(), return_kernel);
      },
      py::arg("x"), py::arg("kind") = "max", py::arg("kernel") = Ints{2, 2}, py::arg("strides") = Ints{1, 1},
      py::arg("pads") = Ints{0, 0, 0, 0}, py::arg("dilations") = Ints{1, 1}, py::arg("ceil_mode") = false,
      py::arg("count_include_pad") = false, py::arg("isa") = py::none(), py::arg("return_kernel") = false,
      "fp32 max or average pooling over NCHW.");

  tm.def(
      "global_avg_pool",
      [](F32 x, std::optional<std::string> isa) {
        const Ints xd = dims_of(x);
        if (xd.size() != 4) throw py::value_error("global_avg_pool: x must be NCHW");
        k::GlobalAvgPool op(xd[0], xd[1], xd[2], xd[3], isa_arg(isa));
        F32 y({xd[0], xd[1], int64_t(1), int64_t(1)});
        {
          py::gil_scoped_release release;
          op.run(x.data(), y.mutable_data());
        }
        return y;
      },
      py::arg("x"), py::arg("isa") = py::none(), "Mean over H and W: [n, c, h, w] -> [n, c, 1, 1].");

  tm.def(
      "binary",
      [](F32 a, F32 b, const std::string& op, std::optional<std::string> isa, int threads) {
        if (op != "add" && op != "mul") throw py::value_error("binary: op must be 'add' or 'mul'");
        k::Binary kernel(op == "add" ? k::BinaryOp::add : k::BinaryOp::mul, dims_of(a), dims_of(b), nullptr,
                         isa_arg(isa));
        F32 y(kernel.out_dims());
        auto pool = pool_arg(threads);
        {
          py::gil_scoped_release release;
          kernel.run(a.data(), b.data(), y.mutable_data(), pool.get());
        }
        return y;
      },
      py::arg("a"), py::arg("b"), py::arg("op") = "add", py::arg("isa") = py::none(), py::arg("threads") = 1,
      "Elementwise add or multiply with NumPy broadcasting.");

  tm.def(
      "unary",
      [](F32 x, const std::string& activation, float clip_min, float clip_max, std::optional<std::string> isa) {
        k::Unary op(act_arg(activation, clip_min, clip_max), x.size(), isa_arg(isa));
        F32 y(dims_of(x));
        {
          py::gil_scoped_release release;
          op.run(x.data(), y.mutable_data());
        }
        return y;
      },
      py::arg("x"), py::arg("activation"), py::arg("clip_min") = 0.0f, py::arg("clip_max") = 6.0f,
      py::arg("isa") = py::none(), "An activation (relu, relu6, clip, sigmoid, hardswish, silu, gelu) elementwise.");

  tm.def(
      "qconv2d",
      [](I8 x, I8 w, std::optional<I32> b, float x_scale, int x_zero_point, float w_scale, float y_scale,
         int y_zero_point, Ints strides, Ints pads, Ints dilations, int64_t group, const std::string& activation,
         float clip_min, float clip_max, std::optional<std::string> isa, bool return_kernel) {
        const k::Conv2dShape s = conv_shape(dims_of(x), dims_of(w), strides, pads, dilations, group);
        if (b && b->size() != s.c_out) throw py::value_error("qconv2d: b must have c_out values");
        k::QConv2d op(s, w.data(), b ? b->data() : nullptr, {x_scale, x_zero_point}, {w_scale, 0},
                      {y_scale, y_zero_point}, act_arg(activation, clip_min, clip_max), isa_arg(isa));
        I8 y({s.n, s.c_out, s.out_h(), s.out_w()});
        {
          py::gil_scoped_release release;
          op.run(x.data(), y.mutable_data());
        }
        return with_name(y, op.kernel_name(), return_kernel);
      },
      py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("x_scale") = 1.0f, py::arg("x_zero_point") = 0,
      py::arg("w_scale") = 1.0f, py::arg("y_scale") = 1.0f, py::arg("y_zero_point") = 0,
      py::arg("strides") = Ints{1, 1}, py::arg("pads") = Ints{0, 0, 0, 0}, py::arg("dilations") = Ints{1, 1},
      py::arg("group") = 1, py::arg("activation") = "none", py::arg("clip_min") = 0.0f, py::arg("clip_max") = 6.0f,
      py::arg("isa") = py::none(), py::arg("return_kernel") = false,
      "int8 convolution: int32 accumulation, per-tensor fp32 requantisation (round half to even), symmetric weights.");

  tm.def(
      "qgemm",
      [](I8 x, I8 w, std::optional<I32> b, float x_scale, int x_zero_point, float w_scale, float y_scale,
         int y_zero_point, bool trans_b, const std::string& activation, float clip_min, float clip_max,
         std::optional<std::string> isa, bool return_kernel) {
        const Ints xd = dims_of(x), wd = dims_of(w);
        if (xd.size() != 2 || wd.size() != 2) throw py::value_error("qgemm: x and w must be 2-d");
        k::GemmShape s{xd[0], xd[1], trans_b ? wd[0] : wd[1], trans_b};
        if ((trans_b ? wd[1] : wd[0]) != s.k) throw py::value_error("qgemm: inner dimensions differ");
        if (b && b->size() != s.n) throw py::value_error("qgemm: b must have n values");
        k::QGemm op(s, w.data(), b ? b->data() : nullptr, {x_scale, x_zero_point}, {w_scale, 0},
                    {y_scale, y_zero_point}, act_arg(activation, clip_min, clip_max), isa_arg(isa));
        I8 y({s.m, s.n});
        {
          py::gil_scoped_release release;
          op.run(x.data(), y.mutable_data());
        }
        return with_name(y, op.kernel_name(), return_kernel);
      },
      py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("x_scale") = 1.0f, py::arg("x_zero_point") = 0,
      py::arg("w_scale") = 1.0f, py::arg("y_scale") = 1.0f, py::arg("y_zero_point") = 0, py::arg("trans_b") = true,
      py::arg("activation") = "none", py::arg("clip_min") = 0.0f, py::arg("clip_max") = 6.0f,
      py::arg("isa") = py::none(), py::arg("return_kernel") = false, "int8 fully connected (see qconv2d).");
#endif  // NETSCORE_TEST_BINDINGS
}

}  // namespace netscore::bindings
