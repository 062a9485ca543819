// Spatial resampling and rearrangement: Resize, Upsample, DepthToSpace, SpaceToDepth, GridSample.
#include "graph/ops/families.h"

namespace netscore::graph {

void register_resize(OpRegistry& r) {}

}  // namespace netscore::graph
