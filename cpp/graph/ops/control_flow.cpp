// If, Loop and Scan: listed in the registry so that supported_ops() names them; the walker walks their
// subgraphs itself (control_flow_walk.cpp), so these functions only guard a stray direct call.
#include "graph/ops/families.h"

namespace netscore::graph {

namespace {
void walked_by_the_walker(OpContext& c) { c.unsupported("a control-flow op outside the walker"); }
}  // namespace

void register_control_flow(OpRegistry& r) {
  OpDef def;
  def.infer = walked_by_the_walker;
  def.param_inputs = 0;  // a Loop's initial values and an If's condition are not weights
  for (const char* op : {"If", "Loop", "Scan"}) r.add("", op, def);
}

}  // namespace netscore::graph
