// The optimize step shared by `tffreeze optimize` and `tffreeze freeze --optimize`: run the
// target's pipeline (or --transforms), validate, prove the numbers unchanged, then write.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/onnx_output.h"
#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::cli {

struct OptimizeOptions {
  std::string target = "generic", transforms;  // transforms overrides the target's pipeline
  std::vector<std::string> inputs, outputs, shapes;
  bool no_verify = false;
  double rtol = 1e-4, atol = 1e-4;
  OnnxOutputOptions onnx;  // when the output is .onnx
};

// Adds --target, --transforms, --shape, --no-verify, --rtol, --atol, --opset, --external-data.
void add_optimize_options(CLI::App* cmd, OptimizeOptions* o);

// Optimizes `original`, writes it to `output` (atomically) unless the proof fails; fills
// `report`. Returns the exit code (1: the result computes different numbers; nothing written).
// The graph is taken over: without the proof it is optimized in place, not copied.
int optimize_and_write(tffreeze::tf::GraphDef&& original, const OptimizeOptions& o, const std::string& source,
                       const std::string& output, nlohmann::json* report);

// After a failed proof or verify: prints, and puts in `report` when given, the first tensor of
// `candidate` whose value departs from `reference`'s on `feeds` (runtime::first_departure).
void report_departure(const tffreeze::tf::GraphDef& reference, const tffreeze::tf::GraphDef& candidate, const std::vector<std::string>& fetches,
                      const std::map<std::string, Tensor>& feeds, double rtol, double atol, nlohmann::json* report);

// "NAME=[1,224,224,3]" specs (run's and verify's --shape).
std::map<std::string, std::vector<std::int64_t>> parse_shapes(const std::vector<std::string>& specs);

}  // namespace tffreeze::cli
