// Op definitions kept beside their kernel families, one file each (op_specs_<family>.cc);
// op_specs.cc adds them all to the built-in registry.
#pragma once

#include <string>
#include <vector>

namespace tffreeze::graph {

std::vector<std::string> bitwise_op_specs();
std::vector<std::string> indexing_op_specs();
std::vector<std::string> matrix_op_specs();
std::vector<std::string> special_op_specs();
std::vector<std::string> sparse_op_specs();
std::vector<std::string> volume_op_specs();

}  // namespace tffreeze::graph
