// Many models on a pool of threads: each worker claims the next index and keeps only the totals.
#include "bulk/batch.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <filesystem>

#include <sys/stat.h>

#include "netscore/cancel.h"
#include "netscore/errors.h"
#include "netscore/parallel.h"
#include "onnx/decode.h"
#include "onnx/loader.h"

#define XXH_INLINE_ALL
#include "third_party/xxhash/xxhash.h"
#if NETSCORE_XXH_X86_DISPATCH   // x86-64 builds: xxHash's dispatcher picks SSE2/AVX2/AVX-512 at run time
#include "third_party/xxhash/xxh_x86dispatch.h"
#endif

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
  t.unknown_cost_nodes = static_cast<int64_t>(p.unknown_cost_nodes.size());
  return t;
}

namespace {

// The parts of a source joined in a buffer reused by this thread.
const std::vector<uint8_t>& joined_parts(const BatchSource& s) {
  thread_local std::vector<uint8_t> joined;
  size_t size = 0;
  for (const auto& part : s.parts) size += part.size;
  joined.resize(size);
  uint8_t* out = joined.data();
  for (const auto& part : s.parts) {
    if (part.size != 0) std::memcpy(out, part.data, part.size);
    out += part.size;
  }
  return joined;
}

Profile profile_source(const BatchSource& s, const Options& options) {
  if (!s.parts.empty()) {
    const std::vector<uint8_t>& joined = joined_parts(s);
    return profile_bytes(joined.data(), joined.size(), s.name, options);
  }
  return s.data != nullptr || s.path.empty() ? profile_bytes(s.data, s.size, s.name, options)
                                             : profile_file(s.path, options);
}

// fn() for source `s`, its exceptions turned into R's status and error (R: BatchTotals, BatchFeatures).
template <typename R, typename Fn>
R guarded(const BatchSource& s, Fn fn) {
  try {
    check_cancelled();   // after Ctrl-C the remaining models are marked cancelled without work
    return fn();
  } catch (const Cancelled&) {
    R t;
    t.status = BatchStatus::kCancelled;
    t.error = s.name + ": cancelled";
    return t;
  } catch (const FileError& e) {
    R t;
    t.status = BatchStatus::kFileError;
    t.error = e.what();
    return t;
  } catch (const ModelError& e) {
    R t;
    t.status = BatchStatus::kModelError;
    t.error = e.what();
    return t;
  } catch (const std::exception& e) {
    R t;
    t.status = BatchStatus::kOtherError;
    t.error = s.name + ": internal error: " + e.what();
    return t;
  } catch (...) {
    R t;
    t.status = BatchStatus::kOtherError;
    t.error = s.name + ": internal error (unknown exception)";
    return t;
  }
}

BatchTotals profile_one(const BatchSource& s, const Options& options) {
  return guarded<BatchTotals>(s, [&] { return totals_of(profile_source(s, options)); });
}

// fn(data, size, name) with the bytes of source `s`: its parts joined, its buffer, or its file mapped (a file
// that shrank while read explains any error).
template <typename Fn>
void with_bytes(const BatchSource& s, Fn fn) {
  if (!s.parts.empty()) {
    const std::vector<uint8_t>& joined = joined_parts(s);
    fn(joined.data(), joined.size(), s.name);
  } else if (s.data != nullptr || s.path.empty()) {
    fn(s.data, s.size, s.name);
  } else {
    onnx::MappedFile file(s.path);
    try {
      fn(file.data(), file.size(), s.path);
    } catch (...) {
      file.check_unchanged();
      throw;
    }
    file.check_unchanged();
  }
}

BatchFeatures features_one(const BatchSource& s, const Options& options) {
  return guarded<BatchFeatures>(s, [&] {
    BatchFeatures r;
    with_bytes(s, [&](const uint8_t* data, size_t size, const std::string& name) {
      r.features = features_of_bytes(data, size, name, options);
    });
    return r;
  });
}

// Calls fn(i) for every i in [0, n) on `workers` threads (netscore/parallel.h: started per call, so
// nothing survives a fork).
template <typename Fn>
void for_each_index(size_t n, size_t workers, Fn fn) {
  run_on_workers(n, workers, fn);
}

size_t worker_count(int threads) {
  return static_cast<size_t>(threads > 0 ? threads : default_threads());
}

}  // namespace

std::vector<BatchTotals> profile_batch(const std::vector<BatchSource>& sources, const Options& options,
                                       int threads) {
  std::vector<BatchTotals> results(sources.size());
  Options totals_only = options;  // the results keep totals only: skip building per-node layer rows
  totals_only.want_layers = false;
  for_each_index(sources.size(), worker_count(threads),
                 [&](size_t i) { results[i] = profile_one(sources[i], totals_only); });
  return results;
}

std::vector<BatchFeatures> features_batch(const std::vector<BatchSource>& sources, const Options& options,
                                          int threads) {
  std::vector<BatchFeatures> results(sources.size());
  Options totals_only = options;
  totals_only.want_layers = false;
  for_each_index(sources.size(), worker_count(threads),
                 [&](size_t i) { results[i] = features_one(sources[i], totals_only); });
  return results;
}

std::vector<BatchOutcome> for_each_source_bytes(const std::vector<BatchSource>& sources, int threads,
                                                const SourceBytesFn& fn) {
  std::vector<BatchOutcome> results(sources.size());
  for_each_index(sources.size(), worker_count(threads), [&](size_t i) {
    results[i] = guarded<BatchOutcome>(sources[i], [&] {
      with_bytes(sources[i], [&](const uint8_t* data, size_t size, const std::string& name) { fn(i, data, size, name); });
      return BatchOutcome{};
    });
  });
  return results;
}

namespace {

void set_digest(XXH128_hash_t h, BatchDigest& out) {
  XXH128_canonical_t canonical;   // big-endian bytes: the same digest on every platform
  XXH128_canonicalFromHash(&canonical, h);
  std::copy(canonical.digest, canonical.digest + 16, out.bytes.begin());
}

// Models in parts up to this size are joined (in a buffer each thread keeps) before hashing.
constexpr size_t kJoinToHash = 1u << 20;

void digest_one(const BatchSource& s, uint64_t seed, BatchDigest& out) {
  if (cancel_requested()) {   // Ctrl-C: the call throws Cancelled once the workers are back
    out.ok = false;
    return;
  }
  XXH128_hash_t h;
  if (!s.parts.empty()) {   // the digest of their concatenation
    size_t size = 0;
    for (const auto& part : s.parts) size += part.size;
    if (size <= kJoinToHash) {   // many small parts: joining, then hashing once, is ~3x faster than streaming
      const std::vector<uint8_t>& joined = joined_parts(s);
      h = XXH3_128bits_withSeed(joined.data(), joined.size(), seed);
    } else {
      XXH3_state_t state;
      XXH3_128bits_reset_withSeed(&state, seed);
      for (const auto& part : s.parts) XXH3_128bits_update(&state, part.data, part.size);
      h = XXH3_128bits_digest(&state);
    }
  } else if (s.data != nullptr || s.path.empty()) {
    h = XXH3_128bits_withSeed(s.data, s.size, seed);
  } else {
    try {
      onnx::MappedFile file(s.path);
      h = XXH3_128bits_withSeed(file.data(), file.size(), seed);
      file.check_unchanged();
    } catch (const std::exception& e) {
      out.ok = false;
      out.error = e.what();
      return;
    }
  }
  set_digest(h, out);
}

}  // namespace

std::vector<BatchDigest> digest_batch(const std::vector<BatchSource>& sources, std::string_view salt,
                                      int threads) {
  std::vector<BatchDigest> digests(sources.size());
  const uint64_t seed = XXH3_64bits(salt.data(), salt.size());
  // Hashing runs at several GB/s: a thread pays for itself only past about a megabyte of buffers (files
  // are not counted, their size is unknown until mapped, and they are worth a thread each).
  size_t bytes = 0, files = 0;
  for (const BatchSource& s : sources) {
    bytes += s.size;
    for (const auto& part : s.parts) bytes += part.size;
    files += s.data == nullptr && !s.path.empty();
  }
  const size_t useful = files + bytes / (1u << 20);
  for_each_index(sources.size(), std::min(worker_count(threads), std::max<size_t>(1, useful)),
                 [&](size_t i) { digest_one(sources[i], seed, digests[i]); });
  check_cancelled();   // some digests were skipped: no partial answer
  return digests;
}

std::vector<BatchDigest> stat_digest_batch(const std::vector<std::string>& paths, std::string_view salt) {
  std::vector<BatchDigest> digests(paths.size());
  const uint64_t seed = XXH3_64bits(salt.data(), salt.size());
  std::string identity;
  for (size_t i = 0; i < paths.size(); ++i) {
    check_cancelled();
    struct stat st {};
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(paths[i], ec);
    if (ec || ::stat(paths[i].c_str(), &st) != 0) {
      digests[i].ok = false;
      digests[i].error = paths[i] + ": cannot stat";
      continue;
    }
    const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    identity = absolute.lexically_normal().string();
    identity += '\0';
    identity += std::to_string(static_cast<int64_t>(st.st_size));
    identity += '\0';
    identity += std::to_string(mtime_ns);
    set_digest(XXH3_128bits_withSeed(identity.data(), identity.size(), seed), digests[i]);
  }
  return digests;
}

}  // namespace netscore::graph
