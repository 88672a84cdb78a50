// The optimize options of `tffreeze optimize` and `tffreeze freeze --optimize`; the work is in
// api/optimize.h, shared with Python.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "api/optimize.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::cli {

using api::OptimizeOptions;
using api::parse_shapes;

// Adds --target, --transforms, --shape, --no-verify, --rtol, --atol, --opset, --external-data.
void add_optimize_options(CLI::App* cmd, OptimizeOptions* o);
// Adds --opset, --external-data, --inputs-as-nchw, --outputs-as-nchw.
void add_onnx_options(CLI::App* cmd, api::OnnxOutputOptions* o);

// Optimizes `original`, writes it to `output` (atomically) unless the proof fails; fills
// `report`. Returns the exit code (1: the result computes different numbers; nothing written).
int optimize_and_write(tffreeze::tf::GraphDef&& original, const OptimizeOptions& o, const std::string& source,
                       const std::string& output, nlohmann::json* report);

}  // namespace tffreeze::cli
