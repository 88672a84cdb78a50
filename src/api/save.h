// Writing a TF graph as `convert` does (and Python's Graph.save): by the output's extension,
// with the defaults TF.js needs filled in for a .json graph model.
#pragma once

#include <ostream>
#include <string>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::api {

// .pb, .pbtxt/.txt, "-" (text to stdout) or .json (TF.js); atomically. Says what it did on `log`.
void save_tf_graph(tf::GraphDef graph, const std::string& output, std::ostream& log);

}  // namespace tffreeze::api
