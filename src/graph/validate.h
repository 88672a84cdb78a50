// Structural validation of a GraphDef: what TensorFlow's importer would reject, plus values
// that could not be loaded safely. Each problem is one line naming the node.
#pragma once

#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

// Problems found, one line each; empty when the graph is valid. Checks: unique non-empty node
// names, every data and control input exists, control inputs after data inputs, output
// indices within the op's outputs (known ops and library functions), each data input of the
// dtype the op takes there (known ops), no cycle outside v1 while
// loops, attributes of known ops (present when required, of the declared type, allowed values,
// minimums), Const tensors consistent with their shape, referenced functions exist, and the
// same for every function body in the library.
std::vector<std::string> validate_graph(const tffreeze::tf::GraphDef& graph);

// An invalid input graph is the user's (exit 3, naming `source` and the first problem); the
// passes and exporters after this are then never blamed for it.
void refuse_invalid_input(const tffreeze::tf::GraphDef& graph, const std::string& source);

}  // namespace tffreeze::graph
