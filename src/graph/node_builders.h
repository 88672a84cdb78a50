// Nodes that rewrites create: constants and placeholders, with the attrs TensorFlow expects.
#pragma once

#include <string>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

tf::NodeDef make_const(const std::string& name, const Tensor& value);
tf::NodeDef make_const(const std::string& name, Tensor&& value);  // moves the payload
// shape: dims with -1 for unknown; unknown_rank for a placeholder of unknown rank.
tf::NodeDef make_placeholder(const std::string& name, tf::DataType dtype, const tf::TensorShapeProto& shape);

// Strips "_ref" from every type and list(type) attr (DT_FLOAT_REF -> DT_FLOAT).
void strip_ref_types(tf::NodeDef* node);

}  // namespace tffreeze::graph
