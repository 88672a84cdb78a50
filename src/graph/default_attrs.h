// Filling in attributes that producers omitted, from the op definitions, so that every consumer
// (our validation and executor, TF.js, OpenCV, TensorRT) reads the graph the same way TensorFlow
// does: old producers leave out attrs that have defaults (Conv2D's dilations, data_format), and
// the TF.js converter writes its own ops (Prelu, FusedDepthwiseConv2dNative, _FusedConv2D,
// _FusedMatMul) without their type attr `T` or `num_args`.
#pragma once

#include <optional>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

// Adds each missing attr that has a default, on nodes of known ops. Returns how many.
int add_default_attributes(tffreeze::tf::GraphDef* graph);

// Adds what the inputs determine, on nodes of known ops: a missing type attr (`T`) from the
// dtype of the input it types, a missing list-of-types attr from its inputs' dtypes, and a
// missing count attr (`N`, `num_args`) from the number of data inputs. Repeats until nothing
// changes (a dtype can depend on an attr just inferred upstream). Returns how many.
int infer_attributes_from_inputs(tffreeze::tf::GraphDef* graph);

// The dtype of output `k` of a node, from its op definition and attrs (Const and Placeholder
// included); nullopt for unknown ops or missing attrs.
std::optional<tffreeze::tf::DataType> output_dtype(const tffreeze::tf::NodeDef& node, int k);
// The dtype a node's op takes at its data input `k`, from the op definition and the node's attrs;
// nullopt for unknown ops or missing attrs.
std::optional<tffreeze::tf::DataType> input_dtype(const tffreeze::tf::NodeDef& node, int k);

}  // namespace tffreeze::graph
