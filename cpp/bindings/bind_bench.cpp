// Bindings for the bench area: machine description, timing one op spec, per-layer timing of a model.
// Timing runs with the GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings/bind.h"
#include "graph/analysis.h"
#include "measure/cpu_info.h"
#include "measure/harness.h"
#include "measure/model_timing.h"
#include "measure/op_timing.h"
#include "kernels/kernels.h"

namespace py = pybind11;

namespace netscore::bindings {
namespace {

using InputShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

std::vector<int64_t> ints(const py::dict& d, const char* key, std::vector<int64_t> def = {}) {
  if (!d.contains(key)) return def;
  return d[key].cast<std::vector<int64_t>>();
}

int64_t int_or(const py::dict& d, const char* key, int64_t def) {
  return d.contains(key) ? d[key].cast<int64_t>() : def;
}

std::vector<int64_t> sized(std::vector<int64_t> v, size_t n, const char* what) {
  if (v.size() != n) throw py::value_error(std::string(what) + " must have " + std::to_string(n) + " values");
  return v;
}

kernels::Activation parse_act(const py::dict& d, const std::string& name) {
  kernels::Activation act;
  if (name.empty() || name == "none") return act;
  if (!kernels::parse_activation(name, &act.kind)) throw py::value_error("unknown activation '" + name + "'");
  if (act.kind == kernels::Activation::relu6) {
    act.min = 0.0f;
    act.max = 6.0f;
  } else if (act.kind == kernels::Activation::clip) {
    act.min = d.contains("clip_min") ? d["clip_min"].cast<float>() : -INFINITY;
    act.max = d.contains("clip_max") ? d["clip_max"].cast<float>() : INFINITY;
  }
  return act;
}

// The dict form of an op spec (see netscore_fast.bench.SUITE) -> OpSpec.
bench::OpSpec parse_spec(const py::dict& d) {
  if (!d.contains("op")) throw py::value_error("op spec needs an 'op' key");
  const std::string op = d["op"].cast<std::string>();
  bench::OpSpec s;
  const std::string activation = d.contains("activation") ? d["activation"].cast<std::string>() : "";
  if (op == "conv" || op == "qconv") {
    const auto x = sized(ints(d, "input"), 4, "conv input");
    const auto k = sized(ints(d, "kernel", {1, 1}), 2, "conv kernel");
    const auto st = sized(ints(d, "strides", {1, 1}), 2, "conv strides");
    const auto p = sized(ints(d, "pads", {0, 0, 0, 0}), 4, "conv pads");
    const auto dl = sized(ints(d, "dilations", {1, 1}), 2, "conv dilations");
    s.kind = op == "conv" ? bench::OpSpec::Kind::conv : bench::OpSpec::Kind::qconv;
    auto& c = s.conv;
    c.n = x[0]; c.c_in = x[1]; c.h = x[2]; c.w = x[3];
    c.c_out = int_or(d, "out_channels", c.c_in);
    c.kh = k[0]; c.kw = k[1]; c.stride_h = st[0]; c.stride_w = st[1];
    c.pad_top = p[0]; c.pad_left = p[1]; c.pad_bottom = p[2]; c.pad_right = p[3];
    c.dil_h = dl[0]; c.dil_w = dl[1];
    c.group = int_or(d, "group", 1);
    if (c.group < 1 || c.c_in % c.group || c.c_out % c.group)
      throw py::value_error("conv group must divide input and output channels");
    s.bias = d.contains("bias") ? d["bias"].cast<bool>() : true;
    s.residual = op == "conv" && d.contains("residual") && d["residual"].cast<bool>();
    s.act = parse_act(d, activation);
  } else if (op == "gemm" || op == "qgemm") {
    s.kind = op == "gemm" ? bench::OpSpec::Kind::gemm : bench::OpSpec::Kind::qgemm;
    s.gemm.m = int_or(d, "m", 1);
    s.gemm.k = int_or(d, "k", 1);
    s.gemm.n = int_or(d, "n", 1);
    s.gemm.trans_b = d.contains("trans_b") ? d["trans_b"].cast<bool>() : true;
    s.repeat = int_or(d, "batch", 1);
    s.bias = d.contains("bias") ? d["bias"].cast<bool>() : true;
    s.act = parse_act(d, activation);
  } else if (op == "maxpool" || op == "avgpool" || op == "globalavgpool") {
    const auto x = sized(ints(d, "input"), 4, "pool input");
    auto& p = s.pool;
    p.n = x[0]; p.c = x[1]; p.h = x[2]; p.w = x[3];
    if (op == "globalavgpool") {
      s.kind = bench::OpSpec::Kind::globalavgpool;
    } else {
      s.kind = op == "maxpool" ? bench::OpSpec::Kind::maxpool : bench::OpSpec::Kind::avgpool;
      const auto k = sized(ints(d, "kernel"), 2, "pool kernel");
      const auto st = sized(ints(d, "strides", {1, 1}), 2, "pool strides");
      const auto pd = sized(ints(d, "pads", {0, 0, 0, 0}), 4, "pool pads");
      const auto dl = sized(ints(d, "dilations", {1, 1}), 2, "pool dilations");
      p.kh = k[0]; p.kw = k[1]; p.stride_h = st[0]; p.stride_w = st[1];
      p.pad_top = pd[0]; p.pad_left = pd[1]; p.pad_bottom = pd[2]; p.pad_right = pd[3];
      p.dil_h = dl[0]; p.dil_w = dl[1];
      p.ceil_mode = int_or(d, "ceil_mode", 0) != 0;
      p.count_include_pad = int_or(d, "count_include_pad", 0) != 0;
    }
  } else if (op == "add" || op == "mul") {
    s.kind = op == "add" ? bench::OpSpec::Kind::add : bench::OpSpec::Kind::mul;
    s.a_dims = ints(d, "a");
    s.b_dims = ints(d, "b", s.a_dims);
  } else {
    kernels::Activation::Kind kind;
    if (!kernels::parse_activation(op, &kind) || kind == kernels::Activation::none)
      throw py::value_error("unknown op '" + op + "' in op spec");
    s.kind = bench::OpSpec::Kind::unary;
    s.act = parse_act(d, op);
    int64_t count = 1;
    for (int64_t v : ints(d, "input")) count *= v;
    s.count = count;
  }
  return s;
}

void put_timing(py::dict& r, const bench::Timing& t, bool measured) {
  const double nan = std::nan("");
  r["median_s"] = measured ? t.median_s : nan;
  r["q1_s"] = measured ? t.q1_s : nan;
  r["q3_s"] = measured ? t.q3_s : nan;
  r["iqr_s"] = measured ? t.iqr_s : nan;
  r["min_s"] = measured ? t.min_s : nan;
  r["samples"] = t.samples;
  r["flops"] = t.flops;
  r["bytes"] = t.bytes;
  r["gflops"] = measured && t.flops > 0 ? t.gflops : nan;
  r["gbytes_per_s"] = measured && t.bytes > 0 ? t.gbytes_per_s : nan;
  r["isa"] = t.context.isa;
  r["threads"] = t.context.threads;
  r["cold_cache"] = t.cold_cache;
  r["buffer_copies"] = t.buffer_copies;
}

py::dict cpu_info_dict() {
  const bench::CpuInfo& c = bench::cpu_info();
  py::dict d;
  d["arch"] = c.arch;
  d["model"] = c.model;
  d["vendor"] = c.vendor;
  d["logical_cores"] = c.logical_cores;
  d["llc_bytes"] = c.llc_bytes;
  d["nominal_mhz"] = c.nominal_mhz;
  d["measured_mhz"] = c.measured_mhz;
  d["clock_mhz"] = c.clock_mhz;
  d["clock_source"] = c.clock_source;
  d["isa_supported"] = c.isa_supported;
  d["isa_active"] = c.isa_active;
  d["fma_units"] = c.fma_units;
  d["vector_bits"] = c.vector_bits;
  d["peak_gflops_per_core"] = c.peak_gflops_per_core;
  d["peak_assumption"] = c.peak_assumption;
  d["compiler"] = c.compiler;
  return d;
}

bench::TimingOptions timing_options(int threads, double min_time, bool cold_cache) {
  if (threads < 1) throw py::value_error("threads must be >= 1");
  if (!(min_time >= 0)) throw py::value_error("min_time must be >= 0");
  bench::TimingOptions o;
  o.threads = threads;
  o.min_time = min_time;
  o.warmup_time = std::min(0.01, std::max(min_time / 5, 1e-4));
  o.cold_cache = cold_cache;
  return o;
}

graph::Options graph_options(InputShapes shapes, int64_t batch_size) {
  if (batch_size < 1) throw py::value_error("batch_size must be >= 1");
  graph::Options o;
  o.input_shapes = std::move(shapes);
  o.batch_size = batch_size;
  return o;
}

py::dict model_result(const bench::ModelTiming& mt);

py::list model_rows(const bench::ModelTiming& mt) {
  py::list rows;
  for (const bench::LayerTiming& l : mt.layers) {
    py::dict r;
    r["name"] = l.name;
    r["op_type"] = l.op_type;
    r["kernel"] = l.kernel;
    r["status"] = bench::status_name(l.status);
    r["shape"] = l.shape;
    r["note"] = l.note;
    r["node_index"] = l.node_index;
    r["config_id"] = l.config_id;
    r["timed"] = l.timed;
    const bool measured = l.status == bench::LayerStatus::measured;
    put_timing(r, l.timing, measured);
    if (l.status == bench::LayerStatus::fused || l.status == bench::LayerStatus::folded ||
        l.status == bench::LayerStatus::noop)
      for (const char* k : {"median_s", "q1_s", "q3_s", "iqr_s"}) r[k] = 0.0;
    rows.append(r);
  }
  return rows;
}

py::dict model_result(const bench::ModelTiming& mt) {
  py::dict d;
  d["rows"] = model_rows(mt);
  d["total_s"] = mt.total_s;
  d["distinct_configs"] = mt.distinct_configs;
  if (mt.sequence.samples > 0) {
    py::dict seq;
    put_timing(seq, mt.sequence, true);
    d["sequence"] = seq;
  } else {
    d["sequence"] = py::none();
  }
  return d;
}

// A prepared op held by Python (pytest-benchmark drives run() itself).
struct BenchOp {
  bench::PreparedOp op;
  std::unique_ptr<kernels::ThreadPool> pool;
  BenchOp(const bench::OpSpec& spec, int threads) : op(spec, 1) {
    if (threads > 1) pool = std::make_unique<kernels::ThreadPool>(threads);
  }
};

}  // namespace

void bind_bench(py::module_& m) {
  py::class_<BenchOp>(m, "BenchOp", "One op spec prepared with our kernels (random weights and inputs).")
      .def(py::init([](py::dict spec, int threads) {
             if (threads < 1) throw py::value_error("threads must be >= 1");
             return std::make_unique<BenchOp>(parse_spec(spec), threads);
           }),
           py::arg("spec"), py::arg("threads") = 1)
      .def(
          "run",
          [](BenchOp& b, int64_t times) {
            py::gil_scoped_release release;
            for (int64_t i = 0; i < times; ++i) b.op.run(0, b.pool.get());
          },
          py::arg("times") = 1, "Run the op `times` times (GIL released).")
      .def_property_readonly("kernel", [](const BenchOp& b) { return b.op.kernel().kernel_name(); })
      .def_property_readonly("isa",
                             [](const BenchOp& b) { return std::string(kernels::isa_name(b.op.kernel().isa())); })
      .def_property_readonly("flops", [](const BenchOp& b) { return b.op.flops(); }, "FLOPs per run")
      .def_property_readonly("bytes", [](const BenchOp& b) { return b.op.bytes(); },
                             "compulsory bytes per run");

  m.def(
      "bench_quantile", [](std::vector<double> samples, double q) { return bench::quantile(std::move(samples), q); },
      py::arg("samples"), py::arg("q"),
      "The harness's quantile (linear interpolation between order statistics); 0 for no samples.");
  m.def("bench_cpu_model_from_cpuinfo", &bench::cpu_model_from_cpuinfo, py::arg("proc_cpuinfo_text"),
        py::arg("device_tree_model") = "", "The CPU model a /proc/cpuinfo text names (x86 or ARM).");
  m.def("bench_cpu_info", &cpu_info_dict,
        "This machine: model, cores, caches, clock, ISA tiers, FMA assumption and FP32 peak per core.");

  m.def(
      "bench_time_op",
      [](py::dict spec, int threads, double min_time, bool cold_cache) {
        bench::OpSpec s = parse_spec(spec);
        bench::TimingOptions o = timing_options(threads, min_time, cold_cache);
        bench::OpTiming t;
        {
          py::gil_scoped_release release;
          std::unique_ptr<kernels::ThreadPool> pool;
          if (threads > 1) pool = std::make_unique<kernels::ThreadPool>(threads);
          t = bench::time_op(s, o, pool.get());
        }
        py::dict r;
        const std::string op_type = s.kind == bench::OpSpec::Kind::unary ? kernels::activation_name(s.act.kind)
                                                                         : bench::kind_name(s.kind);
        r["name"] = op_type;
        r["op_type"] = op_type;
        r["kernel"] = t.kernel;
        r["status"] = "measured";
        r["shape"] = s.key();
        r["config_id"] = 0;
        r["timed"] = true;
        put_timing(r, t.timing, true);
        return r;
      },
      py::arg("spec"), py::arg("threads") = 1, py::arg("min_time") = 0.1, py::arg("cold_cache") = false,
      "Time one op spec (dict) with our kernels; returns a result row (seconds per call, GFLOP/s, GB/s).");

  m.def(
      "bench_time_model_file",
      [](const std::string& path, InputShapes shapes, int64_t batch_size, int threads, double min_time,
         bool cold_cache, bool sequence) {
        graph::Options g = graph_options(std::move(shapes), batch_size);
        bench::TimingOptions o = timing_options(threads, min_time, cold_cache);
        bench::ModelTiming mt;
        {
          py::gil_scoped_release release;
          mt = bench::time_model_file(path, g, o, sequence);
        }
        return model_result(mt);
      },
      py::arg("path"), py::arg("input_shapes"), py::arg("batch_size") = 1, py::arg("threads") = 1,
      py::arg("min_time") = 0.1, py::arg("cold_cache") = false, py::arg("sequence") = true,
      "Per-layer timing of an ONNX file with our kernels: {'rows': one dict per node, 'total_s',\n"
      "'distinct_configs', 'sequence': timing of all measured layers back to back or None}.");

  m.def(
      "bench_time_model_buffer",
      [](py::buffer buffer, const std::string& source_name, InputShapes shapes, int64_t batch_size, int threads,
         double min_time, bool cold_cache, bool sequence) {
        graph::Options g = graph_options(std::move(shapes), batch_size);
        bench::TimingOptions o = timing_options(threads, min_time, cold_cache);
        py::buffer_info info = buffer.request();
        if (info.ndim > 1 && info.strides.back() != info.itemsize)
          throw py::value_error(source_name + ": buffer is not contiguous; pass bytes(buffer) instead");
        const auto* data = static_cast<const uint8_t*>(info.ptr);
        const size_t size = size_t(info.size * info.itemsize);
        bench::ModelTiming mt;
        {
          py::gil_scoped_release release;
          mt = bench::time_model_bytes(data, size, source_name, g, o, sequence);
        }
        return model_result(mt);
      },
      py::arg("buffer"), py::arg("source_name"), py::arg("input_shapes"), py::arg("batch_size") = 1,
      py::arg("threads") = 1, py::arg("min_time") = 0.1, py::arg("cold_cache") = false, py::arg("sequence") = true,
      "Per-layer timing of a serialized ONNX model held in a bytes-like object (read in place).");
}

}  // namespace netscore::bindings
