// Writing ONNX wherever tffreeze writes a graph (convert, freeze, optimize with OUT.onnx): the
// frozen TF graph is prepared (constants folded), exported op by op, checked by ONNX's checker,
// proven by the test suite against onnxruntime, and written atomically.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::cli {

struct OnnxOutputOptions {
  int opset = 17;
  bool external_data = false;
};

bool is_onnx_output(const std::string& path);

// Adds --opset and --external-data.
void add_onnx_options(CLI::App* cmd, OnnxOutputOptions* o);

// Exports the frozen `graph` (outputs as the user named them) to `output`; fills `report`.
void write_onnx(const tffreeze::tf::GraphDef& graph, const std::vector<std::string>& outputs,
                const std::map<std::string, std::vector<std::int64_t>>& shapes, const OnnxOutputOptions& o, const std::string& output,
                nlohmann::json* report);

}  // namespace tffreeze::cli
