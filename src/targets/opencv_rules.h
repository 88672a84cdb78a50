// What OpenCV DNN 4.6's TensorFlow importer rejects beyond its op list, measured against Debian's
// libopencv-dnn (tests/opencv_truthfulness_test.cc runs every shared model and the conformance
// corpus through it): operand forms, dtypes, axes and attrs that make it fail to load, crash or
// compute other numbers.
#pragma once

#include <string>

#include "graph/graph_view.h"

namespace tffreeze::targets {

struct OpenCvRejection {
  std::string why, fix;  // empty why: accepted
};

// Node i of an optimized graph, as OpenCV 4.6 would take it.
OpenCvRejection opencv_rejects(const graph::GraphView& view, int i);

// Whether OpenCV would build any layer: a graph of constants and inputs alone has none.
bool opencv_has_layers(const graph::GraphView& view);

}  // namespace tffreeze::targets
