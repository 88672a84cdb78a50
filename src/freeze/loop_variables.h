// Variables captured by kept While loops (and kept Ifs) reach their functions as DT_RESOURCE
// arguments that the body reads with ReadVariableOp. Once the handle is a constant, the loop
// must carry the value instead: the node's type list and a copy of each function are
// specialized (argument and pass-through output typed as the value, reads become Identity).
#pragma once

#include <map>
#include <string>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::freeze {

namespace tf = ::tffreeze::tf;

// `frozen`: node name -> dtype of the Const that replaced a variable. Throws Error (exit 4) when a
// function uses such an argument other than by reading it or passing it on.
void specialize_frozen_loop_variables(tf::GraphDef* graph, const std::map<std::string, tf::DataType>& frozen);

}  // namespace tffreeze::freeze
