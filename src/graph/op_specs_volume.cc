// Op definitions of the volume kernels (runtime/kernels/volume.cc), in REGISTER_OP notation.
#include "graph/op_specs_families.h"

namespace tffreeze::graph {

std::vector<std::string> volume_op_specs() { return {}; }

}  // namespace tffreeze::graph
