// The TF -> TF stage of the ONNX export: the graph the exporter maps one op to one is prepared
// (fused TF ops split, loops with a static trip count unrolled and their lists lowered, constants
// folded so axes and shapes are constants) and then moved to the NCHW frame (to_nchw). The
// result computes what the input does; the CLI proves it on the executor before exporting.
#pragma once

#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::onnx_export {

struct Layout {
  std::vector<std::string> inputs_as_nchw, outputs_as_nchw;
};

// Rewrites `graph` in place; returns, for each Transpose the layout change kept, why it stays.
std::vector<std::string> prepare_for_onnx(tffreeze::tf::GraphDef* graph, const std::vector<std::string>& outputs, const Layout& layout = {});

}  // namespace tffreeze::onnx_export
