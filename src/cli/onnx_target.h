// ONNX deploy targets in the CLI: `tffreeze check MODEL.onnx --target T`, and what freeze and
// optimize do before they write an .onnx output (the target's rewrites, then its check).
#pragma once

#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>
#include <string>

#include "targets/targets.h"

namespace tffreeze::cli {

// check for an .onnx file: one line per rejected node; exit 1 if any.
int check_onnx_file(const std::string& path, const std::string& target);

// The TF target whose pipeline and check run before writing `output`: for an .onnx output,
// --target names an ONNX target (generic = onnxruntime) and the TF pipeline is the one it lists.
// Throws Error (exit 2) for a target that does not fit the output.
const targets::Target& pipeline_target(const std::string& target, const std::string& output);

// The ONNX target's rewrites, then its check: throws Error (exit 1) naming every node it still
// rejects, before anything is written. Fills report["onnx_target"].
void apply_onnx_target(onnx::ModelProto* model, const std::string& target, const std::string& output, nlohmann::json* report);

}  // namespace tffreeze::cli
