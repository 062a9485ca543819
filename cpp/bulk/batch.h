// Profile many models at once on a pool of threads, keeping only per-model totals.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bulk/columns.h"
#include "graph/analysis.h"
#include "graph/class_features.h"

namespace netscore::graph {

// A buffer owned by the caller.
struct BytesView {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Consecutive BytesViews [begin, end) in storage owned by the caller (one array for a whole batch).
struct PartsView {
  const BytesView* first = nullptr;
  const BytesView* last = nullptr;
  const BytesView* begin() const { return first; }
  const BytesView* end() const { return last; }
  bool empty() const { return first == last; }
};

// One model to profile: a buffer [data, data + size) owned by the caller (it must outlive the call),
// or, when data is null, the file at `path` (memory-mapped by the worker).
// Or, when `parts` is not empty, the concatenation of those buffers (a model serialized in pieces, e.g. by
// a NAS generator: the worker joins them, so assembling models runs in parallel too).
struct BatchSource {
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::string path;
  std::string name;   // prefixes error messages (for files: the path)
  PartsView parts;
};

// kFileError: the file could not be opened or mapped (a state of the file system, not of the model).
// kCancelled: not analysed (or not to the end) because cancellation was requested (Ctrl-C).
enum class BatchStatus : int32_t { kOk = 0, kModelError = 1, kOtherError = 2, kFileError = 3, kCancelled = 4 };

// The totals of Profile that a results table keeps, without the per-node layers: one int64 per column of
// NETSCORE_TOTALS_COLUMNS (bulk/columns.h), -1 when unknown.
struct BatchTotals {
#define NETSCORE_TOTALS_FIELD(name, description) int64_t name = -1;
  NETSCORE_TOTALS_COLUMNS(NETSCORE_TOTALS_FIELD)
#undef NETSCORE_TOTALS_FIELD
  BatchStatus status = BatchStatus::kOk;
  std::string error;          // message when status != kOk
};

constexpr int kBatchTotalsFields = bulk::kNumTotalsColumns;   // int64 fields above, in column order

// Calls fn(name, value) for each column of `t`, in column order.
template <typename Fn>
void for_each_total(const BatchTotals& t, Fn&& fn) {
#define NETSCORE_TOTALS_VISIT(name, description) fn(#name, t.name);
  NETSCORE_TOTALS_COLUMNS(NETSCORE_TOTALS_VISIT)
#undef NETSCORE_TOTALS_VISIT
}

// Totals of one analysed model.
BatchTotals totals_of(const Profile& profile);

// Profile every source with `threads` workers (0: hardware concurrency; never more than sources).
// Each worker takes the next unclaimed index, so uneven models balance. A ModelError or any other
// exception in one model becomes that model's error; the others are unaffected. Results are in
// source order. Thread-safe and re-entrant; creates its threads per call (nothing survives a fork).
// Once cancellation is requested (netscore/cancel.h), the model in work on each thread stops within a few
// nodes and every model not finished gets status kCancelled; the call still returns the finished rows.
std::vector<BatchTotals> profile_batch(const std::vector<BatchSource>& sources, const Options& options,
                                       int threads);

// The per-op-class features of each source (graph/class_features.h), on `threads` workers like
// profile_batch: a failed model gets its status and error, the others are unaffected. Collected during the
// walk without per-node layer rows (models with subgraphs: from the rows), so about as fast as profile_batch.
struct BatchFeatures {
  ClassFeatures features;
  BatchStatus status = BatchStatus::kOk;
  std::string error;          // message when status != kOk
};
std::vector<BatchFeatures> features_batch(const std::vector<BatchSource>& sources, const Options& options,
                                          int threads);

// For callers that keep their own per-model results (device profiles): fn(i, data, size, name) with the
// bytes of every source (parts joined, files memory-mapped and checked for change), on `threads` workers
// like profile_batch; an exception in fn becomes that source's status and error, as in profile_batch.
struct BatchOutcome {
  BatchStatus status = BatchStatus::kOk;
  std::string error;          // message when status != kOk
};
using SourceBytesFn = std::function<void(size_t index, const uint8_t* data, size_t size, const std::string& name)>;
std::vector<BatchOutcome> for_each_source_bytes(const std::vector<BatchSource>& sources, int threads,
                                                const SourceBytesFn& fn);

// A 128-bit content digest (XXH3-128) of each source's bytes, seeded by `salt` (callers mix their analysis
// options into it, so equal bytes under other options digest differently). Files are memory-mapped and
// read whole; a file that cannot be opened gets ok = false and its error. Non-cryptographic: it tells
// accidentally different models apart (collision odds 2^-128 per pair), not deliberately forged ones.
// Runs on up to `threads` workers when the sources are large enough to pay for the threads.
struct BatchDigest {
  std::array<uint8_t, 16> bytes{};
  bool ok = true;
  std::string error;
};
std::vector<BatchDigest> digest_batch(const std::vector<BatchSource>& sources, std::string_view salt,
                                      int threads);

// A digest of each file's identity without reading it: (absolute path, size, modification time in ns),
// seeded by `salt`. A file that cannot be stat'ed gets ok = false. A rewritten file changes its mtime
// (and usually its size), so its digest changes.
std::vector<BatchDigest> stat_digest_batch(const std::vector<std::string>& paths, std::string_view salt);

}  // namespace netscore::graph
