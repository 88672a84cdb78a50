#include "api/save.h"

#include "common/file_util.h"
#include "graph/default_attrs.h"
#include "io/model.h"

namespace tffreeze::api {

void save_tf_graph(tf::GraphDef graph, const std::string& output, std::ostream& log) {
  if (extension(output) == ".json") {
    // TF.js reads attrs that old producers omitted (Conv2D's dilations...): fill defaults.
    int added = graph::add_default_attributes(&graph);
    if (added) log << "filled " << added << " default attributes for TF.js\n";
  }
  io::save_graph(graph, output);
  if (output != "-") log << "wrote " << output << " (" << graph.node_size() << " nodes)\n";
}

}  // namespace tffreeze::api
