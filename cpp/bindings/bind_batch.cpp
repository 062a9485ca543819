// Bindings for the batch area: a list of paths/buffers in, columnar per-model totals out (GIL released).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/common.h"
#include "bindings/pystr.h"
#include "bulk/batch.h"

namespace py = pybind11;

namespace netscore::bindings {

std::vector<graph::BatchSource> collect_sources(const py::list& items, const std::vector<std::string>* names,
                                                HeldSources& held) {
  const size_t n = items.size();
  held.buffers.reserve(n);
  size_t num_parts = 0;
  for (size_t i = 0; i < n; ++i) {
    PyObject* item = PyList_GET_ITEM(items.ptr(), static_cast<Py_ssize_t>(i));
    if (PyTuple_Check(item)) num_parts += static_cast<size_t>(PyTuple_GET_SIZE(item));
  }
  std::vector<graph::BytesView>& parts = held.parts;
  parts.assign(num_parts, graph::BytesView{});   // sized once: views into it stay valid
  size_t next_part = 0;
  std::vector<graph::BatchSource> sources(n);
  for (size_t i = 0; i < n; ++i) {
    py::handle item = items[i];
    if (names != nullptr) sources[i].name = (*names)[i];
    if (PyBytes_Check(item.ptr())) {   // the common case, read in place without a buffer view
      sources[i].data = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(item.ptr()));
      sources[i].size = static_cast<size_t>(PyBytes_GET_SIZE(item.ptr()));
    } else if (PyUnicode_Check(item.ptr())) {
      sources[i].path = item.cast<std::string>();
    } else if (PyTuple_Check(item.ptr())) {   // ModelParts: bytes parts, kept alive by the caller's list
      const Py_ssize_t k = PyTuple_GET_SIZE(item.ptr());
      sources[i].parts = {parts.data() + next_part, parts.data() + next_part + k};
      for (Py_ssize_t j = 0; j < k; ++j) {
        PyObject* part = PyTuple_GET_ITEM(item.ptr(), j);
        if (!PyBytes_Check(part))
          throw py::type_error((names != nullptr ? (*names)[i] : "item #" + std::to_string(i)) +
                               ": model parts must be bytes, got " + std::string(Py_TYPE(part)->tp_name));
        parts[next_part++] = {reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(part)),
                              static_cast<size_t>(PyBytes_GET_SIZE(part))};
      }
    } else {
      const Py_buffer& view = held.buffers.hold(item, names != nullptr ? (*names)[i] : "item #" + std::to_string(i));
      sources[i].data = static_cast<const uint8_t*>(view.buf);
      sources[i].size = static_cast<size_t>(view.len);
    }
  }
  return sources;
}

py::tuple totals_result(const std::vector<graph::BatchTotals>& results) {
  const size_t n = results.size();
  std::optional<PendingInterrupt> interrupted;   // Ctrl-C: taken before any Python code runs
  for (const graph::BatchTotals& r : results)
    if (r.status == graph::BatchStatus::kCancelled) {
      interrupted.emplace();
      break;
    }
  py::array_t<int64_t> totals({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(graph::kBatchTotalsFields)});
  py::array_t<int32_t> status(static_cast<py::ssize_t>(n));
  auto t = totals.mutable_unchecked<2>();
  auto s = status.mutable_unchecked<1>();
  py::list errors(n);
  for (size_t i = 0; i < n; ++i) {
    const graph::BatchTotals& r = results[i];
    int k = 0;
    graph::for_each_total(r, [&](const char*, int64_t value) { t(i, k++) = value; });
    s(i) = static_cast<int32_t>(r.status);
    errors[i] = r.status == graph::BatchStatus::kOk ? py::str("") : to_pystr(r.error);
  }
  py::tuple result = py::make_tuple(totals, status, errors);
  if (interrupted) interrupted->raise(result);
  return result;
}

namespace {

py::tuple profile_batch(const py::list& items, const std::vector<std::string>& names, InputShapes input_shapes,
                        int64_t batch_size, int threads, InputValues input_values) {
  if (names.size() != items.size()) throw py::value_error("profile_batch: names and items differ in length");
  // totals only: profile_batch skips per-node rows itself
  const graph::Options options =
      profile_options_from_python(std::move(input_shapes), batch_size, true, std::move(input_values));

  HeldSources held;
  std::vector<graph::BatchSource> sources = collect_sources(items, &names, held);

  std::vector<graph::BatchTotals> results;
  {
    Interruptible interruptible;   // Ctrl-C: the finished rows come back on the KeyboardInterrupt
    py::gil_scoped_release release;
    results = graph::profile_batch(sources, options, threads);
  }

  return totals_result(results);
}

// features float64[n, parts x classes x fields] (NaN rows where status is not ok), as features_batch returns it.
py::array_t<double> features_array(const std::vector<graph::BatchFeatures>& rows) {
  constexpr int per_set = graph::kNumOpClasses * graph::kClassCostFields;
  const size_t n = rows.size();
  py::array_t<double> features({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(graph::kClassFeatureParts * per_set)});
  auto f = features.mutable_unchecked<2>();
  for (size_t i = 0; i < n; ++i) {
    const graph::BatchFeatures& r = rows[i];
    int k = 0;
    for (const auto* set : {&r.features.full, &r.features.live, &r.features.fused})
      for (const graph::ClassCosts& c : *set)
        for (double v : {c.macs, c.flops, c.bytes, c.layers})
          f(i, k++) = r.status == graph::BatchStatus::kOk ? v : std::numeric_limits<double>::quiet_NaN();
  }
  return features;
}

py::tuple features_batch(const py::list& items, const std::vector<std::string>& names, InputShapes input_shapes,
                         int64_t batch_size, int threads) {
  if (names.size() != items.size()) throw py::value_error("features_batch: names and items differ in length");
  const size_t n = items.size();
  const graph::Options options = profile_options_from_python(std::move(input_shapes), batch_size, true);
  HeldSources held;
  std::vector<graph::BatchSource> sources = collect_sources(items, &names, held);
  std::vector<graph::BatchFeatures> results;
  {
    py::gil_scoped_release release;
    results = graph::features_batch(sources, options, threads);
  }
  py::array_t<int32_t> status(static_cast<py::ssize_t>(n));
  auto s = status.mutable_unchecked<1>();
  py::list errors(n);
  for (size_t i = 0; i < n; ++i) {
    s(i) = static_cast<int32_t>(results[i].status);
    errors[i] = results[i].status == graph::BatchStatus::kOk ? py::str("") : to_pystr(results[i].error);
  }
  return py::make_tuple(features_array(results), status, errors);
}

// profile_batch and features_batch in one walk per model: (totals, status, errors, features).
py::tuple profile_features_batch(const py::list& items, const std::vector<std::string>& names,
                                 InputShapes input_shapes, int64_t batch_size, int threads) {
  if (names.size() != items.size()) throw py::value_error("profile_features_batch: names and items differ in length");
  const graph::Options options = profile_options_from_python(std::move(input_shapes), batch_size, false);
  HeldSources held;
  const std::vector<graph::BatchSource> sources = collect_sources(items, &names, held);
  std::vector<graph::BatchTotals> totals(sources.size());
  std::vector<graph::BatchFeatures> features(sources.size());
  {
    Interruptible interruptible;   // Ctrl-C: the finished rows come back on the KeyboardInterrupt
    py::gil_scoped_release release;
    const std::vector<graph::BatchOutcome> outcomes = graph::for_each_source_bytes(
        sources, threads, [&](size_t i, const uint8_t* data, size_t size, const std::string& name) {
          graph::Profile walked;
          features[i].features = graph::features_of_bytes(data, size, name, options, &walked);
          totals[i] = graph::totals_of(walked);
        });
    for (size_t i = 0; i < outcomes.size(); ++i)
      if (outcomes[i].status != graph::BatchStatus::kOk) {
        totals[i] = graph::BatchTotals{};
        totals[i].status = features[i].status = outcomes[i].status;
        totals[i].error = outcomes[i].error;
      }
  }
  py::tuple result = totals_result(totals);   // raises KeyboardInterrupt (.partial: this) after Ctrl-C
  return py::make_tuple(result[0], result[1], result[2], features_array(features));
}

// (ids, checks): the digest's first 8 bytes (big-endian canonical form) as a signed 64-bit int, id None
// where the digest failed, and its last 8 bytes as bytes.
// Built with the C API: on a cache hit this loop is a fair share of the cost of the whole lookup.
py::tuple digest_lists(const std::vector<graph::BatchDigest>& digests) {
  const auto n = static_cast<py::ssize_t>(digests.size());
  py::list ids(n), checks(n);
  for (py::ssize_t i = 0; i < n; ++i) {
    const graph::BatchDigest& d = digests[static_cast<size_t>(i)];
    uint64_t hi = 0;
    for (int k = 0; k < 8; ++k) hi = hi << 8 | d.bytes[k];
    PyObject* id = Py_None;
    if (d.ok)
      id = PyLong_FromLongLong(static_cast<long long>(hi));
    else
      Py_INCREF(id);
    PyObject* check = PyBytes_FromStringAndSize(reinterpret_cast<const char*>(d.bytes.data()) + 8, 8);
    if (id == nullptr || check == nullptr) {
      Py_XDECREF(id);
      Py_XDECREF(check);
      throw py::error_already_set();
    }
    PyList_SET_ITEM(ids.ptr(), i, id);   // py::list(n) is PyList_New(n): empty slots, each set once
    PyList_SET_ITEM(checks.ptr(), i, check);
  }
  return py::make_tuple(ids, checks);
}

py::tuple stat_digests(const std::vector<std::string>& paths, const py::bytes& salt) {
  const std::string salt_bytes = salt;
  std::vector<graph::BatchDigest> digests;
  {
    Interruptible interruptible;
    py::gil_scoped_release release;
    digests = graph::stat_digest_batch(paths, salt_bytes);
  }
  return digest_lists(digests);
}

py::tuple content_digests(const py::list& items, const py::bytes& salt, int threads) {
  HeldSources held;
  std::vector<graph::BatchSource> sources = collect_sources(items, nullptr, held);
  const std::string salt_bytes = salt;
  std::vector<graph::BatchDigest> digests;
  {
    Interruptible interruptible;
    py::gil_scoped_release release;
    digests = graph::digest_batch(sources, salt_bytes, threads);
  }
  return digest_lists(digests);
}

}  // namespace

void bind_batch(py::module_& m) {
  py::list names, dtypes;
  for (const bulk::TotalsColumn& column : bulk::kTotalsColumns) {
    names.append(column.name);
    dtypes.append("<i8");
  }
  m.attr("TOTALS_COLUMNS") = py::tuple(names);
  m.attr("TOTALS_DTYPES") = py::tuple(dtypes);
  m.def("profile_batch", &profile_batch, py::arg("items"), py::arg("names"), py::arg("input_shapes"),
        py::arg("batch_size") = 1, py::arg("threads") = 0, py::arg("input_values") = InputValues{},
        R"doc(Profile many models on a C++ thread pool with the GIL released; per-model totals only.

items: list of paths (str; memory-mapped by the workers), contiguous bytes-like objects (read in place;
    kept alive by the caller's list) or tuples of bytes (a model in parts, joined by the worker).
names: one per item, used in error messages.
input_shapes: [(name, dims)]; batch_size: value of a symbolic leading dim; threads: workers (0 = all cores).
input_values: [(name, values)]: known data of graph inputs (control-flow conditions).
Returns (totals int64[n, len(TOTALS_COLUMNS)] in TOTALS_COLUMNS order, status int32[n] (0 ok, 1 ModelError, 2 other error,
3 the file could not be opened or mapped), errors list[str] ("" when ok). One bad model never stops the
others.
Ctrl-C (or cancel()) stops the workers within a few nodes and raises KeyboardInterrupt whose .partial is
that same tuple, status 4 (cancelled) in every row that did not finish.)doc");
  py::list classes, fields;
  for (int c = 0; c < graph::kNumOpClasses; ++c) classes.append(graph::op_class_name(static_cast<graph::OpClass>(c)));
  for (const char* field : graph::kClassCostNames) fields.append(field);
  m.attr("OP_CLASSES") = py::tuple(classes);
  m.attr("CLASS_COST_FIELDS") = py::tuple(fields);
  py::list parts;
  for (const char* part : graph::kClassFeaturePartNames) parts.append(part);
  m.attr("CLASS_FEATURE_PARTS") = py::tuple(parts);
  m.def("features_batch", &features_batch, py::arg("items"), py::arg("names"), py::arg("input_shapes"),
        py::arg("batch_size") = 1, py::arg("threads") = 0,
        R"doc(Per-op-class features of many models (items and names as for profile_batch), GIL released.

Returns (features float64[n, len(CLASS_FEATURE_PARTS) * len(OP_CLASSES) * len(CLASS_COST_FIELDS)], status
int32[n], errors list[str]): per part in CLASS_FEATURE_PARTS order (the whole graph, its live part, the layers
left after a runtime's BatchNormalization and activation fusion), per class in OP_CLASSES order its
CLASS_COST_FIELDS (MACs, FLOPs, bytes moved, layers). NaN rows for models that failed.)doc");
  m.def("profile_features_batch", &profile_features_batch, py::arg("items"), py::arg("names"),
        py::arg("input_shapes"), py::arg("batch_size") = 1, py::arg("threads") = 0,
        R"doc(profile_batch and features_batch in one walk per model (no input_values): (totals, status, errors,
features), each as those return it. Ctrl-C: KeyboardInterrupt whose .partial is (totals, status, errors).)doc");
  m.def("content_digests", &content_digests, py::arg("items"), py::arg("salt"), py::arg("threads") = 1,
        R"doc(128-bit XXH3 digests of many paths' file contents, buffers or tuples of bytes parts, seeded
by salt; the GIL is released while hashing.

Returns (ids, checks): per item the digest's first 8 bytes (big-endian canonical form, the same on every
platform) as a signed 64-bit int, None for a file that cannot be read, and its last 8 bytes as bytes.
Non-cryptographic: for telling models apart in a result cache, not for authenticating them.)doc");
  m.def("stat_digests", &stat_digests, py::arg("paths"), py::arg("salt"),
        R"doc(XXH3-128 digests of each file's (absolute normalized path, size, mtime in ns), seeded by salt,
as (ids, checks) like content_digests; the id is None for a path that cannot be stat'ed. Reads no file
contents.)doc");
}

}  // namespace netscore::bindings
