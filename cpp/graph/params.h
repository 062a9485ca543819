// Params: which constant inputs are weights, and the root constants each constant value derives from.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "graph/analysis.h"
#include "graph/op_registry.h"

namespace netscore::graph::walk {

// - Params: counted on *root* constants (initializers, Constant and ConstantOfShape outputs). A constant
//   value carries the roots it derives from through the param positions (OpDef::param_inputs) of folded
//   nodes, so Identity aliases, Transpose/Reshape of weights and DequantizeLinear(int8 W) all lead back
//   to one root. A root counts once, for the first compute node that reads something derived from it at a
//   param position: elements = the root's numel, weight bytes = ceil(numel * element_bits(root dtype) / 8)
//   (an int8 QDQ model counts one byte per weight). Not params: scalars (numel <= 1, e.g. GELU's 0.5 or
//   LayerNorm's epsilon exported as constants), integer-typed roots unless the op reading them (or a folded
//   op they pass through at a param position) declares OpDef::integer_weights (quantized ops) — folded pure
//   data-movement ops (no cost function) pass integer roots on unchanged. An unsupported op counts every
//   floating-point root of its constant inputs. BatchNormalization running statistics
//   (OpDef::stat_inputs) are params and are also summed into Profile::bn_stat_params.
// - Data the graph makes from shapes is not a param: a folded value is *shape-derived* when a node computed
//   it from the dims of a non-constant input (Shape, Size, ...) or from another shape-derived value. Such a
//   value carries no roots of its own making: a ConstantOfShape whose shape is shape-derived (YOLO stride
//   and anchor tables, attention masks sized by the input) is not a root, so params never change with the
//   input size. Range and EyeLike outputs carry no roots either (param_inputs = 0). A ConstantOfShape of a
//   shape written in the file (a weight placeholder of a stripped model) stays a root. Roots reached
//   through a shape-derived value (Reshape(W, Shape(x)), Expand of a weight) still count, once.
// - Only weights that can change a graph output count: a node input slot is *live* when the node has a
//   live output (a graph output, or an input of a live node, or a name a live node's subgraph reads). A
//   BatchNormalization in training mode computes Y from the batch statistics, so its mean and var inputs
//   are live only when its running-statistics outputs are (timm's weight standardisation, exported by the
//   TorchScript exporter as a training-mode BatchNormalization on the weight, passes a transposed copy of
//   every conv weight there). Dead nodes and dead slots count no params.
// - Exporter-made data is not a param: an exporter that knows the input's size may store what the model
//   computes from it (the additive attention mask of a BERT or a causal LM, the dynamo exporter's lifted
//   constants, the TorchScript exporter's rotary angle tables) as a plain tensor. find_exporter_data
//   recognises such tensors by shape, values and readers; they count no params, by default.
// - A table pushed through a layer is data: a folded product (OpDef::product: Conv, ConvTranspose, Gemm,
//   MatMul, all inputs constant) whose data operand (input 0) holds more elements than its weight (input 1)
//   passes on the weight's roots only. The data operand is a table the model computes from positions
//   (ConViT's rel_indices, Swin v2's log-spaced coordinates through its position-bias MLP, EdgeNeXt's Fourier
//   encoding), stored by the exporter; a learned query read as a product's data operand (SigLIP's pooling
//   probe, 1 x 768 against a 768 x 768 weight) is smaller than the weight and still counts.
class ParamCounter {
 public:
  // Sized for `capacity` values (every value the walk adds), before any set_roots.
  void reserve(size_t capacity, size_t roots) {
    roots_begin_.assign(capacity, 0);
    roots_count_.assign(capacity, 0);
    shape_derived_.assign(capacity, 0);
    root_pool_.reserve(roots);
  }
  // Before the walk: nothing counted yet among the first `num_values` values.
  void start(size_t num_values) {
    counted_.assign(num_values, 0);
    integer_admitted_.assign(num_values, 0);
  }

  // Constant value `id` derives from `roots` (a root itself: its own id).
  void set_roots(uint32_t id, const uint32_t* roots, size_t count) {
    roots_begin_[id] = static_cast<uint32_t>(root_pool_.size());
    roots_count_[id] = static_cast<uint32_t>(count);
    for (size_t i = 0; i < count; ++i) root_pool_.push_back(roots[i]);  // mostly 0 or 1 roots
  }

  // Subgraphs (If branches, Loop / Scan bodies) import outer constants as roots of their own: an outer
  // constant whose roots were all counted is counted in the subgraph already; one the subgraph counted has
  // its roots counted here, so each weight counts once across the graph and its subgraphs.
  bool roots_counted(uint32_t id) const {
    for (uint32_t j = 0; j < roots_count_[id]; ++j)
      if (!counted_[root_pool_[roots_begin_[id] + j]]) return false;
    return true;
  }
  void mark_roots_counted(uint32_t id) {
    for (uint32_t j = 0; j < roots_count_[id]; ++j) counted_[root_pool_[roots_begin_[id] + j]] = 1;
  }
  bool counted(uint32_t root) const { return counted_[root] != 0; }
  void mark_counted(uint32_t root) { counted_[root] = 1; }

  // An outer value imported into a subgraph as `id`: a constant is a root of the subgraph walk (see
  // roots_counted), and it keeps the outer walk's shape-derived mark.
  void import_outer(uint32_t id, const ParamCounter& outer, uint32_t outer_id, bool is_const) {
    if (is_const) set_roots(id, &id, 1);
    shape_derived_[id] = outer.shape_derived_[outer_id];
  }

  // The roots and the shape-derived mark of a folded node's outputs. `makes_root`: Constant or
  // ConstantOfShape, whose outputs are roots unless shape-derived. `in_ids` / `out_ids`: the node's value
  // ids (kNone for an omitted one); `scratch` is reused between calls.
  // `first_slot`: the node's first input slot; roots flow only from live slots.
  void fold(const OpDef* def, bool makes_root, const uint32_t* in_ids, size_t num_inputs, const uint32_t* out_ids,
            size_t num_outputs, const std::vector<Value>& values, std::vector<uint32_t>& scratch, size_t first_slot);

  bool shape_derived(uint32_t id) const { return shape_derived_[id] != 0; }

  // Options::dedupe_weights: stored tensors (initializers and Constant nodes' values; raw_data, more than
  // one element) with the same type and the same elements, in the same order or another (a transposed
  // copy), count once: each gets the id of the first of its kind. Only tensors of equal type and byte size
  // are compared (so never an int64 and a float32 of equal bytes); hashes first, then the bytes. A tensor
  // holding one value repeated (a zero bias, an all-ones or all-zero mask the exporter made) is no learned
  // weight and does not count. A tensor that stores values several times counts the ones that can differ:
  // slices along an axis all equal (one row broadcast: a folded token-type embedding) count one slice, and
  // last two axes constant along each diagonal (a relative-position bias table gathered by j - i and
  // folded) count one value per diagonal, and a tensor gathered from a smaller table by an index its
  // slices share (timm's eval-mode attention-bias caches) counts as the table (see distinct_elements and
  // gathered_table_values in params.cpp).
  void find_duplicates(const std::vector<onnx::Tensor>& initializers, const std::vector<onnx::Node>& nodes,
                       const std::function<uint32_t(std::string_view)>& find);

  // Constants an exporter computed from the input's size and stored as plain tensors, found from their values
  // whatever the options (see the class note): such roots are data, not params. An additive
  // attention mask: a floating-point tensor of shape (1, ..., 1, Lq, Lk) (rank >= 4, Lq and Lk >= 2) whose
  // every element is 0 or a large negative value (<= -1e30, the dtype's lowest, -inf), read only by Add or
  // Where. The scan stops at the first other element, so a learned weight costs one read; a zero-initialised
  // weight of another shape (a position embedding (1, N, D), a bias) is never a candidate. A table of
  // angles: a floating-point tensor (more than one element) read only by Sin and Cos (the rotary position
  // angles positions x inverse frequencies, folded by the TorchScript exporter); no values are read. A
  // sinusoidal table: a float32 / double tensor (L, D) (dims of 1 anywhere) whose columns are cos(p w) or
  // sin(p w) of the positions p (row 0 exactly 1 or 0, the rows after it on the cosine recurrence), read
  // only by Mul, Add or Gather (the dynamo exporter's rotary cosines and sines; fixed sinusoidal encodings,
  // which torch computes at init: buffers, or frozen parameters that checkpoints do not store).
  // Readers are checked first (no names, no values), then the shapes and last the values of the stored
  // tensors those readers allow, so the weights of MatMul, Conv, Gemm and normalisation layers are never read.
  // `in_begin` / `in_ids` and `out_begin` / `out_ids`: the walker's flattened node edges; initializer k is
  // value k (Walker::index_values adds the initializers first); `num_values`: the walk's values.
  void find_exporter_data(const std::vector<onnx::Tensor>& initializers, const std::vector<onnx::Node>& nodes,
                          const std::vector<size_t>& in_begin, const std::vector<uint32_t>& in_ids,
                          const std::vector<size_t>& out_begin, const std::vector<uint32_t>& out_ids,
                          size_t num_values);

  // Live input slots (see the class note), found once before the walk by a backward pass over `order`.
  // `in_begin` / `in_ids` and `out_begin` / `out_ids`: the walker's flattened node edges; `output_ids`:
  // the graph's outputs; `find`: a name's value id (kNone when unknown), for names subgraphs read. With
  // no output resolved, every slot is live.
  void find_live_slots(const std::vector<onnx::Node>& nodes, const std::vector<uint32_t>& order,
                       const std::vector<size_t>& in_begin, const std::vector<uint32_t>& in_ids,
                       const std::vector<size_t>& out_begin, const std::vector<uint32_t>& out_ids,
                       const std::vector<uint32_t>& output_ids, size_t num_values, int depth,
                       const std::function<uint32_t(std::string_view)>& find);

  // Roots that flow from a constant input at a param position into a folded node's outputs (appended to
  // `out` once each). `in_ids`: the node's input value ids (kNone for an omitted input).
  void propagate_roots(const OpDef* def, const uint32_t* in_ids, size_t num_inputs, const std::vector<Value>& values,
                       std::vector<uint32_t>& out, size_t first_slot);

  // Counts, into `layer` (and BN statistics into `bn_stat_params`), the roots behind a compute node's
  // constant inputs that no earlier node counted. `def` is null for an unsupported op. `first_slot`: the
  // node's first input slot (in_begin of the node), for the live-slot test.
  void count_params(const OpDef* def, const uint32_t* in_ids, size_t num_inputs, const std::vector<Value>& values,
                    Layer& layer, int64_t& bn_stat_params, size_t first_slot);

 private:
  static bool is_param_position(uint64_t mask, size_t pos) { return (mask >> (pos < 63 ? pos : 63)) & 1u; }

  // A folded product's data operand that is a table pushed through the layer (see the class note).
  static bool data_operand_is_table(const OpDef* def, const uint32_t* in_ids, size_t num_inputs,
                                    const std::vector<Value>& values);

  // Root constants each constant value derives from: roots_count_[id] ids at root_pool_[roots_begin_[id]].
  std::vector<uint32_t> roots_begin_, roots_count_, root_pool_;
  std::vector<char> exporter_data_;  // roots find_exporter_data found to be data (masks, angles), not weights
  std::vector<char> scratch_flags_;  // find_exporter_data: what each value's readers allow (reused)
  std::vector<char> uniform_;        // dedupe_weights: one value repeated
  std::vector<uint32_t> same_as_;   // dedupe_weights: the first initializer with the same elements
  std::vector<int64_t> distinct_;   // dedupe_weights: elements that can differ (0: all; see find_duplicates)
  std::vector<char> live_slot_;      // per flattened input slot; empty: every slot live
  std::vector<char> shape_derived_;  // folded from the dims of a non-constant value (see the class note)
  std::vector<char> counted_;
  std::vector<char> integer_admitted_;  // integer root that passed a folded integer-weight op
};

}  // namespace netscore::graph::walk
