// Per-op-class work of a model, of the whole graph and of its live part: the features device models
// (python/netscore_fast/device.py) are fitted on.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "graph/analysis.h"
#include "graph/name_map.h"

namespace netscore::graph {

// One op class's sums over the layers that run (folded layers do not): MACs, FLOPs, bytes moved (the
// layer's non-constant inputs and outputs plus its weights) and the number of layers. A count that is
// unknown for a layer adds 0 (the layer still counts).
struct ClassCosts {
  double macs = 0, flops = 0, bytes = 0, layers = 0;
};
constexpr int kClassCostFields = 4;                          // in the order above
inline constexpr const char* kClassCostNames[kClassCostFields] = {"macs", "flops", "bytes", "layers"};

struct ClassFeatures {
  std::array<ClassCosts, kNumOpClasses> full{};   // every layer that runs
  std::array<ClassCosts, kNumOpClasses> live{};   // the layers that can change the output (live_layers)
  std::array<ClassCosts, kNumOpClasses> fused{};  // the layers left once a runtime folds BatchNormalization
                                                  // and activations into the conv or GEMM before them
};
constexpr int kClassFeatureParts = 3;  // full, live, fused
inline constexpr const char* kClassFeaturePartNames[kClassFeatureParts] = {"full", "live", "fused"};

// Per layer of `profile`: true when it is live. A value is data-independent when it is a constant, the
// output of Shape / Size, a Sub or Xor of a tensor with itself (a zero: NAS-Bench-201 writes an all-`none`
// cell node so), a Mul by a known zero, or computed from data-independent values only; a layer is live
// when its node has a data-dependent input, a data-dependent output, and an output that a graph output
// needs through live nodes. Layers of an inlined function share their call node's answer.
std::vector<bool> live_layers(const onnx::Model& model, const Profile& profile);

// The features of an analysed model (`profile` analysed with want_layers).
ClassFeatures class_features(const onnx::Model& model, const Profile& profile);

// The features of a decoded model from one walk: collected during it (ClassFeatureBuilder) or, for models with
// subgraphs, from layer rows. `walked` (optional) receives the walk's profile, for its totals (the same as a
// walk without the features). The second form decodes `data` on this thread; its errors name `source_name`.
ClassFeatures features_of_model(const onnx::Model& model, const Options& options, Profile* walked = nullptr);
ClassFeatures features_of_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                                const Options& options, Profile* walked = nullptr);

// The same features collected during the walk itself, without layer rows (several times faster in bulk):
//   ClassFeatureBuilder b;  b.reset(model);  options.want_layers = false;  options.observer = &b;
//   analyze(model, options);  ClassFeatures f = b.finish();
// For models whose layers the observer does not see one by one (If / Loop / Scan subgraphs:
// needs_layer_rows), analyse with layer rows and call class_features instead. Reusable across models.
class ClassFeatureBuilder final : public LayerObserver {
 public:
  void reset(const onnx::Model& model);
  void on_layer(const Layer& layer) override;
  ClassFeatures finish();
  // Whether the walk's observer misses layers of `model` (it holds subgraphs).
  static bool needs_layer_rows(const onnx::Model& model);

 private:
  friend std::vector<bool> live_layers(const onnx::Model& model, const Profile& profile);
  struct Record {
    size_t node_index = 0;
    double macs = 0, flops = 0, bytes = 0;  // bytes: weights and outputs (inputs are added at finish)
    uint32_t inputs_begin = 0, inputs_end = 0;  // per-input bytes in input_bytes_ (0 when unknown)
    uint8_t op_class = 0;
    bool folded = false;
    bool own_node = false;                  // not a layer of an inlined function (nor of a subgraph)
  };
  // Live nodes (by top-level node index) and constant tensor ids, from the records.
  void analyse_graph(std::vector<char>& node_live);
  // Top-level nodes a runtime fuses into the conv / GEMM before them (fused_), after analyse_graph: a
  // BatchNormalization after a Conv, an activation after a Conv, Gemm or such a BatchNormalization, each the
  // sole reader of its input, which is no graph output (ONNX Runtime, TFLite and OpenVINO all do this).
  void find_fusions();

  // Facts about every tensor name of the top-level graph, by a dense id (one hash lookup per name). Kept per
  // builder: its vectors and table keep their capacity from one model to the next.
  struct Tensors {
    walk::NameMap ids;
    std::vector<char> dependent, zero, needed, constant;

    void reset(const onnx::Graph& g) {
      ids.reserve(2 * g.nodes.size() + g.initializers.size() + g.inputs.size() + 8);
      dependent.clear(), zero.clear(), needed.clear(), constant.clear();
    }
    uint32_t id(std::string_view name) {
      uint32_t i = ids.find(name);
      if (i != walk::kNone) return i;
      i = static_cast<uint32_t>(dependent.size());
      ids.insert(name, i);
      dependent.push_back(0), zero.push_back(0), needed.push_back(0), constant.push_back(0);
      return i;
    }
  };

  const onnx::Model* model_ = nullptr;
  int64_t opset_ = 0;
  std::vector<Record> records_;
  std::vector<double> input_bytes_;
  Tensors tensors_;
  std::vector<size_t> order_;                // top-level nodes in walk order
  std::vector<uint32_t> edges_, edge_begin_;  // per node of order_: its input then output tensor ids
  std::vector<char> out_dependent_, node_live_, fused_;
  std::vector<uint32_t> readers_;   // per tensor id: node inputs that read it
  std::vector<uint32_t> producer_;  // per tensor id: the producing node's index (kNone: none)
  std::vector<char> conv_result_, graph_output_;  // per tensor id
};

}  // namespace netscore::graph
