// `check`: every node a deploy target would reject, for a TF graph (the TF targets, with the pass
// or flag that removes it) or an ONNX file (the ONNX targets' rules). Shared by the CLI and Python.
#pragma once

#include <string>
#include <vector>

#include "io/model.h"

namespace tffreeze::api {

struct Finding {
  std::string node, op, rule, fix;  // fix: empty for ONNX rules
};

struct CheckResult {
  bool onnx = false;
  std::string target, verdict_basis;
  int nodes = 0;
  std::vector<Finding> findings;
  std::vector<std::string> notes;  // ONNX only
};

// `path`: an .onnx file (targets onnxruntime/generic, tensorrt, opencv) or any model tffreeze
// reads (generic, opencv, tflite, tensorrt; a TF 2 SavedModel is frozen first). Throws Error
// (exit 2) for an unknown target.
CheckResult check_path(const std::string& path, const std::string& target);
// A TF model already in memory.
CheckResult check_model(io::Model model, const std::string& target);

}  // namespace tffreeze::api
