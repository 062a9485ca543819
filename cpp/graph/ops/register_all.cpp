// default_registry(): every op family, registered explicitly, once.
#include "graph/ops/families.h"

namespace netscore::graph {

namespace {
OpRegistry build_registry() {
  OpRegistry r;
  register_shape_ops(r);
  register_indexing(r);
  register_concat_split_pad(r);
  register_constant(r);
  register_elementwise(r);
  register_conv(r);
  register_pool(r);
  register_linear(r);
  register_norm(r);
  register_reduce(r);
  register_resize(r);
  register_rnn(r);
  register_quantized(r);
  register_attention(r);
  register_ml(r);
  register_control_flow(r);
  return r;
}
}  // namespace

const OpRegistry& default_registry() {
  static const OpRegistry registry = build_registry();  // thread-safe initialisation (C++11 magic static)
  return registry;
}

}  // namespace netscore::graph
