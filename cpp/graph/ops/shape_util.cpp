// Shape arithmetic shared by op families: broadcasting, axis normalisation, saturating products.
// (Sliding-window sizes live in window.cpp.)
#include "graph/ops/shape_util.h"

namespace netscore::graph {

bool broadcast_into(std::vector<int64_t>& acc, const std::vector<int64_t>& b) {
  if (acc.size() < b.size()) acc.insert(acc.begin(), b.size() - acc.size(), 1);  // align from the right
  const size_t offset = acc.size() - b.size();
  for (size_t k = offset; k < acc.size(); ++k) {
    const int64_t da = acc[k];
    const int64_t db = b[k - offset];
    int64_t d;
    if (da == db) d = da;
    else if (da == 1) d = db;
    else if (db == 1) d = da;
    else if (da < 0) d = db;   // unknown vs known n: the known side fixes it (n, or 1 broadcasting to n)
    else if (db < 0) d = da;
    else return false;         // two different known dims, neither 1
    acc[k] = d;
  }
  return true;
}

std::optional<std::vector<int64_t>> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out = a;
  if (!broadcast_into(out, b)) return std::nullopt;
  return out;
}

std::optional<int64_t> normalize_axis(int64_t axis, int64_t rank) {
  if (rank < 0) return std::nullopt;
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

}  // namespace netscore::graph
