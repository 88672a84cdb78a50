// Op definitions of the matrix kernels (runtime/kernels/matrix.cc), in REGISTER_OP notation.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {

std::vector<std::string> matrix_op_specs() { return {}; }

}  // namespace tffreeze::graph
