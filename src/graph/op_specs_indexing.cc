// Op definitions of the indexing kernels (runtime/kernels/indexing.cc), in REGISTER_OP notation.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {

std::vector<std::string> indexing_op_specs() { return {}; }

}  // namespace tffreeze::graph
