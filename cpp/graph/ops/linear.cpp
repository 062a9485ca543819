// Matrix products: Gemm, MatMul (numpy semantics), Einsum (equation parsing, pairwise cost) and
// com.microsoft FusedMatMul.
#include <algorithm>
#include <map>
#include <string>

#include "graph/cost.h"
#include "graph/ops/attrs.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

// Merge two sizes of one dimension: equal, or one unknown; returns -2 on a contradiction.
int64_t merge_dim(int64_t a, int64_t b) {
  if (a < 0) return b;
  if (b < 0 || a == b) return a;
  return -2;
}

}  // namespace

// MatMul with numpy semantics on inputs a_index and b_index: 1-D operands are promoted (and the added dim
// removed), batch dims broadcast, inner dims must agree.
void infer_matmul_like(OpContext& ctx, size_t a_index, size_t b_index, int32_t out_dtype) {
  const Value* a = ctx.input(a_index);
  const Value* b = ctx.input(b_index);
  if (!a || !b) ctx.fail("needs two operands");
  Value* y = ctx.output(0);
  if (y) y->dtype = out_dtype;
  if (!a->rank_known || !b->rank_known) return;
  if (a->dims.empty() || b->dims.empty()) ctx.fail("operands must have rank >= 1");
  std::vector<int64_t> ad = a->dims, bd = b->dims;
  if (ad.size() == 1) ad.insert(ad.begin(), 1);
  if (bd.size() == 1) bd.push_back(1);
  const int64_t k = merge_dim(ad.back(), bd[bd.size() - 2]);
  if (k == -2)
    ctx.fail("inner dimensions differ: " + dims_str(a->dims) + " x " + dims_str(b->dims));
  auto batch = broadcast_shapes(std::vector<int64_t>(ad.begin(), ad.end() - 2),
                                std::vector<int64_t>(bd.begin(), bd.end() - 2));
  if (!batch) ctx.fail("batch dimensions do not broadcast: " + dims_str(a->dims) + " x " + dims_str(b->dims));
  if (!y) return;
  y->rank_known = true;
  y->dims = *batch;
  if (a->dims.size() > 1) y->dims.push_back(ad[ad.size() - 2]);
  if (b->dims.size() > 1) y->dims.push_back(bd.back());
}

// MACs = prod(broadcast batch) * M * N * K, i.e. output elements * K (K from whichever operand knows it).
Cost cost_matmul_like(const OpContext& ctx, size_t a_index, size_t b_index) {
  const Value* a = ctx.input(a_index);
  const Value* b = ctx.input(b_index);
  const Value* y = ctx.output(0);
  if (!a || !b || !y || !y->shape_known()) return {0, 0, false};
  int64_t k = -1;
  if (a->rank_known && !a->dims.empty()) k = a->dims.back();
  if (k < 0 && b->rank_known && !b->dims.empty()) k = b->dims.size() == 1 ? b->dims[0] : b->dims[b->dims.size() - 2];
  if (k < 0) return {0, 0, false};
  const int64_t macs = mul_sat(product(y->dims), k);
  return {macs, mul_sat(macs, cost::kFlopsPerMac), true};
}

GemmAttrs parse_gemm_attrs(const OpContext& ctx) {
  GemmAttrs g;
  g.alpha = ctx.attr_float("alpha", 1.0f);
  g.beta = ctx.attr_float("beta", 1.0f);
  g.trans_a = ctx.attr_int("transA", 0) != 0;
  g.trans_b = ctx.attr_int("transB", 0) != 0;
  return g;
}

// Gemm: Y = alpha * A' * B' + beta * C with A' = transA ? A^T : A (M x K), B' = transB ? B^T : B (K x N),
// C unidirectionally broadcastable to (M, N).
void infer_gemm_like(OpContext& ctx, size_t a_index, size_t b_index, size_t c_index, int32_t out_dtype) {
  const Value* a = ctx.input(a_index);
  const Value* b = ctx.input(b_index);
  if (!a || !b) ctx.fail("needs inputs A and B");
  const GemmAttrs g = parse_gemm_attrs(ctx);
  const bool ta = g.trans_a, tb = g.trans_b;
  if (a->rank_known && a->dims.size() != 2) ctx.fail("A must be 2-D, got " + dims_str(a->dims));
  if (b->rank_known && b->dims.size() != 2) ctx.fail("B must be 2-D, got " + dims_str(b->dims));
  const int64_t m = a->rank_known ? a->dims[ta ? 1 : 0] : -1;
  const int64_t ka = a->rank_known ? a->dims[ta ? 0 : 1] : -1;
  const int64_t kb = b->rank_known ? b->dims[tb ? 1 : 0] : -1;
  const int64_t n = b->rank_known ? b->dims[tb ? 0 : 1] : -1;
  if (merge_dim(ka, kb) == -2)
    ctx.fail("K differs: A " + dims_str(a->dims) + (ta ? " (transposed)" : "") + ", B " + dims_str(b->dims) +
             (tb ? " (transposed)" : ""));
  const Value* c = c_index == SIZE_MAX ? nullptr : ctx.input(c_index);
  if (c && c->rank_known) {
    if (c->dims.size() > 2) ctx.fail("C must have rank <= 2, got " + dims_str(c->dims));
    const std::vector<int64_t> mn = {m, n};
    for (size_t i = 0; i < c->dims.size(); ++i) {
      const int64_t cd = c->dims[i], od = mn[2 - c->dims.size() + i];
      if (cd >= 0 && od >= 0 && cd != 1 && cd != od)
        ctx.fail("C " + dims_str(c->dims) + " does not broadcast to (" + std::to_string(m) + ", " +
                 std::to_string(n) + ")");
    }
  }
  Value* y = ctx.output(0);
  if (!y) return;
  y->dtype = out_dtype;
  y->rank_known = true;
  y->dims = {m, n};
}

// MACs = M * N * K; FLOPs = 2 * MACs + M * N bias adds when C is present (alpha/beta scaling is taken as folded
// into the constants, as exporters do).
Cost cost_gemm_like(const OpContext& ctx, size_t a_index, size_t b_index, bool has_c) {
  const Value* a = ctx.input(a_index);
  const Value* b = ctx.input(b_index);
  const Value* y = ctx.output(0);
  if (!a || !b || !y || !y->shape_known()) return {0, 0, false};
  const GemmAttrs g = parse_gemm_attrs(ctx);
  int64_t k = a->rank_known ? a->dims[g.trans_a ? 0 : 1] : -1;
  if (k < 0 && b->rank_known) k = b->dims[g.trans_b ? 1 : 0];
  if (k < 0) return {0, 0, false};
  const int64_t mn = product(y->dims);
  const int64_t macs = mul_sat(mn, k);
  int64_t flops = mul_sat(macs, cost::kFlopsPerMac);
  if (has_c) flops = add_sat(flops, mn);
  return {macs, flops, true};
}

namespace {

int32_t first_dtype(const OpContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.input(i) && ctx.input(i)->dtype) return ctx.input(i)->dtype;
  return 0;
}

void infer_matmul(OpContext& ctx) { infer_matmul_like(ctx, 0, 1, first_dtype(ctx)); }
Cost cost_matmul(const OpContext& ctx) { return cost_matmul_like(ctx, 0, 1); }
void infer_gemm(OpContext& ctx) { infer_gemm_like(ctx, 0, 1, 2, first_dtype(ctx)); }
Cost cost_gemm(const OpContext& ctx) { return cost_gemm_like(ctx, 0, 1, ctx.input(2) != nullptr); }

// ---- com.microsoft FusedMatMul: MatMul of A and B with their last two dims optionally transposed (alpha is
// taken as folded, as for Gemm).
Value transposed_last2(const Value& v, bool trans) {
  Value t = v;
  if (trans && t.rank_known && t.dims.size() >= 2) std::swap(t.dims[t.dims.size() - 1], t.dims[t.dims.size() - 2]);
  t.values_known = false;
  return t;
}

template <typename Fn>
auto with_transposed_operands(const OpContext& ctx, Fn fn) {
  if (ctx.attr_int("transBatchA", 0) != 0 || ctx.attr_int("transBatchB", 0) != 0)
    ctx.unsupported("FusedMatMul with transBatchA / transBatchB");
  if (!ctx.input(0) || !ctx.input(1)) ctx.fail("needs two operands");
  const Value a = transposed_last2(*ctx.input(0), ctx.attr_int("transA", 0) != 0);
  const Value b = transposed_last2(*ctx.input(1), ctx.attr_int("transB", 0) != 0);
  const std::vector<const Value*> inputs{&a, &b};
  const std::vector<Value*> outputs{ctx.output(0)};
  OpContext inner(ctx.node(), ctx.opset(), inputs, outputs, std::string_view());
  return fn(inner);
}

void infer_fused_matmul(OpContext& ctx) {
  const int32_t t = first_dtype(ctx);
  with_transposed_operands(ctx, [t](OpContext& inner) { infer_matmul_like(inner, 0, 1, t); return 0; });
}

Cost cost_fused_matmul(const OpContext& ctx) {
  return with_transposed_operands(ctx, [](OpContext& inner) { return cost_matmul_like(inner, 0, 1); });
}

// ---- Einsum ----------------------------------------------------------------------------------------------
// Labels are ints: letters map to 0..51; the dims covered by "..." become pseudo-labels 100 + j, right-aligned
// across operands so that ellipsis dims broadcast numpy-style.
constexpr int kEllipsisBase = 100;

struct EinsumPlan {
  std::vector<std::vector<int>> terms;   // labels of each operand
  std::vector<int> output;               // labels of the output
  std::map<int, int64_t> size;           // label -> size, -1 unknown
  bool rank_known = true;                // false: an operand with "..." has unknown rank
};

int letter_label(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : (c >= 'A' && c <= 'Z' ? 26 + c - 'A' : -1); }

EinsumPlan plan_einsum(const OpContext& ctx) {
  std::string eq;
  for (char c : ctx.attr_string("equation", "")) if (c != ' ') eq.push_back(c);
  if (eq.empty()) ctx.fail("missing equation");
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> raw_terms;
  size_t start = 0;
  for (;;) {
    size_t comma = lhs.find(',', start);
    raw_terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (raw_terms.size() != ctx.num_inputs())
    ctx.fail("equation '" + eq + "' has " + std::to_string(raw_terms.size()) + " operands but the node has " +
             std::to_string(ctx.num_inputs()) + " inputs");

  EinsumPlan p;
  // First pass: letters per term, where the ellipsis sits, ellipsis ranks.
  struct Parsed { std::vector<int> letters_before, letters_after; bool ellipsis = false; };
  auto parse_term = [&](const std::string& t) {
    Parsed r;
    size_t i = 0;
    while (i < t.size()) {
      if (t.compare(i, 3, "...") == 0) {
        if (r.ellipsis) ctx.fail("more than one ellipsis in '" + t + "'");
        r.ellipsis = true;
        i += 3;
        continue;
      }
      const int l = letter_label(t[i]);
      if (l < 0) ctx.fail("invalid character in equation '" + eq + "'");
      (r.ellipsis ? r.letters_after : r.letters_before).push_back(l);
      ++i;
    }
    return r;
  };
  std::vector<Parsed> parsed;
  std::vector<int64_t> ellipsis_rank(raw_terms.size(), 0);
  int64_t max_ellipsis = 0;
  for (size_t i = 0; i < raw_terms.size(); ++i) {
    parsed.push_back(parse_term(raw_terms[i]));
    const Value* v = ctx.input(i);
    const int64_t letters = static_cast<int64_t>(parsed[i].letters_before.size() + parsed[i].letters_after.size());
    if (v && v->rank_known) {
      const int64_t rank = static_cast<int64_t>(v->dims.size());
      if (parsed[i].ellipsis ? rank < letters : rank != letters)
        ctx.fail("operand " + std::to_string(i) + " has rank " + std::to_string(rank) + " but term '" +
                 raw_terms[i] + "' has " + std::to_string(letters) + " labels");
      ellipsis_rank[i] = rank - letters;
    } else if (parsed[i].ellipsis) {
      p.rank_known = false;
    }
    max_ellipsis = std::max(max_ellipsis, ellipsis_rank[i]);
  }
  // Second pass: label lists and sizes.
  for (size_t i = 0; i < raw_terms.size(); ++i) {
    std::vector<int> t = parsed[i].letters_before;
    for (int64_t j = 0; j < ellipsis_rank[i]; ++j)
      t.push_back(kEllipsisBase + static_cast<int>(max_ellipsis - ellipsis_rank[i] + j));
    t.insert(t.end(), parsed[i].letters_after.begin(), parsed[i].letters_after.end());
    const Value* v = ctx.input(i);
    for (size_t d = 0; d < t.size(); ++d) {
      const int64_t dim = v && v->rank_known ? v->dims[d] : -1;
      auto it = p.size.find(t[d]);
      if (it == p.size.end()) {
        p.size[t[d]] = dim;
      } else if (dim >= 0) {
        int64_t& s = it->second;
        if (s < 0 || s == 1) s = dim;
        else if (dim != 1 && dim != s)
          ctx.fail("label sizes disagree in equation '" + eq + "' (" + std::to_string(s) + " vs " +
                   std::to_string(dim) + ")");
      }
    }
    p.terms.push_back(std::move(t));
  }
  std::vector<int> ell_out;
  for (int64_t j = 0; j < max_ellipsis; ++j) ell_out.push_back(kEllipsisBase + static_cast<int>(j));
  if (arrow != std::string::npos) {
    Parsed out = parse_term(eq.substr(arrow + 2));
    p.output = out.letters_before;
    if (out.ellipsis) p.output.insert(p.output.end(), ell_out.begin(), ell_out.end());
    p.output.insert(p.output.end(), out.letters_after.begin(), out.letters_after.end());
    for (int l : p.output)
      if (!p.size.count(l)) ctx.fail("output label not present in any operand of '" + eq + "'");
  } else {
    // Implicit output: ellipsis dims, then the labels that occur exactly once, in alphabetical order.
    std::map<int, int> count;
    for (const Parsed& t : parsed) {
      for (int l : t.letters_before) ++count[l];
      for (int l : t.letters_after) ++count[l];
    }
    p.output = ell_out;
    std::vector<int> once;
    for (auto& [l, c] : count) if (c == 1) once.push_back(l);
    // letter_label orders a..z before A..Z; alphabetical (ASCII) order puts upper case first.
    std::sort(once.begin(), once.end(), [](int x, int y) { return (x >= 26 ? x - 26 : x + 26) < (y >= 26 ? y - 26 : y + 26); });
    p.output.insert(p.output.end(), once.begin(), once.end());
  }
  return p;
}

void infer_einsum(OpContext& ctx) {
  EinsumPlan p = plan_einsum(ctx);
  Value* y = ctx.output(0);
  if (!y) return;
  y->dtype = first_dtype(ctx);
  if (!p.rank_known) {
    // an operand's "..." has unknown rank: the output rank is known only when it is spelled without "..."
    const std::string eq(ctx.attr_string("equation", ""));
    const size_t arrow = eq.find("->");
    if (arrow == std::string::npos || eq.find("...", arrow) != std::string::npos) return;
  }
  y->rank_known = true;
  y->dims.clear();
  for (int l : p.output) y->dims.push_back(p.size[l]);
}

// Product of the sizes of a set of labels; -1 if any is unknown.
int64_t label_product(const EinsumPlan& p, const std::vector<int>& labels) {
  std::vector<int64_t> d;
  for (int l : labels) d.push_back(p.size.at(l));
  return product(d);
}

// Two operands: MACs = product of the sizes of all distinct labels (every combination is one multiply-add).
// More operands: contracted pairwise left to right, keeping labels still needed later.
// One operand: no multiplications; the reduced elements cost one add each (in - out).
Cost cost_einsum(const OpContext& ctx) {
  EinsumPlan p = plan_einsum(ctx);
  if (!p.rank_known) return {0, 0, false};
  for (auto& [l, s] : p.size) if (s < 0) return {0, 0, false};
  if (p.terms.size() == 1) {
    const int64_t in = label_product(p, p.terms[0]);
    std::vector<int> out = p.output;
    const int64_t o = label_product(p, out);
    return {0, in > o ? in - o : 0, true};
  }
  int64_t macs = 0;
  std::vector<int> current = p.terms[0];
  for (size_t i = 1; i < p.terms.size(); ++i) {
    std::vector<int> all = current;
    for (int l : p.terms[i]) if (std::find(all.begin(), all.end(), l) == all.end()) all.push_back(l);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    macs = add_sat(macs, label_product(p, all));
    std::vector<int> keep;
    for (int l : all) {
      bool needed = std::find(p.output.begin(), p.output.end(), l) != p.output.end();
      for (size_t j = i + 1; j < p.terms.size() && !needed; ++j)
        needed = std::find(p.terms[j].begin(), p.terms[j].end(), l) != p.terms[j].end();
      if (needed) keep.push_back(l);
    }
    current = keep;
  }
  return {macs, mul_sat(macs, cost::kFlopsPerMac), true};
}

}  // namespace

void register_linear(OpRegistry& r) {
  OpDef gemm{infer_gemm, cost_gemm}, matmul{infer_matmul, cost_matmul};
  gemm.product = matmul.product = true;  // A is data, B the weight (torch's Linear: x W^T)
  r.add("", "Gemm", gemm);
  r.add("", "MatMul", matmul);
  r.add("", "Einsum", OpDef{infer_einsum, cost_einsum});
  r.add("com.microsoft", "FusedMatMul", OpDef{infer_fused_matmul, cost_fused_matmul});
}

}  // namespace netscore::graph
