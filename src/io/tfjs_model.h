// TensorFlow.js graph models: model.json (a GraphDef in protobuf JSON, plus a weights
// manifest) and its binary weight shards.
#pragma once

#include <string>

#include "tffreeze/tf/meta_graph.pb.h"

namespace tffreeze::io {

// Returns a MetaGraphDef whose graph has every weight as a real Const tensor (float16 and
// uint8/uint16-quantized weights dequantized to their original dtype) and whose
// "serving_default" signature is the model's signature, if it has one.
tffreeze::tf::MetaGraphDef load_tfjs_graph_model(const std::string& json_path);

// Writes a frozen graph as a TF.js graph model: JSON_PATH (model.json) and, beside it,
// "<stem>.weights.bin" with every Const's values (float64 narrowed to float32 and int64 to int32,
// as TF.js holds them). Throws Error (exit 4) for constants of dtypes TF.js cannot hold.
void save_tfjs_graph_model(const tffreeze::tf::GraphDef& graph, const std::string& json_path);

}  // namespace tffreeze::io
