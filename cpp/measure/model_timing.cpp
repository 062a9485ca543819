// Per-layer model timing: time each distinct kernel configuration of the layer plan once, and list every
// node with how its time was obtained; optionally run all measured layers back to back.
#include "measure/model_timing.h"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include "measure/cpu_info.h"
#include "measure/op_timing.h"
#include "netscore/cancel.h"
#include "netscore/errors.h"
#include "onnx/decode.h"
#include "onnx/loader.h"

namespace netscore::bench {

ModelTiming time_model(const onnx::Model& model, const graph::Profile& profile, const TimingOptions& options,
                       bool sequence) {
  const std::vector<graph::AnalysedNode> nodes = graph::analysed_nodes(model, profile);
  std::vector<PlannedLayer> plan = plan_layers(nodes);

  ModelTiming result;
  result.layers.resize(plan.size());
  std::unique_ptr<kernels::ThreadPool> pool;
  if (options.threads > 1) pool = std::make_unique<kernels::ThreadPool>(options.threads);
  std::map<std::string, std::pair<int64_t, OpTiming>> cache;  // spec key -> (config id, timing)
  std::vector<OpSpec> measured_specs;                          // model order, for the back-to-back run

  for (size_t li = 0; li < plan.size(); ++li) {
    PlannedLayer& p = plan[li];
    LayerTiming& row = result.layers[li];
    row.node_index = p.node_index;
    row.name = std::move(p.name);
    row.op_type = std::move(p.op_type);
    row.shape = std::move(p.shape);
    row.status = p.status;
    row.note = std::move(p.note);
    if (p.status != LayerStatus::measured) continue;
    check_cancelled();
    const std::string key = p.spec.key();
    auto it = cache.find(key);
    if (it == cache.end()) {
      try {
        OpTiming t = time_op(p.spec, options, pool.get());
        it = cache.emplace(key, std::make_pair(int64_t(cache.size()), std::move(t))).first;
        row.timed = true;
      } catch (const BufferLimitError& e) {   // too big for this machine's memory (docs/limits.md)
        row.status = LayerStatus::unmeasured;
        row.note = e.what();
        continue;
      } catch (const std::exception& e) {
        row.status = LayerStatus::unmeasured;
        row.note = std::string("kernel rejected the configuration: ") + e.what();
        continue;
      }
    }
    row.kernel = it->second.second.kernel;
    row.timing = it->second.second.timing;
    row.config_id = it->second.first;
    result.total_s += row.timing.median_s;
    measured_specs.push_back(p.spec);
  }
  result.distinct_configs = int(cache.size());

  if (sequence && !measured_specs.empty()) {
    // Layers chained through two ping-pong buffers, as a runtime's memory planner reuses its arena: each
    // layer reads what the previous one wrote; weights are each layer's own.
    std::vector<std::unique_ptr<PreparedOp>> ops;
    int64_t flops = 0, bytes = 0, io_bytes = 0;
    for (const OpSpec& spec : measured_specs) {
      check_cancelled();
      ops.push_back(std::make_unique<PreparedOp>(spec, 1, false));
      flops += int64_t(ops.back()->flops());
      bytes += int64_t(ops.back()->bytes());
      io_bytes = std::max({io_bytes, ops.back()->input_bytes(), ops.back()->output_bytes()});
    }
    std::vector<float> ping(size_t(io_bytes / 4 + 16)), pong(ping.size());
    for (size_t i = 0; i < ping.size(); ++i) ping[i] = float(int(i % 61) - 30) / 64.0f;
    RunContext ctx;
    ctx.cpu_model = cpu_info().model;
    ctx.isa = kernels::isa_name(ops[0]->kernel().isa());
    ctx.threads = pool ? pool->num_threads() : 1;
    ctx.compiler = cpu_info().compiler;
    TimingOptions opt = options;
    opt.cold_cache = false;  // the sequence sets its own cache state
    result.sequence = time_calls(
        [&](int) {
          for (size_t i = 0; i < ops.size(); ++i) {
            if (i != 0) check_cancelled();   // (time_calls checks before the first)
            ops[i]->run_on(i % 2 ? pong.data() : ping.data(), i % 2 ? ping.data() : pong.data(), pool.get());
          }
        },
        1, flops, bytes, opt, ctx);
  }
  return result;
}

ModelTiming time_model_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                             const graph::Options& graph_options, const TimingOptions& options, bool sequence) {
  try {
    onnx::Model model = onnx::decode_model(data, size);
    graph::Profile profile = graph::analyze(model, graph_options);
    return time_model(model, profile, options, sequence);
  } catch (const ModelError& e) {
    throw ModelError(source_name + ": " + e.what());
  }
}

std::vector<PlannedLayer> plan_model_bytes(const uint8_t* data, size_t size, const std::string& source_name,
                                           const graph::Options& graph_options) {
  try {
    onnx::Model model = onnx::decode_model(data, size);
    graph::Profile profile = graph::analyze(model, graph_options);
    return plan_layers(graph::analysed_nodes(model, profile));
  } catch (const ModelError& e) {
    throw ModelError(source_name + ": " + e.what());
  }
}

ModelTiming time_model_file(const std::string& path, const graph::Options& graph_options,
                            const TimingOptions& options, bool sequence) {
  onnx::MappedFile file(path);
  try {
    ModelTiming timing = time_model_bytes(file.data(), file.size(), path, graph_options, options, sequence);
    file.check_unchanged();
    return timing;
  } catch (const ModelError&) {
    file.check_unchanged();  // a file that shrank while read explains the error
    throw;
  }
}

}  // namespace netscore::bench
