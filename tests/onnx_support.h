// onnxruntime (its Node.js package's CPU library, tools/onnxruntime) as the oracle for the ONNX
// export: export a TF graph, run the file in onnxruntime, compare with our executor.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "support.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::test {

bool onnxruntime_available();

#define REQUIRE_ONNXRUNTIME()                                                                                                   \
  if (!::tffreeze::test::onnxruntime_available()) {                                                                             \
    if (::tffreeze::test::in_ci()) FAIL() << "onnxruntime missing (CI=true): tools/install-deps.sh runs npm ci in tools/onnxruntime"; \
    GTEST_SKIP() << "onnxruntime not installed (npm ci --ignore-scripts in tools/onnxruntime)";                                 \
  }

// Runs an .onnx file in onnxruntime on the feeds; one tensor per output.
std::vector<Tensor> run_onnxruntime(const std::string& model, const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& outputs);

// Many models in one onnxruntime process. Each job's outputs, or the error onnxruntime gave.
struct OrtJob {
  std::string model;
  std::map<std::string, Tensor> feeds;
  std::vector<std::string> outputs;
  // filled in:
  std::vector<Tensor> results;
  std::string error;
};
void run_onnxruntime_batch(std::vector<OrtJob>* jobs);

// Exports `graph` (opset 17 unless given), runs it in onnxruntime and our executor on the same
// random inputs, and expects every output within `tolerance` relative to the outputs' size.
void expect_onnx_matches(const tffreeze::tf::GraphDef& graph, const std::vector<std::string>& outputs, double tolerance = 1e-5,
                         const std::map<std::string, std::vector<std::int64_t>>& shapes = {}, int opset = 17);

}  // namespace tffreeze::test
