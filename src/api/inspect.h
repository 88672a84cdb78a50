// `inspect`: what a model, an ONNX file or a checkpoint holds, as one JSON object (keys in the
// README). The CLI prints it (--json) or a text view of it; Python returns it as a dict.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/model.h"

namespace tffreeze::api {

// A checkpoint (prefix, .index, or a directory of checkpoints) rather than a model.
bool is_checkpoint(const std::string& path);

// graph::summarize_model plus "ops_without_kernel": the ops run, verify and optimize's proof
// would refuse.
nlohmann::json model_summary_json(const io::Model& model);

// The `inspect --json` object of whatever `path` is; `tags` pick a SavedModel meta graph.
nlohmann::json inspect_json(const std::string& path, const std::vector<std::string>& tags);

}  // namespace tffreeze::api
