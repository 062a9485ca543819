// Many models on a pool of threads: each worker claims the next index and keeps only the totals.
#include "graph/batch.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "netscore/errors.h"

namespace netscore::graph {

BatchTotals totals_of(const Profile& p) {
  BatchTotals t;
  t.params = p.params;
  t.macs = p.macs;
  t.flops = p.flops;
  t.weight_bytes = p.weight_bytes;
  t.activation_bytes = p.activation_bytes;
  t.peak_activation_bytes = p.peak_activation_bytes;
  t.bn_stat_params = p.bn_stat_params;
  int64_t unsupported = 0;
  for (const UnsupportedOp& op : p.unsupported_ops) unsupported += static_cast<int64_t>(op.node_names.size());
  t.unsupported = unsupported;
  return t;
}

namespace {

BatchTotals profile_one(const BatchSource& s, const Options& options) {
  try {
    Profile p = s.data != nullptr || s.path.empty() ? profile_bytes(s.data, s.size, s.name, options)
                                                    : profile_file(s.path, options);
    return totals_of(p);
  } catch (const ModelError& e) {
    BatchTotals t;
    t.status = BatchStatus::kModelError;
    t.error = e.what();
    return t;
  } catch (const std::exception& e) {
    BatchTotals t;
    t.status = BatchStatus::kOtherError;
    t.error = s.name + ": internal error: " + e.what();
    return t;
  } catch (...) {
    BatchTotals t;
    t.status = BatchStatus::kOtherError;
    t.error = s.name + ": internal error (unknown exception)";
    return t;
  }
}

}  // namespace

std::vector<BatchTotals> profile_batch(const std::vector<BatchSource>& sources, const Options& options,
                                       int threads) {
  std::vector<BatchTotals> results(sources.size());
  if (sources.empty()) return results;
  Options totals_only = options;  // the results keep totals only: skip building per-node layer rows
  totals_only.want_layers = false;
  size_t workers = threads > 0 ? static_cast<size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, sources.size());

  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1, std::memory_order_relaxed); i < sources.size();
         i = next.fetch_add(1, std::memory_order_relaxed))
      results[i] = profile_one(sources[i], totals_only);
  };
  if (workers == 1) {
    work();
    return results;
  }
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  try {
    for (size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  } catch (...) {
    // could not start every thread (resource limits): the ones running and this one finish the work
  }
  work();
  for (std::thread& t : pool) t.join();
  return results;
}

}  // namespace netscore::graph
