// Shape arithmetic shared by op families: broadcasting, axis normalisation, saturating products.
// (Sliding-window sizes live in window.cpp.)
#include "graph/ops/shape_util.h"

#include <limits>

namespace netscore::graph {

namespace {
constexpr int64_t kSat = std::numeric_limits<int64_t>::max();
}

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

int64_t mul_sat(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return -1;
  if (a == 0 || b == 0) return 0;
  if (a > kSat / b) return kSat;
  return a * b;
}

int64_t add_sat(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return -1;
  if (a > kSat - b) return kSat;
  return a + b;
}

int64_t product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    p = mul_sat(p, d);
  }
  return p;
}

}  // namespace netscore::graph
