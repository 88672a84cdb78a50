// add_default_attributes: fill in attributes old producers omitted (Conv2D's dilations,
// data_format, ...) from the op definitions, so TF.js, OpenCV and TensorRT read the graph as
// TensorFlow does.
#include "graph/default_attrs.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport add_default_attributes(tf::GraphDef* graph, const PassContext&) {
  PassReport report;
  report.changed = graph::add_default_attributes(graph);
  return report;
}

}  // namespace

void register_add_default_attributes(PassRegistry& r) {
  r.add("add_default_attributes", add_default_attributes, "fill in attrs that old producers omitted, from the op definitions");
}

}  // namespace tffreeze::passes
