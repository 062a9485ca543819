// ai.onnx.ml ops (classical ML pipelines exported by sklearn-onnx and friends): LinearClassifier,
// LinearRegressor, SVMClassifier, SVMRegressor, TreeEnsembleClassifier, TreeEnsembleRegressor, TreeEnsemble,
// Normalizer, Scaler, Binarizer, Imputer, LabelEncoder, OneHotEncoder, ArrayFeatureExtractor, FeatureVectorizer,
// ZipMap, CastMap, DictVectorizer. Linear models and SVM kernels are MACs; a tree is one compare per level of
// its deepest path; the rest is elementwise or data movement. Their learned values are attributes, not
// inputs, so they are not params.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "graph/cost.h"
#include "graph/ops/families.h"
#include "graph/ops/op_util.h"
#include "graph/ops/shape_util.h"

namespace netscore::graph {

namespace {

constexpr std::string_view kMl = "ai.onnx.ml";

size_t attr_count(const OpContext& ctx, std::string_view name) {
  const onnx::Attribute* a = ctx.attr(name);
  if (!a) return 0;
  switch (a->type) {
    case onnx::AttrType::kInts: return a->ints.size();
    case onnx::AttrType::kFloats: return a->floats.size();
    case onnx::AttrType::kStrings: return a->strings.size();
    case onnx::AttrType::kTensor:
      return a->tensors.empty() ? 0 : static_cast<size_t>(std::max<int64_t>(0, product(a->tensors[0].dims)));
    default: return 1;
  }
}

// Rows of a model input X ([N, C] or [C]): N and C, -1 where unknown. `rank2_only`: a 1-D X is an error
// (the tree ensembles' ONNX shape rule), else it is one row.
struct Rows {
  int64_t n = -1, c = -1;
};
Rows rows_of(const OpContext& ctx, bool rank2_only) {
  const Value& x = data_input(ctx);
  Rows r;
  if (!x.rank_known) return r;
  if (x.dims.size() == 2) return {x.dims[0], x.dims[1]};
  if (x.dims.size() == 1 && !rank2_only) return {1, x.dims[0]};
  ctx.fail(std::string("X must be ") + (rank2_only ? "2-D" : "1-D or 2-D") + ", got " + dims_str(x.dims));
}

// FLOPs per score of post_transform: NONE 0, LOGISTIC as Sigmoid, SOFTMAX / SOFTMAX_ZERO as Softmax (5),
// PROBIT one function.
// TreeEnsemble (opset 5) gives it as an int: 0 NONE, 1 SOFTMAX, 2 LOGISTIC, 3 SOFTMAX_ZERO, 4 PROBIT.
int64_t post_transform_flops(const OpContext& ctx) {
  if (const onnx::Attribute* a = ctx.attr("post_transform"); a && a->type == onnx::AttrType::kInt) {
    constexpr std::string_view kNames[] = {"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"};
    if (a->i < 0 || a->i > 4) ctx.fail("unknown post_transform " + std::to_string(a->i));
    const std::string_view t = kNames[a->i];
    return t == "NONE" ? 0 : t == "LOGISTIC" ? cost::elementwise_flops_per_element("Sigmoid") : t == "PROBIT" ? 1 : 5;
  }
  const std::string_view t = ctx.attr_string("post_transform", "NONE");
  if (t == "NONE") return 0;
  if (t == "LOGISTIC") return cost::elementwise_flops_per_element("Sigmoid");
  if (t == "SOFTMAX" || t == "SOFTMAX_ZERO") return 5;
  if (t == "PROBIT") return 1;
  ctx.fail("unknown post_transform '" + std::string(t) + "'");
}

// Label type of the classifiers: int64 with classlabels_ints / classlabels_int64s, else strings.
int32_t label_type(const OpContext& ctx) {
  return ctx.has_attr("classlabels_ints") || ctx.has_attr("classlabels_int64s") ? onnx::kInt64 : onnx::kString;
}
size_t label_count(const OpContext& ctx) {
  for (std::string_view a : {"classlabels_ints", "classlabels_int64s", "classlabels_strings"})
    if (ctx.has_attr(a)) return attr_count(ctx, a);
  return 0;
}

// ---- LinearClassifier: X [N, C] -> Y labels [N], Z scores [N, E]. E = class count (intercepts, or
// coefficients / C), 2 for the binary form (one class of coefficients and two labels), as onnxruntime.
int64_t linear_classes(const OpContext& ctx, int64_t c) {
  int64_t classes = static_cast<int64_t>(attr_count(ctx, "intercepts"));
  if (classes == 0 && c > 0) classes = static_cast<int64_t>(attr_count(ctx, "coefficients")) / c;
  if (classes == 0) return -1;
  return classes == 1 && label_count(ctx) == 2 ? 2 : classes;
}

void check_coefficients(const OpContext& ctx, int64_t outputs, int64_t c) {
  const int64_t k = static_cast<int64_t>(attr_count(ctx, "coefficients"));
  if (!ctx.has_attr("coefficients")) ctx.fail("coefficients are required");
  if (c > 0 && outputs > 0 && k != mul_sat(outputs, c))
    ctx.fail(std::to_string(k) + " coefficients for " + std::to_string(outputs) + " outputs x " +
             std::to_string(c) + " features");
}

int64_t coefficient_rows(const OpContext& ctx) {  // classes that carry coefficients (1 in the binary form)
  const int64_t i = static_cast<int64_t>(attr_count(ctx, "intercepts"));
  return i > 0 ? i : -1;
}

void infer_linear_classifier(OpContext& ctx) {
  const Rows r = rows_of(ctx, false);
  check_coefficients(ctx, coefficient_rows(ctx), r.c);
  set_output(ctx, 0, label_type(ctx), data_input(ctx).rank_known, {r.n});
  set_output(ctx, 1, onnx::kFloat, data_input(ctx).rank_known, {r.n, linear_classes(ctx, r.c)});
}

// MACs = N x rows of coefficients x C; FLOPs = 2 x MACs + intercept adds + post_transform per score + the
// label's argmax (one compare per score).
Cost cost_linear_classifier(const OpContext& ctx) {
  const Rows r = rows_of(ctx, false);
  const int64_t e = linear_classes(ctx, r.c);
  if (r.n < 0 || r.c < 0 || e < 0) return {0, 0, false};
  const int64_t k = static_cast<int64_t>(attr_count(ctx, "coefficients"));  // rows x C
  const int64_t macs = mul_sat(r.n, k);
  const int64_t scores = mul_sat(r.n, e);
  int64_t flops = mul_sat(macs, cost::kFlopsPerMac);
  if (ctx.has_attr("intercepts")) flops = add_sat(flops, mul_sat(r.n, coefficient_rows(ctx)));
  flops = add_sat(flops, mul_sat(scores, post_transform_flops(ctx) + 1));
  return {macs, flops, true};
}

// ---- LinearRegressor: X [N, C] -> Y [N, targets].
int64_t regressor_targets(const OpContext& ctx) {
  const int64_t t = ctx.attr_int("targets", 1);
  if (t < 1) ctx.fail("targets must be >= 1, got " + std::to_string(t));
  return t;
}

void infer_linear_regressor(OpContext& ctx) {
  const Rows r = rows_of(ctx, false);
  const int64_t t = regressor_targets(ctx);
  check_coefficients(ctx, t, r.c);
  set_output(ctx, 0, onnx::kFloat, data_input(ctx).rank_known, {r.n, t});
}

// MACs = N x targets x C; FLOPs = 2 x MACs + intercept adds + post_transform per target.
Cost cost_linear_regressor(const OpContext& ctx) {
  const Rows r = rows_of(ctx, false);
  const int64_t t = regressor_targets(ctx);
  if (r.n < 0 || r.c < 0) return {0, 0, false};
  const int64_t macs = mul_sat(mul_sat(r.n, t), r.c);
  const int64_t outs = mul_sat(r.n, t);
  int64_t flops = mul_sat(macs, cost::kFlopsPerMac);
  if (ctx.has_attr("intercepts")) flops = add_sat(flops, outs);
  flops = add_sat(flops, mul_sat(outs, post_transform_flops(ctx)));
  return {macs, flops, true};
}

// ---- SVMClassifier / SVMRegressor: support vectors V x F (SVC mode) or, without them, a linear model.
struct Svm {
  int64_t classes = 1;      // class labels (classifier), 1 (regressor)
  int64_t vectors = 0;      // support vectors V; 0 = linear mode
  int64_t features = -1;    // F
  int64_t kernel_flops = 0; // per kernel value after the dot product / distance
  int64_t scores = -1;      // E, the classifier's scores per row
};

Svm parse_svm(const OpContext& ctx, int64_t c) {
  Svm m;
  const bool classifier = ctx.node().op_type == "SVMClassifier";
  if (classifier) {
    m.classes = static_cast<int64_t>(label_count(ctx));
    if (m.classes < 1) ctx.fail("classlabels_ints or classlabels_strings is required");
    for (int64_t v : ctx.attr_ints("vectors_per_class")) {
      if (v < 0) ctx.fail("vectors_per_class must be >= 0");
      m.vectors = add_sat(m.vectors, v);
    }
  } else {
    m.vectors = ctx.attr_int("n_supports", 0);
    if (m.vectors < 0) ctx.fail("n_supports must be >= 0");
  }
  const int64_t coefficients = static_cast<int64_t>(attr_count(ctx, "coefficients"));
  if (coefficients == 0) ctx.fail("coefficients are required");
  if (m.vectors > 0) {
    m.features = static_cast<int64_t>(attr_count(ctx, "support_vectors")) / m.vectors;
    // kernel(x, sv) after the dot product (or squared distance): LINEAR none, POLY gamma, + coef0, pow;
    // RBF gamma, exp; SIGMOID gamma, + coef0, tanh
    const std::string_view k = ctx.attr_string("kernel_type", "LINEAR");
    if (k == "LINEAR") m.kernel_flops = 0;
    else if (k == "POLY" || k == "SIGMOID") m.kernel_flops = 3;
    else if (k == "RBF") m.kernel_flops = 2;
    else ctx.fail("unknown kernel_type '" + std::string(k) + "'");
  } else {
    m.features = coefficients / m.classes;
  }
  if (c >= 0 && m.features >= 0 && c != m.features)
    ctx.fail("X has " + std::to_string(c) + " features, the model " + std::to_string(m.features));
  // onnxruntime's Z: one score per class, except SVC mode without probabilities (prob_a): one per class pair
  // (2 for a binary model)
  m.scores = m.classes;
  if (classifier && m.vectors > 0 && !ctx.has_attr("prob_a"))
    m.scores = m.classes > 2 ? m.classes * (m.classes - 1) / 2 : 2;
  return m;
}

void infer_svm_classifier(OpContext& ctx) {
  const Rows r = rows_of(ctx, false);
  const Svm m = parse_svm(ctx, r.c);
  const bool known = data_input(ctx).rank_known;
  set_output(ctx, 0, label_type(ctx), known, {r.n});
  set_output(ctx, 1, onnx::kFloat, known, {r.n, m.scores});
}

void infer_svm_regressor(OpContext& ctx) {
  const Rows r = rows_of(ctx, false);
  parse_svm(ctx, r.c);
  set_output(ctx, 0, onnx::kFloat, data_input(ctx).rank_known, {r.n, 1});
}

// SVC mode: MACs = N x V x F (kernel dot products or distances) + N x (classes - 1) x V (every class pair sums
// the coefficients of its two classes' vectors; the regressor: N x V); FLOPs = 2 x MACs + the kernel function
// per kernel value + rho per pair + post_transform per score. Linear mode: MACs = N x classes x F.
Cost cost_svm(const OpContext& ctx) {
  const Rows r = rows_of(ctx, false);
  if (r.n < 0) return {0, 0, false};
  const Svm m = parse_svm(ctx, r.c);
  if (m.features < 0) return {0, 0, false};
  const bool classifier = ctx.node().op_type == "SVMClassifier";
  const int64_t pairs = classifier ? m.classes * (m.classes - 1) / 2 : 1;
  int64_t macs, flops;
  if (m.vectors > 0) {
    const int64_t kernels = mul_sat(r.n, m.vectors);
    const int64_t sums = mul_sat(kernels, classifier ? std::max<int64_t>(m.classes - 1, 1) : 1);
    macs = add_sat(mul_sat(kernels, m.features), sums);
    flops = add_sat(mul_sat(macs, cost::kFlopsPerMac), mul_sat(kernels, m.kernel_flops));
    flops = add_sat(flops, mul_sat(r.n, pairs));  // rho
  } else {
    macs = mul_sat(mul_sat(r.n, m.classes), m.features);
    flops = add_sat(mul_sat(macs, cost::kFlopsPerMac), mul_sat(r.n, m.classes));
  }
  flops = add_sat(flops, mul_sat(mul_sat(r.n, classifier ? m.scores : 1), post_transform_flops(ctx)));
  return {macs, flops, true};
}

// ---- Tree ensembles. Compares per row = the sum over trees of the depth of the tree's deepest path (the
// number of branch nodes on it): a row visits one root-to-leaf path per tree, at most that long.

// ai.onnx.ml-3 TreeEnsembleClassifier / Regressor: nodes named by (tree id, node id), modes "LEAF" or a branch.
int64_t sum_of_depths_v3(const OpContext& ctx) {
  const std::vector<int64_t> trees = ctx.attr_ints("nodes_treeids");
  const std::vector<int64_t> ids = ctx.attr_ints("nodes_nodeids");
  const std::vector<int64_t> yes = ctx.attr_ints("nodes_truenodeids");
  const std::vector<int64_t> no = ctx.attr_ints("nodes_falsenodeids");
  const onnx::Attribute* modes = ctx.attr("nodes_modes");
  const size_t n = trees.size();
  if (ids.size() != n || yes.size() != n || no.size() != n || !modes || modes->strings.size() != n)
    ctx.fail("nodes_treeids, nodes_nodeids, nodes_modes, nodes_truenodeids and nodes_falsenodeids must have "
             "the same length");
  auto key = [](int64_t tree, int64_t id) { return std::to_string(tree) + ":" + std::to_string(id); };
  std::unordered_map<std::string, size_t> index;
  index.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (!index.emplace(key(trees[i], ids[i]), i).second)
      ctx.fail("node " + std::to_string(ids[i]) + " of tree " + std::to_string(trees[i]) + " is listed twice");
  std::vector<char> is_branch(n), is_child(n);
  std::vector<std::pair<size_t, size_t>> children(n, {SIZE_MAX, SIZE_MAX});
  for (size_t i = 0; i < n; ++i) {
    is_branch[i] = modes->strings[i] != "LEAF";
    if (!is_branch[i]) continue;
    auto child = [&](int64_t id) {
      auto it = index.find(key(trees[i], id));
      if (it == index.end())
        ctx.fail("node " + std::to_string(ids[i]) + " of tree " + std::to_string(trees[i]) + " points to missing node " +
                 std::to_string(id));
      is_child[it->second] = 1;
      return it->second;
    };
    children[i] = {child(yes[i]), child(no[i])};
  }
  // level by level from the roots (nodes nobody points to); a node is visited once, so cycles end
  std::vector<char> seen(n);
  std::vector<size_t> level, next;
  for (size_t i = 0; i < n; ++i)
    if (!is_child[i]) level.push_back(i), seen[i] = 1;
  std::unordered_map<int64_t, int64_t> depth;  // tree id -> branch levels
  for (int64_t l = 1; !level.empty(); ++l) {
    next.clear();
    for (size_t i : level) {
      if (!is_branch[i]) continue;
      depth[trees[i]] = l;
      for (size_t c : {children[i].first, children[i].second})
        if (!seen[c]) seen[c] = 1, next.push_back(c);
    }
    level.swap(next);
  }
  int64_t sum = 0;
  for (const auto& [tree, d] : depth) sum = add_sat(sum, d);
  return sum;
}

// ai.onnx.ml-5 TreeEnsemble: tree_roots index the node arrays; a child is a leaf when its *_leafs flag is set.
int64_t sum_of_depths_v5(const OpContext& ctx) {
  const std::vector<int64_t> roots = ctx.attr_ints("tree_roots");
  const std::vector<int64_t> yes = ctx.attr_ints("nodes_truenodeids");
  const std::vector<int64_t> no = ctx.attr_ints("nodes_falsenodeids");
  const std::vector<int64_t> yes_leaf = ctx.attr_ints("nodes_trueleafs");
  const std::vector<int64_t> no_leaf = ctx.attr_ints("nodes_falseleafs");
  const size_t n = yes.size();
  if (no.size() != n || yes_leaf.size() != n || no_leaf.size() != n)
    ctx.fail("nodes_truenodeids, nodes_falsenodeids, nodes_trueleafs and nodes_falseleafs must have the same length");
  auto node = [&](int64_t i) {
    if (i < 0 || static_cast<size_t>(i) >= n) ctx.fail("node index " + std::to_string(i) + " out of range");
    return static_cast<size_t>(i);
  };
  std::vector<size_t> seen_by(n, SIZE_MAX);  // the tree that visited a node: each node once per tree
  std::vector<size_t> level, next;
  int64_t sum = 0;
  for (size_t t = 0; t < roots.size(); ++t) {
    level.assign(1, node(roots[t]));
    seen_by[level[0]] = t;
    int64_t depth = 0;
    while (!level.empty()) {
      ++depth;
      next.clear();
      for (size_t i : level)
        for (auto [leaf, child] : {std::pair{yes_leaf[i], yes[i]}, std::pair{no_leaf[i], no[i]}})
          if (!leaf && seen_by[node(child)] != t) seen_by[node(child)] = t, next.push_back(node(child));
      level.swap(next);
    }
    sum = add_sat(sum, depth);
  }
  return sum;
}

// TreeEnsembleClassifier: Y labels [N], Z [N, number of class labels].
void infer_tree_classifier(OpContext& ctx) {
  const Rows r = rows_of(ctx, true);
  const bool known = data_input(ctx).rank_known;
  const size_t labels = label_count(ctx);
  if (labels == 0) ctx.fail("classlabels_int64s or classlabels_strings is required");
  set_output(ctx, 0, label_type(ctx), known, {r.n});
  set_output(ctx, 1, onnx::kFloat, known, {r.n, static_cast<int64_t>(labels)});
}

// TreeEnsembleRegressor / TreeEnsemble: Y [N, n_targets].
int64_t tree_targets(const OpContext& ctx) {
  const int64_t t = ctx.attr_int("n_targets", 1);
  if (t < 1) ctx.fail("n_targets must be >= 1, got " + std::to_string(t));
  return t;
}
void infer_tree_regressor(OpContext& ctx) {
  const Rows r = rows_of(ctx, true);
  const Value& x = data_input(ctx);
  // TreeEnsemble (opset 5) keeps X's type; TreeEnsembleRegressor gives float
  const int32_t t = ctx.node().op_type == "TreeEnsemble" ? x.dtype : onnx::kFloat;
  set_output(ctx, 0, t, x.rank_known, {r.n, tree_targets(ctx)});
}

// FLOPs = N x sum of tree depths (compares) + post_transform per score (+ the label's argmax per score for
// classifiers); 0 MACs. Leaf-weight sums (at most one add per tree and target) are not counted.
Cost cost_tree_ensemble(const OpContext& ctx) {
  const Rows r = rows_of(ctx, true);
  const Value* scores = ctx.output(ctx.node().op_type == "TreeEnsembleClassifier" ? 1 : 0);
  if (r.n < 0) return {0, 0, false};
  const int64_t depths = ctx.node().op_type == "TreeEnsemble" ? sum_of_depths_v5(ctx) : sum_of_depths_v3(ctx);
  int64_t flops = mul_sat(r.n, depths);
  if (scores && scores->shape_known()) {
    const int64_t per_score = post_transform_flops(ctx) + (ctx.node().op_type == "TreeEnsembleClassifier" ? 1 : 0);
    flops = add_sat(flops, mul_sat(product(scores->dims), per_score));
  }
  return {0, flops, true};
}

// ---- elementwise: output of X's shape.
void infer_same_shape_float(OpContext& ctx) {
  const Value& x = data_input(ctx);
  set_output(ctx, 0, onnx::kFloat, x.rank_known, x.dims);
}

// Normalizer: rows of X [N, C] (or [C]) scaled by their MAX / L1 / L2 norm.
void infer_normalizer(OpContext& ctx) {
  rows_of(ctx, false);
  infer_same_shape_float(ctx);
}
// MAX: compare, divide (2); L1: abs, add, divide (3); L2: square, add, divide (3); per-row roots ignored.
Cost cost_normalizer(const OpContext& ctx) {
  const std::string_view norm = ctx.attr_string("norm", "MAX");
  if (norm != "MAX" && norm != "L1" && norm != "L2") ctx.fail("unknown norm '" + std::string(norm) + "'");
  return per_element(ctx.input(0), norm == "MAX" ? 2 : 3);
}

Cost cost_scaler(const OpContext& ctx) { return per_element(ctx.input(0), 2); }      // subtract offset, scale
Cost cost_one_per_element(const OpContext& ctx) { return per_element(ctx.input(0), 1); }  // compare(-select)

// LabelEncoder: X's shape, the type of the values.
void infer_label_encoder(OpContext& ctx) {
  const Value& x = data_input(ctx);
  int32_t t = 0;
  if (ctx.has_attr("values_strings")) t = onnx::kString;
  else if (ctx.has_attr("values_int64s")) t = onnx::kInt64;
  else if (ctx.has_attr("values_floats")) t = onnx::kFloat;
  else if (const onnx::Attribute* v = ctx.attr("values_tensor"); v && !v->tensors.empty()) t = v->tensors[0].data_type;
  set_output(ctx, 0, t, x.rank_known, x.dims);
}

// OneHotEncoder: X's dims + [number of categories], float.
void infer_one_hot_encoder(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const size_t cats = std::max(attr_count(ctx, "cats_int64s"), attr_count(ctx, "cats_strings"));
  if (cats == 0) ctx.fail("cats_int64s or cats_strings is required");
  std::vector<int64_t> d = x.dims;
  d.push_back(static_cast<int64_t>(cats));
  set_output(ctx, 0, onnx::kFloat, x.rank_known, d);
}

// ArrayFeatureExtractor: X [..., C], indices Y -> X's dims with the last one = number of indices ([1, k] for a
// 1-D X), as onnxruntime.
void infer_array_feature_extractor(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const Value* y = ctx.input(1);
  if (!y) ctx.fail("missing input Y (indices)");
  if (!x.rank_known) return set_output(ctx, 0, x.dtype, false, {});
  if (x.dims.empty()) ctx.fail("X must have rank >= 1");
  const int64_t k = y->rank_known ? product(y->dims) : -1;
  std::vector<int64_t> d = x.dims;
  if (d.size() == 1) d.insert(d.begin(), 1);
  d.back() = k;
  set_output(ctx, 0, x.dtype, true, d);
}

// FeatureVectorizer: inputs [N, C_i] -> [N, sum(inputdimensions)] float.
void infer_feature_vectorizer(OpContext& ctx) {
  const Value& x = data_input(ctx);
  const std::vector<int64_t> dims = ctx.attr_ints("inputdimensions");
  if (dims.size() != ctx.num_inputs())
    ctx.fail(std::to_string(dims.size()) + " inputdimensions for " + std::to_string(ctx.num_inputs()) + " inputs");
  int64_t total = 0;
  for (int64_t d : dims) {
    if (d < 0) ctx.fail("inputdimensions must be >= 0");
    total = add_sat(total, d);
  }
  const int64_t n = !x.rank_known ? -1 : x.dims.size() <= 1 ? 1 : x.dims[0];
  set_output(ctx, 0, onnx::kFloat, true, {n, total});
}

// ZipMap: a sequence of maps (class label -> score); not a tensor, so no shape.
void infer_zip_map(OpContext& ctx) { set_output(ctx, 0, 0, false, {}); }

// CastMap: map -> [1, map size] (DENSE, unknown here) or [1, max_map] (SPARSE), of the cast_to type.
void infer_cast_map(OpContext& ctx) {
  const std::string_view to = ctx.attr_string("cast_to", "TO_FLOAT");
  int32_t t = onnx::kFloat;
  if (to == "TO_STRING") t = onnx::kString;
  else if (to == "TO_INT64") t = onnx::kInt64;
  else if (to != "TO_FLOAT") ctx.fail("unknown cast_to '" + std::string(to) + "'");
  const bool sparse = ctx.attr_string("map_form", "DENSE") == "SPARSE";
  const int64_t max_map = ctx.attr_int("max_map", 1);
  if (sparse && max_map < 1) ctx.fail("max_map must be >= 1");
  set_output(ctx, 0, t, true, {1, sparse ? max_map : -1});
}

// DictVectorizer: map -> [1, vocabulary size], of the map's value type (not known here).
void infer_dict_vectorizer(OpContext& ctx) {
  const size_t v = std::max(attr_count(ctx, "string_vocabulary"), attr_count(ctx, "int64_vocabulary"));
  set_output(ctx, 0, 0, true, {1, static_cast<int64_t>(v)});
}

}  // namespace

void register_ml(OpRegistry& r) {
  // Coefficients, tree nodes and vocabularies are attributes; no input holds weights.
  constexpr uint64_t kNoParams = 0;
  r.add(kMl, "LinearClassifier", OpDef{infer_linear_classifier, cost_linear_classifier, kNoParams});
  r.add(kMl, "LinearRegressor", OpDef{infer_linear_regressor, cost_linear_regressor, kNoParams});
  r.add(kMl, "SVMClassifier", OpDef{infer_svm_classifier, cost_svm, kNoParams});
  r.add(kMl, "SVMRegressor", OpDef{infer_svm_regressor, cost_svm, kNoParams});
  r.add(kMl, "TreeEnsembleClassifier", OpDef{infer_tree_classifier, cost_tree_ensemble, kNoParams});
  r.add(kMl, "TreeEnsembleRegressor", OpDef{infer_tree_regressor, cost_tree_ensemble, kNoParams});
  r.add(kMl, "TreeEnsemble", OpDef{infer_tree_regressor, cost_tree_ensemble, kNoParams});
  r.add(kMl, "Normalizer", OpDef{infer_normalizer, cost_normalizer, kNoParams});
  r.add(kMl, "Scaler", OpDef{infer_same_shape_float, cost_scaler, kNoParams});
  r.add(kMl, "Binarizer", OpDef{infer_same_as_input0, cost_one_per_element, kNoParams});
  r.add(kMl, "Imputer", OpDef{infer_same_as_input0, cost_one_per_element, kNoParams});
  r.add(kMl, "LabelEncoder", OpDef{infer_label_encoder, nullptr, kNoParams});
  r.add(kMl, "OneHotEncoder", OpDef{infer_one_hot_encoder, nullptr, kNoParams});
  r.add(kMl, "ArrayFeatureExtractor", OpDef{infer_array_feature_extractor, nullptr, kNoParams});
  r.add(kMl, "FeatureVectorizer", OpDef{infer_feature_vectorizer, nullptr, kNoParams});
  r.add(kMl, "ZipMap", OpDef{infer_zip_map, nullptr, kNoParams});
  r.add(kMl, "CastMap", OpDef{infer_cast_map, nullptr, kNoParams});
  r.add(kMl, "DictVectorizer", OpDef{infer_dict_vectorizer, nullptr, kNoParams});
}

}  // namespace netscore::graph
