// The per-model totals a results table keeps: the one list of its columns (C++ struct, numpy array,
// ProfileTable, result cache and command line all follow it; Python reads it as _core.TOTALS_COLUMNS).
#pragma once
#include <array>
#include <cstdint>

// X(name, description): every column is an int64, -1 when the model failed. The costs are sums of the known
// parts; ProfileTable turns a total with an unknown part into NaN (docs/counting.md, "Unknown values in tables").
// Adding a column here adds it everywhere (the result cache's keys change with the list, so old rows miss).
#define NETSCORE_TOTALS_COLUMNS(X)                                                         \
  X(params, "elements of constant weights read by compute nodes")                         \
  X(macs, "multiply-accumulates of one inference")                                        \
  X(flops, "floating-point operations of one inference")                                   \
  X(weight_bytes, "bytes of the weights counted in params")                               \
  X(activation_bytes, "bytes of all non-constant node outputs")                           \
  X(peak_activation_bytes, "largest activation bytes alive at once in execution order")   \
  X(bn_stat_params, "BatchNormalization running statistics (included in params)")         \
  X(unsupported, "nodes whose op type the registry does not know")                       \
  X(unknown_cost_nodes, "nodes whose cost could not be determined (unsupported ones included)")

namespace netscore::bulk {

struct TotalsColumn {
  const char* name;
  const char* description;
};

#define NETSCORE_TOTALS_ENTRY(name, description) TotalsColumn{#name, description},
inline constexpr std::array kTotalsColumns{NETSCORE_TOTALS_COLUMNS(NETSCORE_TOTALS_ENTRY)};
#undef NETSCORE_TOTALS_ENTRY

constexpr int kNumTotalsColumns = static_cast<int>(kTotalsColumns.size());

}  // namespace netscore::bulk
