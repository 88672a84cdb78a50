// The optimize step shared by `tffreeze optimize`, `tffreeze freeze --optimize` and Python's
// tffreeze.optimize: run the target's pipeline (or transforms), validate each pass's result, and
// prove with the executor that the outputs did not change. Writing is a separate step, so the
// CLI writes a file and Python keeps the graph.
#pragma once

#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "api/onnx_output.h"
#include "io/model.h"
#include "runtime/verify.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::api {

struct OptimizeOptions {
  std::string target = "generic", transforms;  // transforms overrides the target's pipeline
  std::vector<std::string> inputs, outputs, shapes;  // shapes: "NAME=[D0,...]"
  bool no_verify = false;
  double rtol = 1e-4, atol = 1e-4;
  OnnxOutputOptions onnx;  // when the output is .onnx
};

// Usage errors (exit 2) before any work: the target for `output`, the pipeline, ONNX options.
void check_optimize_usage(const OptimizeOptions& o, const std::string& output);

struct Optimized {
  tf::GraphDef graph;
  std::vector<std::string> outputs;  // what it was optimized (and proven) for
  nlohmann::json report;  // what each pass changed and left alone, target rejects, the proof
  std::string failure;    // non-empty: the proof failed (exit 1); the one-line message
};

// Optimizes `original` for `output` (its extension picks the ONNX target; empty: a TF graph
// kept in memory). The graph is taken over: without the proof it is optimized in place.
// Progress lines go to `log`. Throws Error for everything but a failed proof.
Optimized optimize_graph(tf::GraphDef&& original, const OptimizeOptions& o, const std::string& source, const std::string& output,
                         std::ostream& log);
// The same for a model as `optimize` takes it: a TF 2 SavedModel is frozen first, and the
// outputs default to the inferred ones.
Optimized optimize_model(io::Model model, OptimizeOptions o, const std::string& source, const std::string& output, std::ostream& log);

// Writes an optimized graph as `optimize` does: a TF graph by extension, or ONNX (proven, the
// target's rewrites and check).
void write_optimized(const tf::GraphDef& graph, const OptimizeOptions& o, const std::string& output, nlohmann::json* report,
                     std::ostream& log);

// After a failed proof or verify: where the graphs part (runtime::first_departure), to `log` and
// into `report` when given.
void report_departure(const std::optional<runtime::Departure>& first, nlohmann::json* report, std::ostream& log);

// "NAME=[1,224,224,3]" specs (run's and verify's --shape).
std::map<std::string, std::vector<std::int64_t>> parse_shapes(const std::vector<std::string>& specs);

}  // namespace tffreeze::api
