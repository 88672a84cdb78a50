// The commands (CLI and Python) that execute or transform a graph (run, verify, optimize, check) take a TF 2
// SavedModel too: its work is in functions and its weights in variables, so its signature is
// frozen in memory first (the default checkpoint, signature keys as names), as `freeze` would.
#pragma once

#include <string>

#include "io/model.h"

namespace tffreeze::api {

// `model` unchanged unless it is a TF 2 SavedModel; then a GraphDef model of its frozen
// signature (`signature`: empty for serving_default or the only one).
io::Model executable_model(io::Model model, const std::string& signature = "");

}  // namespace tffreeze::api
