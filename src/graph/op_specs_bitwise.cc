// Op definitions of the bitwise kernels (runtime/kernels/bitwise.cc), in REGISTER_OP notation.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {

std::vector<std::string> bitwise_op_specs() { return {}; }

}  // namespace tffreeze::graph
