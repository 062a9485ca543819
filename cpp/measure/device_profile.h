// Device profile: per-layer times of our kernels on one machine (distinct layer configurations timed
// exactly, throughput curves per op class for the rest, fixed costs per layer and per inference), and the
// zero-shot latency of a model predicted from it. The JSON form is read and written in Python
// (python/netscore_fast/device_profile.py, docs/device-profile.md); this is the lookup it is built into.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "graph/analysis.h"
#include "measure/layer_plan.h"
#include "measure/op_timing.h"

namespace netscore::bench {

// What a layer's time is interpolated over when its configuration was not measured: the kernel family,
// with convolutions split as the graph layer's op classes split them. `movement` is a layer that runs but
// has no kernel (Concat, Sub, Transpose, ...): timed as memory traffic at the speed of a unary pass.
enum class CurveClass : uint8_t {
  conv_dense, conv_depthwise, conv_pointwise, conv_grouped, gemm, qconv, qgemm, maxpool, avgpool,
  globalavgpool, binary, unary, movement
};
constexpr int kNumCurveClasses = 13;
const char* curve_class_name(CurveClass c);         // "conv_dense", ... as in the enum
bool parse_curve_class(std::string_view name, CurveClass* out);
bool curve_by_flops(CurveClass c);                   // convolutions and GEMMs: by FLOPs; the rest: by bytes

// FLOPs and bytes (inputs + weights + outputs, float32 or int8) of a configuration, from its shape alone
// (no kernel is built): the axes the curves interpolate over.
struct SpecWork {
  double flops = 0, bytes = 0;
};
SpecWork spec_work(const OpSpec& spec);
CurveClass curve_class(const OpSpec& spec);

// The inverse of OpSpec::key(): key(spec_from_key(k)) == k. Throws std::invalid_argument naming the key.
OpSpec spec_from_key(std::string_view key);

// The configurations the curves are measured at: per class, sizes from a few kilobytes (fixed cost and
// cache-resident) to tens of megabytes (memory-bound) and, for convolutions and GEMMs, from a few MFLOPs
// to GFLOPs (compute-bound), at shapes of CIFAR and ImageNet networks.
std::vector<OpSpec> curve_sweep();
// Layers that do (almost) nothing: their time is the fixed cost of a layer (a call and its dispatch).
std::vector<OpSpec> trivial_layers();

// One analysed node as the profile prices it.
struct LayerConfig {
  enum class Kind : uint8_t {
    kernel,     // measured by bench.measure's plan: `key` is its configuration
    movement,   // runs without a kernel: `bytes` of memory traffic (class movement)
    free,       // fused, folded, a view or a constant: no time
    unknown,    // runs, but its size is unknown: counted as one fixed per-layer cost
  };
  Kind kind = Kind::free;
  std::string key;                  // kernel only
  CurveClass cls = CurveClass::movement;
  double flops = 0, bytes = 0;
};

// Per analysed node, in order (the same plan as bench.measure; the nodes it leaves unmeasured become
// movement or unknown).
std::vector<LayerConfig> layer_configs(const std::vector<graph::AnalysedNode>& nodes);
// The configuration of one planned layer (`layer`: its analysed row), as layer_configs makes it.
void layer_config(const PlannedLayer& planned, const graph::Layer& layer, LayerConfig* out);

// The lookup: configuration key -> seconds, curves per class, fixed costs. Built once, then read by any
// number of threads.
class DeviceTable {
 public:
  // A timed configuration: an exact entry when `exact`, and a point of its class's curve either way.
  // Throws std::invalid_argument for a key spec_from_key rejects.
  void add(const std::string& key, double seconds, bool exact);
  void set_fixed_costs(double per_layer_s, double per_inference_s);
  void finish();  // builds the curves (monotone in work); call after the last add()

  // Seconds of one layer, NaN when its class has no curve (nor a sibling's).
  double layer_seconds(const LayerConfig& layer, bool* exact) const;
  // Seconds of one class's curve at `work` (FLOPs or bytes, curve_by_flops), NaN without a curve.
  double curve_seconds(CurveClass c, double work) const;

  struct Prediction {
    double seconds = 0;                                  // per inference
    std::array<double, kNumCurveClasses> per_class{};    // seconds of the layers of each class
    double fixed_s = 0;                                  // per-inference cost plus unknown layers' fixed cost
    int64_t exact = 0, interpolated = 0, unknown = 0;    // layer counts
  };
  Prediction predict(const std::vector<LayerConfig>& layers) const;
  // predict() one layer at a time, in the same order (the same sums to the last bit):
  //   Prediction p = new_prediction();  for each layer: add_layer(p, layer);  close_prediction(p);
  Prediction new_prediction() const;
  void add_layer(Prediction& p, const LayerConfig& layer) const;
  static void close_prediction(Prediction& p);

  size_t size() const { return exact_.size(); }
  double per_layer_s() const { return per_layer_s_; }
  double per_inference_s() const { return per_inference_s_; }

 private:
  struct Curve {
    std::vector<double> log_work, log_s;  // ascending work, non-decreasing time after finish()
  };
  const Curve* curve_for(CurveClass c) const;
  std::unordered_map<std::string, double> exact_;
  std::array<std::vector<std::pair<double, double>>, kNumCurveClasses> points_;  // (work, seconds)
  std::array<Curve, kNumCurveClasses> curves_;
  double per_layer_s_ = 0, per_inference_s_ = 0;
};

// Decode + analyse + layer_configs of a serialized model (errors prefixed with `source_name`).
std::vector<LayerConfig> layer_configs_of_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                                                const graph::Options& options);

// Prices a model's layers during its walk (Options::observer, want_layers false) instead of from layer rows:
// the walk's layers are kept in a list reused from one model to the next (no names, no allocation once
// warm), then planned and looked up exactly as layer_configs + DeviceTable::predict do (the same sums to the
// last bit).  LayerPricer p;  p.reset(model);  options.observer = &p;  analyze(model, options);
// p.finish(table).  Models with If / Loop / Scan subgraphs need layer rows
// (graph::ClassFeatureBuilder::needs_layer_rows): predict_model handles both.
class LayerPricer final : public graph::LayerObserver {
 public:
  void reset(const onnx::Model& model);
  void on_layer(const graph::Layer& layer) override;
  DeviceTable::Prediction finish(const DeviceTable& table);
  // Releases the rows kept for reuse when they are a large model's (more than 2^16 layers), as the walker
  // trims its own per-thread workspace: a thread is not left holding a huge model's rows.
  void trim();

 private:
  const onnx::Model* model_ = nullptr;
  graph::Profile rows_;   // the walk's layers (rows_.layers[0, count_)), their vectors' capacity kept
  size_t count_ = 0;
  LayerConfig config_;
};

// The prediction of one decoded model, walked once; `walked` (optional) receives the walk's profile (its
// totals; layer rows only for models with subgraphs). `layer_rows`: price from layer rows even without
// subgraphs (the reference path, layer_configs + predict, for tests).
DeviceTable::Prediction predict_model(const DeviceTable& table, const onnx::Model& model,
                                      const graph::Options& options, graph::Profile* walked = nullptr,
                                      bool layer_rows = false);
// The same for a serialized model (decoded on this thread; errors prefixed with `source_name`).
DeviceTable::Prediction predict_bytes(const DeviceTable& table, const uint8_t* data, size_t size,
                                      const std::string& source_name, const graph::Options& options,
                                      graph::Profile* walked = nullptr, bool layer_rows = false);

}  // namespace netscore::bench
