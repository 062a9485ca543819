// Bindings for profiling one model: path or Python buffer in, compact C++ result out (GIL released).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings/common.h"
#include "bindings/pystr.h"
#include "graph/analysis.h"
#include "graph/op_registry.h"

namespace py = pybind11;

namespace netscore::bindings {
namespace {

// Shapes of a layer's inputs or outputs as one string: "1x64x112x112", several separated by ";", "?" for an
// unknown dim or an unknown rank, "scalar" for rank 0, "" for an omitted optional input.
std::string shapes_text(const std::vector<std::vector<int64_t>>& shapes, const std::vector<int8_t>& ranks) {
  std::string text;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (i) text += ';';
    const int8_t rank = i < ranks.size() ? ranks[i] : 0;
    if (rank > 0) text += graph::dims_text(shapes[i]);
    else if (rank == 0) text += '?';
  }
  return text;
}

// A column of int64 values packed into bytes (numpy reads it with frombuffer, no per-element objects).
template <typename Get>
py::bytes int64_column(const std::vector<graph::Layer>& layers, Get get) {
  std::string raw(layers.size() * sizeof(int64_t), '\0');
  for (size_t i = 0; i < layers.size(); ++i) {
    int64_t v = get(layers[i]);
    std::memcpy(&raw[i * sizeof(int64_t)], &v, sizeof v);
  }
  return py::bytes(raw);
}

template <typename Get>
py::list string_column(const std::vector<graph::Layer>& layers, Get get) {
  py::list out(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) out[i] = to_pystr(get(layers[i]));
  return out;
}

py::dict layer_columns(const graph::Profile& p) {
  const auto& L = p.layers;
  py::dict d;
  d["name"] = string_column(L, [](const graph::Layer& l) { return l.name; });
  d["op_type"] = string_column(L, [](const graph::Layer& l) {
    return l.domain.empty() || l.domain == "ai.onnx" ? l.op_type : l.domain + "::" + l.op_type;
  });
  d["name_scopes"] = string_column(L, [](const graph::Layer& l) { return l.name_scopes; });
  d["input_shape"] = string_column(L, [](const graph::Layer& l) { return shapes_text(l.input_shapes, l.input_ranks); });
  d["output_shape"] = string_column(L, [](const graph::Layer& l) { return shapes_text(l.output_shapes, l.output_ranks); });
  d["node_index"] = int64_column(L, [](const graph::Layer& l) { return static_cast<int64_t>(l.node_index); });
  d["params"] = int64_column(L, [](const graph::Layer& l) { return l.params; });
  d["weight_bytes"] = int64_column(L, [](const graph::Layer& l) { return l.weight_bytes; });
  d["macs"] = int64_column(L, [](const graph::Layer& l) { return l.macs; });
  d["flops"] = int64_column(L, [](const graph::Layer& l) { return l.flops; });
  d["activation_bytes"] = int64_column(L, [](const graph::Layer& l) { return l.activation_bytes; });
  d["supported"] = int64_column(L, [](const graph::Layer& l) { return static_cast<int64_t>(l.supported); });
  d["folded"] = int64_column(L, [](const graph::Layer& l) { return static_cast<int64_t>(l.folded); });
  return d;
}

// node name -> reason, in the walk's order.
py::dict bound_dict(const std::vector<graph::BoundNode>& nodes) {
  py::dict d;
  for (const graph::BoundNode& b : nodes) d[to_pystr(b.node)] = to_pystr(b.reason);
  return d;
}

std::vector<std::pair<std::vector<std::vector<int64_t>>, std::vector<std::vector<int64_t>>>> layer_shapes(
    const graph::Profile& p) {
  std::vector<std::pair<std::vector<std::vector<int64_t>>, std::vector<std::vector<int64_t>>>> out;
  out.reserve(p.layers.size());
  for (const graph::Layer& l : p.layers) out.emplace_back(l.input_shapes, l.output_shapes);
  return out;
}

}  // namespace

void bind_profile(py::module_& m) {
  py::class_<graph::Profile>(m, "ProfileResult",
                             "Totals and per-node costs of one model (compact C++ form; see netscore_fast.Profile)")
      .def_readonly("params", &graph::Profile::params)
      .def_readonly("bn_stat_params", &graph::Profile::bn_stat_params)
      .def_readonly("macs", &graph::Profile::macs)
      .def_readonly("flops", &graph::Profile::flops)
      .def_readonly("weight_bytes", &graph::Profile::weight_bytes)
      .def_readonly("activation_bytes", &graph::Profile::activation_bytes)
      .def_readonly("peak_activation_bytes", &graph::Profile::peak_activation_bytes)
      .def_property_readonly("unknown_cost_nodes", [](const graph::Profile& p) { return to_pystr_list(p.unknown_cost_nodes); })
      .def_property_readonly("upper_bound_nodes", [](const graph::Profile& p) { return bound_dict(p.upper_bound_nodes); })
      .def_property_readonly("lower_bound_nodes", [](const graph::Profile& p) { return bound_dict(p.lower_bound_nodes); })
      .def_readonly("num_layers", &graph::Profile::num_nodes)
      .def_property_readonly("has_layers", [](const graph::Profile& p) { return p.num_nodes == 0 || !p.layers.empty(); })
      .def(
          "unsupported_ops",
          [](const graph::Profile& p) {
            GcPaused paused;  // a model may list a million op types
            py::dict d;
            for (const graph::UnsupportedOp& u : p.unsupported_ops) d[to_pystr(u.op_type)] = to_pystr_list(u.node_names);
            return d;
          },
          "op type -> names of the nodes using it, for ops the registry does not know")
      .def(
          "open_inputs",
          [](const graph::Profile& p) {
            py::list out;
            for (const graph::OpenInput& o : p.open_inputs) {
              py::object dims = o.rank_known ? py::object(py::cast(o.dims)) : py::object(py::none());
              out.append(py::make_tuple(to_pystr(o.name), dims, to_pystr_list(o.symbols)));
            }
            return out;
          },
          "graph inputs left with an unknown dim: (name, dims with -1 unknown or None for an unknown rank, "
          "the model's symbol of each dim)")
      .def("layer_columns", &layer_columns,
           "per-node columns in execution order: names and shapes as lists of str, counts as packed int64 bytes")
      .def("layer_shapes", &layer_shapes, "per node: (input shapes, output shapes); -1 = unknown dim")
      .def(
          "live_bytes",
          [](const graph::Profile& p) {
            return py::bytes(reinterpret_cast<const char*>(p.live_bytes.data()), p.live_bytes.size() * sizeof(int64_t));
          },
          "per layer row, packed native int64: activation bytes alive while the node runs (max = the peak)");

  m.def(
      "profile_file",
      [](const std::string& path, InputShapes input_shapes, int64_t batch_size, bool layers, InputValues input_values,
         bool dedupe_weights) {
        graph::Options options =
            profile_options_from_python(std::move(input_shapes), batch_size, layers, std::move(input_values));
        options.dedupe_weights = dedupe_weights;
        Interruptible interruptible;   // Ctrl-C stops the analysis (KeyboardInterrupt)
        py::gil_scoped_release release;
        return graph::profile_file(path, options);
      },
      py::arg("path"), py::arg("input_shapes") = InputShapes{}, py::arg("batch_size") = 1, py::arg("layers") = true,
      py::arg("input_values") = InputValues{}, py::arg("dedupe_weights") = false,
      "Profile an ONNX file (memory-mapped; weights read only with dedupe_weights). layers=False skips per-node rows.\n"
      "Raises ModelError naming the path.");

  m.def(
      "profile_buffer",
      [](const py::object& buffer, const std::string& source_name, InputShapes input_shapes, int64_t batch_size,
         bool layers, InputValues input_values, bool dedupe_weights) {
        graph::Options options =
            profile_options_from_python(std::move(input_shapes), batch_size, layers, std::move(input_values));
        options.dedupe_weights = dedupe_weights;
        BufferView view(buffer, source_name);  // keeps the buffer alive and pinned while C++ reads it
        std::unique_ptr<graph::Profile> result;
        {
          Interruptible interruptible;
          py::gil_scoped_release release;
          result = std::make_unique<graph::Profile>(
              graph::profile_bytes(view.data(), view.size(), source_name, options));
        }
        return result;
      },
      py::arg("buffer"), py::arg("source_name") = "<bytes>", py::arg("input_shapes") = InputShapes{},
      py::arg("batch_size") = 1, py::arg("layers") = true, py::arg("input_values") = InputValues{},
      py::arg("dedupe_weights") = false,
      "Profile a serialized ModelProto held by any contiguous bytes-like object, without copying it.\n"
      "layers=False skips per-node rows.");

  m.def(
      "supported_ops", []() { return to_pystr_list(graph::default_registry().op_types()); },
      "Op types the analysis knows: \"Op\" for the default domain, \"domain::Op\" otherwise; sorted.");
}

}  // namespace netscore::bindings
