// Op definitions kept beside their kernel families, one file each (op_specs_<family>.cc);
// op_specs.cc adds them all to the built-in registry.
#pragma once

#include <string>
#include <vector>

namespace tffreeze::graph {

// Adding a family is one word here: op_specs.cc reads them all from this list.
#define TFFREEZE_OP_SPEC_FAMILIES(X) X(bitwise) X(indexing) X(matrix) X(special) X(sparse) X(volume)
#define TFFREEZE_DECLARE_OP_SPEC_FAMILY(family) std::vector<std::string> family##_op_specs();
TFFREEZE_OP_SPEC_FAMILIES(TFFREEZE_DECLARE_OP_SPEC_FAMILY)
#undef TFFREEZE_DECLARE_OP_SPEC_FAMILY

}  // namespace tffreeze::graph
