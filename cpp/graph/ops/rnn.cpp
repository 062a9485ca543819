// Recurrent ops: LSTM, GRU, RNN.
#include "graph/ops/families.h"

namespace netscore::graph {

void register_rnn(OpRegistry& r) {}

}  // namespace netscore::graph
