// Shape arithmetic shared by op families: broadcasting, axis normalisation, saturating products.
// (Sliding-window sizes live in window.cpp.)
#include "graph/ops/shape_util.h"

namespace netscore::graph {

std::optional<std::vector<int64_t>> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t rank = a.size() > b.size() ? a.size() : b.size();
  std::vector<int64_t> out(rank, 1);
  for (size_t k = 0; k < rank; ++k) {
    // align from the right
    const int64_t da = k < rank - a.size() ? 1 : a[k - (rank - a.size())];
    const int64_t db = k < rank - b.size() ? 1 : b[k - (rank - b.size())];
    int64_t d;
    if (da == db) d = da;
    else if (da == 1) d = db;
    else if (db == 1) d = da;
    else if (da < 0) d = db;   // unknown vs known n: the known side fixes it (n, or 1 broadcasting to n)
    else if (db < 0) d = da;
    else return std::nullopt;  // two different known dims, neither 1
    out[k] = d;
  }
  return out;
}

std::optional<int64_t> normalize_axis(int64_t axis, int64_t rank) {
  if (rank < 0) return std::nullopt;
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

}  // namespace netscore::graph
