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

#include "bindings/common.h"
#include "bindings/pystr.h"
#include "bindings/testing.h"
#include "graph/analysis.h"
#include "measure/cpu_info.h"
#include "measure/harness.h"
#include "measure/model_timing.h"
#include "measure/op_spec.h"
#include "measure/op_timing.h"
#include "kernels/kernels.h"

namespace py = pybind11;

namespace netscore::bindings {
namespace {

using InputShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// A Python dict as the op spec's key source: values converted with pybind11's casts (a wrong type raises
// its cast error); the keys, defaults and spec errors live in measure/op_spec.cpp.
class DictSpec final : public bench::SpecSource {
 public:
  explicit DictSpec(const py::dict& d) : d_(d) {}
  bool has(const char* key) const override { return d_.contains(key); }
  std::string text(const char* key) const override { return d_[key].cast<std::string>(); }
  std::vector<int64_t> ints(const char* key) const override { return d_[key].cast<std::vector<int64_t>>(); }
  int64_t integer(const char* key) const override { return d_[key].cast<int64_t>(); }
  bool flag(const char* key) const override { return d_[key].cast<bool>(); }
  float real(const char* key) const override { return d_[key].cast<float>(); }

 private:
  const py::dict& d_;
};

bench::OpSpec parse_spec(const py::dict& d) { return bench::parse_op_spec(DictSpec(d)); }

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
  d["arch"] = to_pystr(c.arch);
  d["model"] = to_pystr(c.model);
  d["vendor"] = to_pystr(c.vendor);
  d["logical_cores"] = c.logical_cores;
  d["llc_bytes"] = c.llc_bytes;
  d["nominal_mhz"] = c.nominal_mhz;
  d["measured_mhz"] = c.measured_mhz;
  d["clock_mhz"] = c.clock_mhz;
  d["clock_source"] = to_pystr(c.clock_source);
  d["isa_supported"] = to_pystr_list(c.isa_supported);
  d["isa_active"] = to_pystr(c.isa_active);
  d["fma_units"] = c.fma_units;
  d["vector_bits"] = c.vector_bits;
  d["peak_gflops_per_core"] = c.peak_gflops_per_core;
  d["model_peak_gflops_per_core"] = c.model_peak_gflops_per_core;
  d["fma_per_cycle"] = c.fma_per_cycle;
  py::dict by_isa;
  for (const auto& [isa, gflops] : c.peak_gflops_by_isa) by_isa[to_pystr(isa)] = gflops;
  d["peak_gflops_by_isa"] = by_isa;
  d["peak_assumption"] = to_pystr(c.peak_assumption);
  d["compiler"] = to_pystr(c.compiler);
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

// Timing needs the per-node rows (its plan is built from them).
graph::Options graph_options(InputShapes shapes, int64_t batch_size) {
  return profile_options_from_python(std::move(shapes), batch_size, /*layers=*/true);
}

py::dict model_result(const bench::ModelTiming& mt);

py::list model_rows(const bench::ModelTiming& mt) {
  py::list rows;
  for (const bench::LayerTiming& l : mt.layers) {
    py::dict r;
    r["name"] = to_pystr(l.name);
    r["op_type"] = to_pystr(l.op_type);
    r["kernel"] = to_pystr(l.kernel);
    r["status"] = bench::status_name(l.status);
    r["shape"] = to_pystr(l.shape);
    r["note"] = to_pystr(l.note);
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
            Interruptible interruptible;
            py::gil_scoped_release release;
            for (int64_t i = 0; i < times; ++i) {
              check_cancelled();
              b.op.run(0, b.pool.get());
            }
          },
          py::arg("times") = 1, "Run the op `times` times (GIL released).")
      .def_property_readonly("kernel", [](const BenchOp& b) { return b.op.kernel().kernel_name(); })
      .def_property_readonly("isa",
                             [](const BenchOp& b) { return std::string(kernels::isa_name(b.op.kernel().isa())); })
      .def_property_readonly("flops", [](const BenchOp& b) { return b.op.flops(); }, "FLOPs per run")
      .def_property_readonly("bytes", [](const BenchOp& b) { return b.op.bytes(); },
                             "compulsory bytes per run");

  m.def("bench_cpu_info", &cpu_info_dict,
        "This machine: model, cores, caches, clock, ISA tiers, FMA assumption and FP32 peak per core.");

  m.def(
      "bench_time_op",
      [](py::dict spec, int threads, double min_time, bool cold_cache) {
        bench::OpSpec s = parse_spec(spec);
        bench::TimingOptions o = timing_options(threads, min_time, cold_cache);
        bench::OpTiming t;
        {
          Interruptible interruptible;   // Ctrl-C stops the timing (KeyboardInterrupt)
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
          Interruptible interruptible;   // Ctrl-C stops the timing (KeyboardInterrupt)
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
      [](py::object buffer, const std::string& source_name, InputShapes shapes, int64_t batch_size, int threads,
         double min_time, bool cold_cache, bool sequence) {
        graph::Options g = graph_options(std::move(shapes), batch_size);
        bench::TimingOptions o = timing_options(threads, min_time, cold_cache);
        BufferView view(buffer, source_name);
        bench::ModelTiming mt;
        {
          Interruptible interruptible;   // Ctrl-C stops the timing (KeyboardInterrupt)
          py::gil_scoped_release release;
          mt = bench::time_model_bytes(view.data(), view.size(), source_name, g, o, sequence);
        }
        return model_result(mt);
      },
      py::arg("buffer"), py::arg("source_name"), py::arg("input_shapes"), py::arg("batch_size") = 1,
      py::arg("threads") = 1, py::arg("min_time") = 0.1, py::arg("cold_cache") = false, py::arg("sequence") = true,
      "Per-layer timing of a serialized ONNX model held in a bytes-like object (read in place).");

  m.def(
      "bench_plan_model_buffer",
      [](py::object buffer, const std::string& source_name, InputShapes shapes, int64_t batch_size) {
        graph::Options g = graph_options(std::move(shapes), batch_size);
        BufferView view(buffer, source_name);
        std::vector<bench::PlannedLayer> plan;
        {
          Interruptible interruptible;   // Ctrl-C stops the timing (KeyboardInterrupt)
          py::gil_scoped_release release;
          plan = bench::plan_model_bytes(view.data(), view.size(), source_name, g);
        }
        py::list rows;
        for (const bench::PlannedLayer& l : plan) {
          py::dict r;
          r["name"] = to_pystr(l.name);
          r["op_type"] = to_pystr(l.op_type);
          r["status"] = bench::status_name(l.status);
          r["shape"] = to_pystr(l.shape);
          r["note"] = to_pystr(l.note);
          r["node_index"] = l.node_index;
          r["config"] = l.status == bench::LayerStatus::measured ? l.spec.key() : std::string();
          rows.append(r);
        }
        return rows;
      },
      py::arg("buffer"), py::arg("source_name"), py::arg("input_shapes"), py::arg("batch_size") = 1,
      "The layer plan of a serialized ONNX model, without timing: one dict per node (name, op_type, status\n"
      "as bench_time_model_* would report it before timing, shape, note, node_index, config: the kernel\n"
      "configuration key of a measured row).");

#if NETSCORE_TEST_BINDINGS
  py::module_ tm = testing_module(m);
  tm.def(
      "bench_quantile", [](std::vector<double> samples, double q) { return bench::quantile(std::move(samples), q); },
      py::arg("samples"), py::arg("q"),
      "The harness's quantile (linear interpolation between order statistics); 0 for no samples.");
  tm.def("bench_cpu_model_from_cpuinfo", [](const std::string& cpuinfo, const std::string& device_tree_model) {
           return to_pystr(bench::cpu_model_from_cpuinfo(cpuinfo, device_tree_model));
         }, py::arg("proc_cpuinfo_text"),
         py::arg("device_tree_model") = "", "The CPU model a /proc/cpuinfo text names (x86 or ARM).");
#endif  // NETSCORE_TEST_BINDINGS
}

}  // namespace netscore::bindings
