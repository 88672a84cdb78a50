// tffreeze freeze MODEL [-c CHECKPOINT] [--outputs ...] ... -o OUT.pb|OUT.pbtxt
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/freeze.h"
#include "api/onnx_target.h"
#include "cli/commands.h"
#include "cli/optimize.h"
#include "common/dtype.h"
#include "common/error.h"
#include "common/file_util.h"
#include "freeze/freeze.h"
#include "io/model.h"
#include "passes/pass.h"
#include "targets/targets.h"

namespace tffreeze::cli {
namespace {

struct FreezeArgs {
  std::string model, checkpoint, output, report, signature;
  std::vector<std::string> outputs, inputs, tags, sets, replace;
  bool use_moving_averages = false, optimize = false, keep_conds = false, lower_loops = false;
  OptimizeOptions optimize_options;
  std::string moving_average_name = "ExponentialMovingAverage";
};

void print_report(const freeze::FreezeReport& r, const std::string& out) {
  std::cout << "froze " << r.variables.size() << " variables (" << r.constant_bytes << " bytes of constants); nodes " << r.nodes_before
            << " -> " << r.nodes_after << "\n";
  int averaged = 0;
  for (const auto& v : r.variables) averaged += v.moving_average;
  if (averaged) {
    std::cout << "moving averages: " << averaged << " variables took their shadow values";
    if (!r.variables_without_average.empty()) {
      std::cout << "; " << r.variables_without_average.size() << " had none:";
      for (std::size_t i = 0; i < r.variables_without_average.size() && i < 8; ++i) std::cout << " " << r.variables_without_average[i];
    }
    std::cout << "\n";
  }
  std::cout << "inputs: ";
  for (const auto& i : r.inputs) std::cout << " " << i;
  std::cout << "\noutputs:";
  for (const auto& o : r.outputs) std::cout << " " << o;
  std::cout << "\n";
  for (const auto& note : r.notes) std::cout << "note: " << note << "\n";
  for (const auto& [category, names] : r.training_ops) {
    std::cout << "still training-only: " << category << " (" << names.size() << ", e.g. " << names.front()
              << "); remove with " << r.training_hints.at(category) << "\n";
  }
  if (out != "-") std::cout << "wrote " << out << "\n";
}

int run_freeze(const FreezeArgs& a) {
  std::vector<std::string> inputs_to_protect = {a.model};
  refuse_overwriting_input(a.output, inputs_to_protect);
  io::check_output_path(a.output);
  if (a.optimize) {
    if (a.output == "-") throw Error(ExitCode::kUsage, "--optimize writes a file: give -o OUT.pb");
    api::check_optimize_usage(a.optimize_options, a.output);  // usage errors before any work
  }
  if (api::is_onnx_output(a.output)) {
    api::check_onnx_options(a.optimize_options.onnx);
    api::pipeline_target(a.optimize_options.target, a.output);
  }
  api::FreezeRequest request;
  request.model = a.model;
  request.checkpoint = a.checkpoint;
  request.tags = a.tags;
  request.sets = a.sets;
  freeze::FreezeOptions& options = request.options;
  options.outputs = a.outputs;
  options.inputs = a.inputs;
  options.signature = a.signature;
  options.use_moving_averages = a.use_moving_averages;
  options.keep_functional_conds = a.keep_conds;
  options.lower_loops = a.lower_loops;
  options.moving_average_name = a.moving_average_name;
  options.replace_inputs = a.replace;
  // Into a binary GraphDef the weights go from the checkpoint's mapping straight into the output
  // (io/graph_stream.h); the passes read and replace only those they change.
  request.map_constants = io::writes_binary_graph(a.output);
  api::Frozen frozen = api::freeze_request(request);
  if (!frozen.checkpoint_prefix.empty()) refuse_overwriting_input(a.output, {frozen.checkpoint_prefix + ".index", frozen.checkpoint_prefix});
  freeze::FreezeResult& result = frozen.result;
  nlohmann::json report = freeze::report_json(result.report);
  int code = 0;
  if (a.optimize) {
    // Frozen, then optimized and proven against the frozen graph; only the result is written.
    print_report(result.report, "-");
    OptimizeOptions o = a.optimize_options;
    o.outputs = result.report.outputs;
    nlohmann::json optimized;
    code = optimize_and_write(std::move(result.graph), o, a.model, a.output, &optimized);
    report["optimize"] = optimized;
  } else if (api::is_onnx_output(a.output)) {
    print_report(result.report, "-");
    nlohmann::json exported;
    api::OnnxOutputOptions onnx = a.optimize_options.onnx;
    onnx.target = a.optimize_options.target;
    api::write_onnx(result.graph, result.report.outputs, parse_shapes(a.optimize_options.shapes), onnx, a.output, &exported, std::cout);
    report["export"] = exported;
  } else {
    io::save_graph(result.graph, a.output);
    if (a.output == "-") std::cout.flush();
    else print_report(result.report, a.output);
  }
  if (!a.report.empty()) write_file_atomic(a.report, report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return code;
}

}  // namespace

void add_freeze(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("freeze", "Replace variables by the checkpoint's values and keep only what the outputs need");
  auto a = std::make_shared<FreezeArgs>();
  cmd->add_option("model", a->model, "MetaGraphDef (.meta), SavedModel dir, or GraphDef")->required();
  cmd->add_option("-c,--checkpoint", a->checkpoint, "Checkpoint (default: beside the .meta, or the SavedModel's variables/)");
  cmd->add_option("-o,--output", a->output, "OUT.pb, OUT.pbtxt, OUT.onnx ('-': text to stdout)")->required();
  cmd->add_option("--outputs", a->outputs, "Output nodes or tensors (default: the signature's, else inferred)")->delimiter(',');
  cmd->add_option("--inputs", a->inputs, "Input nodes where the kept graph starts (default: the signature's)")->delimiter(',');
  cmd->add_option("--signature", a->signature, "SavedModel/MetaGraph signature (default: serving_default or the only one)");
  cmd->add_option("--tags", a->tags, "SavedModel meta graph tags (default: serve)")->delimiter(',');
  cmd->add_flag("--keep-conds", a->keep_conds,
                 "TF 2: keep If nodes whose predicate is computed, with their branch functions (default: lower to Switch/Merge)");
  cmd->add_flag("--lower-loops", a->lower_loops,
                 "TF 2: lower While loops to v1 loops (Enter/Merge/Switch/NextIteration/Exit); default: keep them with their functions");
  cmd->add_flag("--use-moving-averages", a->use_moving_averages, "Freeze each variable's ExponentialMovingAverage shadow");
  cmd->add_option("--moving-average-name", a->moving_average_name,
                  "Shadow name suffix, as given to ExponentialMovingAverage(name=...) (default: ExponentialMovingAverage)");
  cmd->add_option("--set", a->sets, "NAME=VALUE: make a placeholder a constant (is_training=false, keep_prob=1.0)");
  cmd->add_option("--replace-input", a->replace, "NAME=DTYPE[SHAPE]: make a tensor (queue dequeue, iterator) a Placeholder");
  cmd->add_option("--report", a->report, "Also write the report as JSON to this file");
  cmd->add_flag("--optimize", a->optimize, "Then optimize for --target (as `tffreeze optimize` does), verified numerically");
  add_optimize_options(cmd, &a->optimize_options);
  cmd->callback([=] { *action = [=] { return run_freeze(*a); }; });
}

}  // namespace tffreeze::cli
