// Filling in attributes that old producers omitted (Conv2D's dilations, data_format, ...) from
// the op definitions, so that every consumer (TF.js, OpenCV, TensorRT) reads the graph the
// same way TensorFlow does.
#pragma once

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

// Adds each missing attr that has a default, on nodes of known ops. Returns how many.
int add_default_attributes(tffreeze::tf::GraphDef* graph);

}  // namespace tffreeze::graph
