// TensorFlow GraphDef -> ONNX ModelProto. The graph should be frozen and in the layout wanted
// (the to_nchw pass makes NHWC graphs NCHW first); each TF op maps to a fixed set of ONNX nodes
// (converters.h). Static shapes and dtypes come from one executor run on random inputs.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::onnx_export {

inline constexpr int kDefaultOpset = 17;  // the newest that Debian's ONNX 1.12 checker knows
inline constexpr int kMinOpset = 13, kMaxOpset = 20;
inline constexpr int kCheckerMaxOpset = 17;

struct ExportOptions {
  int opset = kDefaultOpset;
  std::vector<std::string> outputs;  // as the user named them: "logits", "split:1"
  // Shapes of inputs whose placeholder shape has unknown dims (the run draws them; unknown dims
  // default to 1 and stay symbolic in the ONNX inputs).
  std::map<std::string, std::vector<std::int64_t>> shapes;
  // Inputs for the one run that learns static shapes (default: random draws to the placeholders'
  // dtypes and shapes); needed where random values are not valid inputs (indices, permutations).
  std::map<std::string, Tensor> example_feeds;
};

// The IR version that goes with an opset (onnx/helper.py's VERSION_TABLE).
int ir_version_for(int opset);

// TF ops of the graph (needed by the outputs) that no converter maps: op -> node names.
std::map<std::string, std::vector<std::string>> ops_without_onnx_form(const tffreeze::tf::GraphDef& graph, const std::vector<std::string>& outputs);

// Throws Error: exit 2 for an opset out of range, exit 4 naming every op without an ONNX form
// (in one message) or an attribute variant ONNX cannot express, exit 5 if ONNX's checker rejects
// what we wrote (our bug). The exact patterns of fusions.h are fused; `fusions` gets a line each.
onnx::ModelProto to_onnx(const tffreeze::tf::GraphDef& graph, const ExportOptions& options, std::vector<std::string>* fusions = nullptr);

// ONNX's own checker with strict shape inference (Python's check_model(full_check=True)); empty
// when the model passes, else the checker's message on one line.
std::string onnx_checker_problem(const onnx::ModelProto& model);

}  // namespace tffreeze::onnx_export
