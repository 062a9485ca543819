// ModelProto bytes -> IR: walks the wire format once, keeps views into the buffer, skips weight payloads.
// This file: graphs, nodes, attributes, functions, the model; tensors and value types are in decode_tensor.cpp.
#include "onnx/decode.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "netscore/cancel.h"
#include "netscore/errors.h"
#include "onnx/decode_internal.h"
#include "onnx/onnx_fields.h"
#include "onnx/pb_reader.h"

namespace netscore::onnx {

namespace {

using namespace detail;

// ---------------------------------------------------------------------------------------------------------
// Graphs, nodes, attributes (mutually recursive through attribute subgraphs)

// append: a repeated graph field merges into the graph decoded so far (protobuf semantics).
void decode_graph(Reader r, Graph& g, bool append, int graph_depth, int depth);

void decode_attribute(Reader r, Attribute& a, int graph_depth, int depth) {
  check_depth(depth);
  int32_t declared = 0;
  enum : uint32_t {
    kSeenF = 1u << 0, kSeenI = 1u << 1, kSeenS = 1u << 2, kSeenT = 1u << 3, kSeenG = 1u << 4,
    kSeenFloats = 1u << 5, kSeenInts = 1u << 6, kSeenStrings = 1u << 7, kSeenTensors = 1u << 8,
    kSeenGraphs = 1u << 9, kSeenSparse = 1u << 10, kSeenSparses = 1u << 11, kSeenTp = 1u << 12,
    kSeenTps = 1u << 13,
  };
  uint32_t seen = 0;
  bool single_tensor = false, single_graph = false;
  Slots<Tensor> tensors(a.tensors);
  Slots<Graph> graphs(a.graphs);
  while (r.next()) {
    switch (r.field()) {
      case fl::kAttrName: a.name = r.get_string(); break;
      case fl::kAttrRefAttrName: a.ref_attr_name = r.get_string(); break;
      case fl::kAttrType: declared = r.get_int32(); break;
      case fl::kAttrF: a.f = r.get_float(); seen |= kSeenF; break;
      case fl::kAttrI: a.i = r.get_int64(); seen |= kSeenI; break;
      case fl::kAttrS: a.s = r.get_view(); seen |= kSeenS; break;
      case fl::kAttrFloats:
        r.for_each_fixed32([&](uint32_t u) { a.floats.push_back(static_cast<float>(bits_to_float(u))); });
        seen |= kSeenFloats;
        break;
      case fl::kAttrInts:
        r.append_varints(a.ints);
        seen |= kSeenInts;
        break;
      case fl::kAttrStrings: a.strings.push_back(r.get_view()); seen |= kSeenStrings; break;
      case fl::kAttrT:
      case fl::kAttrSparseTensor: {
        // `t` / `sparse_tensor` is tensors[0] wherever it appears in the bytes
        const bool sparse = r.field() == fl::kAttrSparseTensor;
        Reader m = r.get_message();
        // usually the only tensor: decode in place; otherwise put it first
        if (single_tensor) {
          reset(a.tensors[0]);
        } else {
          tensors.next();
          std::rotate(a.tensors.begin(), a.tensors.begin() + static_cast<std::ptrdiff_t>(tensors.used() - 1),
                      a.tensors.begin() + static_cast<std::ptrdiff_t>(tensors.used()));
        }
        single_tensor = true;
        try {
          decode_any_tensor(m, a.tensors[0], sparse);
        } catch (...) {
          rethrow_at(sparse ? "sparse_tensor" : "t");
        }
        seen |= sparse ? kSeenSparse : kSeenT;
        break;
      }
      case fl::kAttrTensors:
      case fl::kAttrSparseTensors: {
        const bool sparse = r.field() == fl::kAttrSparseTensors;
        Reader m = r.get_message();
        Tensor& t = tensors.next();
        try {
          decode_any_tensor(m, t, sparse);
        } catch (...) {
          rethrow_at(std::string(sparse ? "sparse_tensors[" : "tensors[") +
                     std::to_string(tensors.used() - 1 - single_tensor) + "]");
        }
        seen |= sparse ? kSeenSparses : kSeenTensors;
        break;
      }
      case fl::kAttrG: {
        Reader m = r.get_message();
        if (!single_graph) {
          graphs.next();
          std::rotate(a.graphs.begin(), a.graphs.begin() + static_cast<std::ptrdiff_t>(graphs.used() - 1),
                      a.graphs.begin() + static_cast<std::ptrdiff_t>(graphs.used()));
        }
        single_graph = true;
        try {
          decode_graph(m, a.graphs[0], false, graph_depth + 1, depth + 1);
        } catch (...) {
          rethrow_at("g");
        }
        seen |= kSeenG;
        break;
      }
      case fl::kAttrGraphs: {
        Reader m = r.get_message();
        Graph& g = graphs.next();
        try {
          decode_graph(m, g, false, graph_depth + 1, depth + 1);
        } catch (...) {
          rethrow_at("graphs[" + std::to_string(graphs.used() - 1 - single_graph) + "]");
        }
        seen |= kSeenGraphs;
        break;
      }
      case fl::kAttrTp: r.skip(); seen |= kSeenTp; break;
      case fl::kAttrTypeProtos: r.skip(); seen |= kSeenTps; break;
      default: r.skip(); break;
    }
  }
  tensors.finish();
  graphs.finish();
  if (declared != 0) {
    a.type = static_cast<AttrType>(declared);
    return;
  }
  // Old writers (IR version 1) left `type` unset: infer it from the one field present. Lists first, so
  // that a stray default scalar does not hide them.
  static constexpr std::pair<uint32_t, AttrType> kOrder[] = {
      {kSeenFloats, AttrType::kFloats}, {kSeenInts, AttrType::kInts}, {kSeenStrings, AttrType::kStrings},
      {kSeenTensors, AttrType::kTensors}, {kSeenGraphs, AttrType::kGraphs},
      {kSeenSparses, AttrType::kSparseTensors}, {kSeenTps, AttrType::kTypeProtos},
      {kSeenT, AttrType::kTensor}, {kSeenG, AttrType::kGraph}, {kSeenSparse, AttrType::kSparseTensor},
      {kSeenTp, AttrType::kTypeProto}, {kSeenS, AttrType::kString}, {kSeenI, AttrType::kInt},
      {kSeenF, AttrType::kFloat},
  };
  for (const auto& [bit, type] : kOrder) {
    if (seen & bit) {
      a.type = type;
      return;
    }
  }
}

void decode_node(Reader r, Node& n, int graph_depth, int depth) {
  Slots<Attribute> attributes(n.attributes);
  while (r.next()) {
    switch (r.field()) {
      case fl::kNodeInput: n.inputs.push_back(r.get_string()); break;
      case fl::kNodeOutput: n.outputs.push_back(r.get_string()); break;
      case fl::kNodeName: n.name = r.get_string(); break;
      case fl::kNodeOpType: n.op_type = r.get_string(); break;
      case fl::kNodeDomain: n.domain = r.get_string(); break;
      case fl::kNodeAttribute: {
        Reader m = r.get_message();
        Attribute& a = attributes.next();
        try {
          decode_attribute(m, a, graph_depth, depth + 1);
        } catch (...) {
          std::string where = "attribute[" + std::to_string(attributes.used() - 1) + "]";
          if (!a.name.empty()) where.append(" (").append(a.name).append(")");
          rethrow_at(where);
        }
        break;
      }
      case fl::kNodeMetadataProps: {
        Reader m = r.get_message();
        std::pair<std::string_view, std::string_view> entry;
        while (m.next()) {
          if (m.field() == fl::kEntryKey) entry.first = m.get_string();
          else if (m.field() == fl::kEntryValue) entry.second = m.get_string();
          else m.skip();
        }
        n.metadata.push_back(entry);
        break;
      }
      default: r.skip(); break;
    }
  }
  attributes.finish();
}

// For an error message: the node's op type and name, read as far as the (damaged) message allows.
void peek_node_identity(Reader r, Node& n) {
  try {
    while (r.next()) {
      if (r.field() == fl::kNodeOpType && r.wire_type() == pb::kLengthDelimited) n.op_type = r.get_string();
      else if (r.field() == fl::kNodeName && r.wire_type() == pb::kLengthDelimited) n.name = r.get_string();
      else r.skip();
    }
  } catch (const ModelError&) {
    // keep what was found before the damage
  }
}

std::string node_location(size_t index, const Node& n) {
  std::string s = "node[" + std::to_string(index) + "]";
  if (!n.op_type.empty() || !n.name.empty()) {
    s += " (";
    s.append(n.op_type.empty() ? std::string_view("?") : n.op_type);
    if (!n.name.empty()) s.append(" '").append(n.name).append("'");
    s += ')';
  }
  return s;
}

void decode_value_infos(Reader m, Slots<ValueInfo>& list, const char* kind) {
  ValueInfo& vi = list.next();
  try {
    decode_value_info(m, vi);
  } catch (...) {
    rethrow_at(describe(kind, list.used() - 1, vi.name));
  }
}

void decode_graph(Reader r, Graph& g, bool append, int graph_depth, int depth) {
  // graph_depth: 0 for the main graph, 1 for a subgraph in one of its nodes' attributes, ...
  if (graph_depth > kMaxGraphDepth)
    throw ModelError("subgraphs nested more than " + std::to_string(kMaxGraphDepth) + " deep");
  check_depth(depth);
  if (!append) reset(g);
  // No counting pre-pass: a reused graph already has room, and without one the first damage found (and so
  // the error reported) is the same for a fresh and a reused Model.
  Slots<Node> nodes(g.nodes, append ? g.nodes.size() : 0);
  Slots<Tensor> initializers(g.initializers, append ? g.initializers.size() : 0);
  Slots<ValueInfo> inputs(g.inputs, append ? g.inputs.size() : 0);
  Slots<ValueInfo> outputs(g.outputs, append ? g.outputs.size() : 0);
  Slots<ValueInfo> value_info(g.value_info, append ? g.value_info.size() : 0);
  while (r.next()) {
    switch (r.field()) {
      case fl::kGraphNode: {
        check_cancelled();   // Ctrl-C during a graph of millions of nodes
        Reader m = r.get_message();
        Node& n = nodes.next();
        try {
          decode_node(m, n, graph_depth, depth + 1);
        } catch (...) {
          if (n.op_type.empty() || n.name.empty()) peek_node_identity(m, n);
          rethrow_at(node_location(nodes.used() - 1, n));
        }
        break;
      }
      case fl::kGraphName: g.name = r.get_string(); break;
      case fl::kGraphInitializer:
      case fl::kGraphSparseInitializer: {
        const bool sparse = r.field() == fl::kGraphSparseInitializer;
        Reader m = r.get_message();
        Tensor& t = initializers.next();
        try {
          decode_any_tensor(m, t, sparse);
        } catch (...) {
          rethrow_at(describe(sparse ? "sparse_initializer" : "initializer", initializers.used() - 1, t.name));
        }
        break;
      }
      case fl::kGraphInput: decode_value_infos(r.get_message(), inputs, "input"); break;
      case fl::kGraphOutput: decode_value_infos(r.get_message(), outputs, "output"); break;
      case fl::kGraphValueInfo: decode_value_infos(r.get_message(), value_info, "value_info"); break;
      default: r.skip(); break;
    }
  }
  nodes.finish();
  initializers.finish();
  inputs.finish();
  outputs.finish();
  value_info.finish();
}

void decode_function(Reader r, Function& fn) {
  Slots<Node> nodes(fn.nodes);
  while (r.next()) {
    switch (r.field()) {
      case fl::kFunctionName: fn.name = r.get_string(); break;
      case fl::kFunctionDomain: fn.domain = r.get_string(); break;
      case fl::kFunctionInput: fn.inputs.push_back(r.get_string()); break;
      case fl::kFunctionOutput: fn.outputs.push_back(r.get_string()); break;
      case fl::kFunctionAttribute: fn.attributes.push_back(r.get_string()); break;
      case fl::kFunctionAttributeProto: {  // an attribute with a default value: only its name is kept
        Reader m = r.get_message();
        Attribute a;
        try {
          decode_attribute(m, a, 0, 3);
        } catch (...) {
          rethrow_at("attribute_proto[" + std::to_string(fn.attributes.size()) + "]");
        }
        fn.attributes.push_back(a.name);
        break;
      }
      case fl::kFunctionNode: {
        Reader m = r.get_message();
        Node& n = nodes.next();
        try {
          decode_node(m, n, 0, 2);
        } catch (...) {
          if (n.op_type.empty() || n.name.empty()) peek_node_identity(m, n);
          rethrow_at(node_location(nodes.used() - 1, n));
        }
        break;
      }
      case fl::kFunctionOpsetImport: {
        Reader m = r.get_message();
        try {
          fn.opsets.push_back(decode_opset(m));
        } catch (...) {
          rethrow_at("opset_import[" + std::to_string(fn.opsets.size()) + "]");
        }
        break;
      }
      default: r.skip(); break;
    }
  }
  nodes.finish();
}

// A wire type that ModelProto cannot have at this field means the bytes are some other message.
void expect_model_field(const Reader& r, uint32_t wire, const char* field_name) {
  if (r.wire_type() != wire)
    throw ModelError("not an ONNX model: field " + std::to_string(r.field()) + " (ModelProto." + field_name +
                     ") has wire type " + std::to_string(r.wire_type()) + " (" + pb::wire_type_name(r.wire_type()) +
                     "), expected " + pb::wire_type_name(wire) + " at byte " + std::to_string(r.tag_offset()));
}

void decode_model_fields(const uint8_t* data, size_t size, Model& model) {
  model.ir_version = 0;
  model.opsets.clear();
  model.producer_name = {};
  model.producer_version = {};
  Slots<Function> functions(model.functions);
  Reader r(data, size);
  bool has_graph = false;
  while (r.next()) {
    switch (r.field()) {
      case fl::kModelIrVersion:
        expect_model_field(r, pb::kVarint, "ir_version");
        model.ir_version = r.get_int64();
        break;
      case fl::kModelProducerName:
        expect_model_field(r, pb::kLengthDelimited, "producer_name");
        model.producer_name = r.get_string();
        break;
      case fl::kModelProducerVersion:
        expect_model_field(r, pb::kLengthDelimited, "producer_version");
        model.producer_version = r.get_string();
        break;
      case fl::kModelOpsetImport: {
        expect_model_field(r, pb::kLengthDelimited, "opset_import");
        Reader m = r.get_message();
        try {
          model.opsets.push_back(decode_opset(m));
        } catch (...) {
          rethrow_at("opset_import[" + std::to_string(model.opsets.size()) + "]");
        }
        break;
      }
      case fl::kModelGraph: {
        expect_model_field(r, pb::kLengthDelimited, "graph");
        Reader m = r.get_message();
        try {
          decode_graph(m, model.graph, has_graph, 0, 1);
        } catch (...) {
          rethrow_at("graph");
        }
        has_graph = true;
        break;
      }
      case fl::kModelFunctions: {
        check_cancelled();
        expect_model_field(r, pb::kLengthDelimited, "functions");
        Reader m = r.get_message();
        Function& fn = functions.next();
        try {
          decode_function(m, fn);
        } catch (...) {
          rethrow_at(describe("functions", functions.used() - 1, fn.name));
        }
        break;
      }
      case fl::kModelDomain:
      case fl::kModelDocString:
        expect_model_field(r, pb::kLengthDelimited, r.field() == fl::kModelDomain ? "domain" : "doc_string");
        r.skip();
        break;
      case fl::kModelModelVersion:
        expect_model_field(r, pb::kVarint, "model_version");
        r.skip();
        break;
      default: r.skip(); break;
    }
  }
  functions.finish();
  if (!has_graph) throw ModelError("not an ONNX model: no graph");
}

}  // namespace

Model decode_model(const uint8_t* data, size_t size) {
  Model model;
  decode_model_into(data, size, model);
  return model;
}

void decode_model_into(const uint8_t* data, size_t size, Model& model) {
  if (size == 0 || data == nullptr) throw ModelError("empty buffer");
  try {
    decode_model_fields(data, size, model);
  } catch (const LocatedError& e) {
    // Deeply nested subgraphs give locations thousands of characters long: keep both ends.
    constexpr size_t kHead = 240, kTail = 240;
    if (e.path.size() <= kHead + kTail + 16) throw;
    throw ModelError(e.path.substr(0, kHead) + " ... " + e.path.substr(e.path.size() - kTail) + ": " + e.problem);
  }
}

namespace {

struct Workspace {
  Model model;
  bool busy = false;
};

Workspace& thread_workspace() {
  thread_local Workspace w;
  return w;
}

// Above this many elements in the main graph's lists, the workspace frees its memory after use instead of
// keeping it for the thread's next model.
constexpr size_t kMaxKeptElements = size_t{1} << 16;

void release(Workspace& w) {
  const Graph& g = w.model.graph;
  const size_t kept = g.nodes.size() + g.initializers.size() + g.inputs.size() + g.outputs.size() +
                      g.value_info.size() + w.model.functions.size();
  if (kept > kMaxKeptElements) w.model = Model();
  w.busy = false;
}

}  // namespace

ThreadModel::ThreadModel(const uint8_t* data, size_t size) {
  Workspace& w = thread_workspace();
  if (w.busy) {  // nested use on this thread: the outer Model stays intact
    own_ = std::make_unique<Model>();
    decode_model_into(data, size, *own_);
    model_ = own_.get();
    return;
  }
  w.busy = true;
  try {
    decode_model_into(data, size, w.model);
  } catch (...) {
    release(w);
    throw;
  }
  model_ = &w.model;
}

ThreadModel::~ThreadModel() {
  if (!own_) release(thread_workspace());
}

}  // namespace netscore::onnx
