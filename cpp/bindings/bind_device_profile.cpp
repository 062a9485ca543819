// Bindings for device profiles: the distinct layer configurations of many models, timing one configuration,
// and the zero-shot prediction of many models from a profile's table (GIL released, models on threads).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/common.h"
#include "bindings/pystr.h"
#include "measure/cpu_info.h"
#include "measure/device_profile.h"
#include "measure/op_timing.h"
#include "netscore/cancel.h"
#include "netscore/errors.h"

namespace py = pybind11;

namespace netscore::bindings {
namespace {

constexpr int32_t kOk = int32_t(graph::BatchStatus::kOk), kCancelled = int32_t(graph::BatchStatus::kCancelled);

// fn(i, configs) for the layer configurations of every source, on `threads` workers, through the bulk layer's
// source runner (bytes joined or mapped, a failed model never stops the others); per source a status and an
// error message.
template <typename Fn>
void for_each_model(const std::vector<graph::BatchSource>& sources, const graph::Options& options, int threads,
                    std::vector<int32_t>& status, std::vector<std::string>& errors, Fn fn) {
  const std::vector<graph::BatchOutcome> outcomes = graph::for_each_source_bytes(
      sources, threads, [&](size_t i, const uint8_t* data, size_t size, const std::string& name) {
        fn(i, bench::layer_configs_of_bytes(data, size, name, options));
      });
  status.resize(outcomes.size());
  errors.resize(outcomes.size());
  for (size_t i = 0; i < outcomes.size(); ++i) {
    status[i] = int32_t(outcomes[i].status);
    errors[i] = outcomes[i].error;
  }
}

py::tuple status_and_errors(const std::vector<int32_t>& status, const std::vector<std::string>& errors) {
  py::array_t<int32_t> st(py::ssize_t(status.size()));
  std::memcpy(st.mutable_data(), status.data(), status.size() * sizeof(int32_t));
  py::list err(errors.size());
  for (size_t i = 0; i < errors.size(); ++i) err[i] = to_pystr(errors[i]);
  return py::make_tuple(st, err);
}

void raise_if_cancelled(const std::vector<int32_t>& status) {
  for (int32_t s : status)
    if (s == kCancelled) throw Cancelled();
}

py::tuple configs_batch(const py::list& items, const std::vector<std::string>& names, InputShapes input_shapes,
                        int64_t batch_size, int threads) {
  const graph::Options options = profile_options_from_python(std::move(input_shapes), batch_size, true);
  if (names.size() != items.size()) throw py::value_error("names and items differ in length");
  HeldSources held;
  const std::vector<graph::BatchSource> sources = collect_sources(items, &names, held);
  std::vector<int32_t> status;
  std::vector<std::string> errors;
  std::map<std::string, int64_t> counts;  // key -> layers using it, over all models
  {
    Interruptible interruptible;
    py::gil_scoped_release release;
    std::mutex lock;
    for_each_model(sources, options, threads, status, errors, [&](size_t, const std::vector<bench::LayerConfig>& cs) {
      std::map<std::string, int64_t> mine;
      for (const bench::LayerConfig& c : cs)
        if (c.kind == bench::LayerConfig::Kind::kernel) ++mine[c.key];
      std::lock_guard<std::mutex> guard(lock);
      for (auto& [key, n] : mine) counts[key] += n;
    });
  }
  raise_if_cancelled(status);
  py::dict out;
  for (const auto& [key, n] : counts) out[py::str(key)] = n;
  py::tuple se = status_and_errors(status, errors);
  return py::make_tuple(out, se[0], se[1]);
}

py::dict config_info(const std::string& key) {
  bench::OpSpec spec;
  try {
    spec = bench::spec_from_key(key);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  const bench::SpecWork w = bench::spec_work(spec);
  py::dict d;
  d["class"] = bench::curve_class_name(bench::curve_class(spec));
  d["flops"] = w.flops;
  d["bytes"] = w.bytes;
  return d;
}

py::dict time_config(const std::string& key, int threads, double min_time) {
  bench::OpSpec spec;
  try {
    spec = bench::spec_from_key(key);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  bench::TimingOptions options;
  options.min_time = min_time;
  options.warmup_time = std::min(0.01, min_time);
  options.threads = threads;
  bench::OpTiming t;
  {
    Interruptible interruptible;
    py::gil_scoped_release release;
    std::unique_ptr<kernels::ThreadPool> pool;
    if (threads > 1) pool = std::make_unique<kernels::ThreadPool>(threads);
    t = bench::time_op(spec, options, pool.get());
  }
  py::dict d = config_info(key);
  d["seconds"] = t.timing.median_s;
  d["iqr_s"] = t.timing.iqr_s;
  d["samples"] = t.timing.samples;
  d["kernel"] = to_pystr(t.kernel);
  d["isa"] = to_pystr(t.timing.context.isa);
  return d;
}

py::list keys_of(const std::vector<bench::OpSpec>& specs) {
  py::list out;
  for (const bench::OpSpec& s : specs) out.append(py::str(s.key()));
  return out;
}

bench::CurveClass class_from_name(const std::string& name) {
  bench::CurveClass c;
  if (!bench::parse_curve_class(name, &c)) throw py::value_error("unknown curve class '" + name + "'");
  return c;
}

// The table built from a profile's JSON (python/netscore_fast/device_profile.py): exact configurations
// and curve points as keys with seconds, and the fixed costs.
std::unique_ptr<bench::DeviceTable> make_table(const std::vector<std::string>& exact_keys,
                                               const std::vector<double>& exact_s,
                                               const std::vector<std::string>& curve_keys,
                                               const std::vector<double>& curve_s, double per_layer_s,
                                               double per_inference_s) {
  if (exact_keys.size() != exact_s.size() || curve_keys.size() != curve_s.size())
    throw py::value_error("keys and seconds differ in length");
  auto table = std::make_unique<bench::DeviceTable>();
  try {
    for (size_t i = 0; i < exact_keys.size(); ++i) table->add(exact_keys[i], exact_s[i], true);
    for (size_t i = 0; i < curve_keys.size(); ++i) table->add(curve_keys[i], curve_s[i], false);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  table->set_fixed_costs(per_layer_s, per_inference_s);
  table->finish();
  return table;
}

// (seconds float64[n], per_class float64[n, classes + 1], counts int64[n, 3]) of predict_batch.
py::tuple prediction_arrays(const std::vector<bench::DeviceTable::Prediction>& predictions,
                            const std::vector<int32_t>& status) {
  const size_t n = predictions.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  py::array_t<double> seconds(py::ssize_t(n) + 0);
  py::array_t<double> per_class({py::ssize_t(n), py::ssize_t(bench::kNumCurveClasses + 1)});
  py::array_t<int64_t> counts({py::ssize_t(n), py::ssize_t(3)});
  auto s = seconds.mutable_unchecked<1>();
  auto pc = per_class.mutable_unchecked<2>();
  auto ct = counts.mutable_unchecked<2>();
  for (size_t i = 0; i < n; ++i) {
    const bench::DeviceTable::Prediction& p = predictions[i];
    const bool ok = status[i] == kOk;
    s(i) = ok ? p.seconds : nan;
    for (int c = 0; c < bench::kNumCurveClasses; ++c) pc(i, c) = ok ? p.per_class[size_t(c)] : nan;
    pc(i, bench::kNumCurveClasses) = ok ? p.fixed_s : nan;
    ct(i, 0) = p.exact, ct(i, 1) = p.interpolated, ct(i, 2) = p.unknown;
  }
  return py::make_tuple(seconds, per_class, counts);
}

// Every source walked once and priced from `table` (graph::for_each_source_bytes: bytes joined or mapped, a
// failed model never stops the others); with `totals`, each walk's totals too (profile_batch's rows).
void predict_sources(const bench::DeviceTable& table, const std::vector<graph::BatchSource>& sources,
                     const graph::Options& options, int threads, bool layer_rows,
                     std::vector<bench::DeviceTable::Prediction>& predictions, std::vector<int32_t>& status,
                     std::vector<std::string>& errors, std::vector<graph::BatchTotals>* totals) {
  predictions.assign(sources.size(), bench::DeviceTable::Prediction{});
  if (totals) totals->assign(sources.size(), graph::BatchTotals{});
  const std::vector<graph::BatchOutcome> outcomes = graph::for_each_source_bytes(
      sources, threads, [&](size_t i, const uint8_t* data, size_t size, const std::string& name) {
        graph::Profile walked;
        predictions[i] = bench::predict_bytes(table, data, size, name, options, totals ? &walked : nullptr, layer_rows);
        if (totals) (*totals)[i] = graph::totals_of(walked);
      });
  status.resize(outcomes.size());
  errors.resize(outcomes.size());
  for (size_t i = 0; i < outcomes.size(); ++i) {
    status[i] = int32_t(outcomes[i].status);
    errors[i] = outcomes[i].error;
    if (totals && status[i] != kOk) {
      (*totals)[i] = graph::BatchTotals{};
      (*totals)[i].status = outcomes[i].status;
      (*totals)[i].error = outcomes[i].error;
    }
  }
}

py::tuple predict_batch(const bench::DeviceTable& table, const py::list& items, const std::vector<std::string>& names,
                        InputShapes input_shapes, int64_t batch_size, int threads, bool layer_rows) {
  const graph::Options options = profile_options_from_python(std::move(input_shapes), batch_size, true);
  if (names.size() != items.size()) throw py::value_error("names and items differ in length");
  HeldSources held;
  const std::vector<graph::BatchSource> sources = collect_sources(items, &names, held);
  std::vector<bench::DeviceTable::Prediction> predictions;
  std::vector<int32_t> status;
  std::vector<std::string> errors;
  {
    Interruptible interruptible;
    py::gil_scoped_release release;
    predict_sources(table, sources, options, threads, layer_rows, predictions, status, errors, nullptr);
  }
  raise_if_cancelled(status);
  py::tuple arrays = prediction_arrays(predictions, status);
  py::tuple se = status_and_errors(status, errors);
  return py::make_tuple(arrays[0], arrays[1], arrays[2], se[0], se[1]);
}

// profile_batch and predict_batch in one walk per model: (totals, status, errors, (seconds, per_class, counts)).
py::tuple profile_predict_batch(const bench::DeviceTable& table, const py::list& items,
                                const std::vector<std::string>& names, InputShapes input_shapes, int64_t batch_size,
                                int threads) {
  const graph::Options options = profile_options_from_python(std::move(input_shapes), batch_size, false);
  if (names.size() != items.size()) throw py::value_error("names and items differ in length");
  HeldSources held;
  const std::vector<graph::BatchSource> sources = collect_sources(items, &names, held);
  std::vector<bench::DeviceTable::Prediction> predictions;
  std::vector<int32_t> status;
  std::vector<std::string> errors;
  std::vector<graph::BatchTotals> totals;
  {
    Interruptible interruptible;   // Ctrl-C: the finished rows come back on the KeyboardInterrupt
    py::gil_scoped_release release;
    predict_sources(table, sources, options, threads, false, predictions, status, errors, &totals);
  }
  py::tuple result = totals_result(totals);   // raises KeyboardInterrupt (.partial: this) after Ctrl-C
  return py::make_tuple(result[0], result[1], result[2], prediction_arrays(predictions, status));
}

}  // namespace

void bind_device_profile(py::module_& m) {
  py::list classes;
  for (int c = 0; c < bench::kNumCurveClasses; ++c) classes.append(bench::curve_class_name(bench::CurveClass(c)));
  m.attr("DEVICE_CURVE_CLASSES") = py::tuple(classes);
  m.def("device_configs_batch", &configs_batch, py::arg("items"), py::arg("names"), py::arg("input_shapes"),
        py::arg("batch_size") = 1, py::arg("threads") = 0,
        R"doc(The distinct layer configurations of many models (items: bytes, buffers, paths or tuples of
bytes parts), as bench.measure would time them: (dict key -> number of layers using it, status int32[n],
errors list[str]). GIL released, models on `threads` workers (0: all cores).)doc");
  m.def("device_config_info", &config_info, py::arg("key"),
        "A configuration key's curve class, FLOPs and bytes (no kernel built); ValueError for a bad key.");
  m.def("device_time_config", &time_config, py::arg("key"), py::arg("threads") = 1, py::arg("min_time") = 0.05,
        R"doc(Time one layer configuration (a key) with our kernels and random data: dict with seconds
(median per call), iqr_s, samples, kernel, isa, class, flops, bytes. GIL released.)doc");
  m.def("device_curve_keys", []() { return py::make_tuple(keys_of(bench::curve_sweep()), keys_of(bench::trivial_layers())); },
        "(curve sweep keys, trivial layer keys): what a device profile times besides the models' layers.");
  py::class_<bench::DeviceTable>(m, "DeviceTable",
                                 "A device profile's lookup: configuration key -> seconds, curves, fixed costs.")
      .def(py::init(&make_table), py::arg("exact_keys"), py::arg("exact_seconds"), py::arg("curve_keys"),
           py::arg("curve_seconds"), py::arg("per_layer_s"), py::arg("per_inference_s"))
      .def("__len__", &bench::DeviceTable::size)
      .def("curve_seconds",
           [](const bench::DeviceTable& t, const std::string& cls, double work) {
             return t.curve_seconds(class_from_name(cls), work);
           },
           py::arg("cls"), py::arg("work"), "Seconds of a class's curve at `work` (FLOPs or bytes); NaN without one.")
      .def("predict_batch", &predict_batch, py::arg("items"), py::arg("names"), py::arg("input_shapes"),
           py::arg("batch_size") = 1, py::arg("threads") = 0, py::arg("layer_rows") = false,
           R"doc((seconds float64[n], per_class float64[n, len(DEVICE_CURVE_CLASSES) + 1] (the last column:
fixed costs), counts int64[n, 3] (exact, interpolated, unknown layers), status int32[n], errors): the
zero-shot time per inference of each model; NaN where it cannot be analysed. Layers are priced during the
walk; layer_rows=True prices them from per-layer rows instead (the reference path, the same numbers).)doc")
      .def("profile_predict_batch", &profile_predict_batch, py::arg("items"), py::arg("names"),
           py::arg("input_shapes"), py::arg("batch_size") = 1, py::arg("threads") = 0,
           R"doc(profile_batch and predict_batch in one walk per model (no input_values): (totals, status, errors,
(seconds, per_class, counts)). Ctrl-C: KeyboardInterrupt whose .partial is (totals, status, errors).)doc");
}

}  // namespace netscore::bindings
