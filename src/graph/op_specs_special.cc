// Op definitions of the special kernels (runtime/kernels/special.cc), in REGISTER_OP notation.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {

std::vector<std::string> special_op_specs() { return {}; }

}  // namespace tffreeze::graph
