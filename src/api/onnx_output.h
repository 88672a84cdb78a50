// Writing ONNX wherever tffreeze writes a graph (convert, freeze, optimize with OUT.onnx). What is
// proven when: at run time, the TF graph that is exported (prepared: unfused, loops unrolled,
// folded; then in the NCHW frame) is run against the given graph on random inputs, and ONNX's
// checker passes the file; the one-to-one TF -> ONNX mapping of every op and attribute variant is
// proven by the test suite against onnxruntime. Written atomically.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::api {

struct OnnxOutputOptions {
  int opset = 17;
  bool external_data = false;
  std::vector<std::string> inputs_as_nchw, outputs_as_nchw;
  bool verify = true;  // prove the TF graph that is exported against the given one
  double rtol = 1e-4, atol = 1e-4;
  std::string target = "generic";  // the ONNX deploy target (api/onnx_target.h): its rewrites and check
};

bool is_onnx_output(const std::string& path);
// Usage errors (exit 2) of the ONNX options, before any work: an opset out of range.
void check_onnx_options(const OnnxOutputOptions& o);

// Exports the frozen `graph` (outputs as the user named them) to `output`; fills `report`, says
// what it did on `log`.
void write_onnx(const tffreeze::tf::GraphDef& graph, const std::vector<std::string>& outputs,
                const std::map<std::string, std::vector<std::int64_t>>& shapes, const OnnxOutputOptions& o, const std::string& output,
                nlohmann::json* report, std::ostream& log);

}  // namespace tffreeze::api
