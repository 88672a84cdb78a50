// ONNX deploy targets: `check MODEL.onnx --target T`, and what freeze and optimize do before they
// write an .onnx output (the target's rewrites, then its check). Shared by the CLI and Python.
#pragma once

#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "targets/onnx_rules.h"
#include "targets/targets.h"

namespace tffreeze::api {

// "node (op): rule", as check prints a rejection.
std::string rejection_line(const targets::OnnxRejection& r);

// The TF target whose pipeline and check run before writing `output`: for an .onnx output,
// --target names an ONNX target (generic = onnxruntime) and the TF pipeline is the one it lists.
// Throws Error (exit 2) for a target that does not fit the output.
const targets::Target& pipeline_target(const std::string& target, const std::string& output);

// The ONNX target's rewrites, then its check: throws Error (exit 1) naming every node it still
// rejects, before anything is written. Fills report["onnx_target"]; says what it did on `log`.
void apply_onnx_target(onnx::ModelProto* model, const std::string& target, const std::string& output, nlohmann::json* report,
                       std::ostream& log);

}  // namespace tffreeze::api
