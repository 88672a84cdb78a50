// What `tffreeze inspect` reports about a model, as one JSON object (keys documented in the
// README): format, producer, node_count, ops, inputs, outputs, variables, signatures, tags,
// functions, control_flow, training_ops.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "io/model.h"

namespace tffreeze::graph {

nlohmann::json summarize_model(const io::Model& model);

// Likely output tensors: signature outputs, else sinks that are not training or bookkeeping.
std::vector<std::string> likely_outputs(const io::Model& model);

}  // namespace tffreeze::graph
