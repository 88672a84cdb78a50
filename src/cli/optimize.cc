// tffreeze optimize IN -o OUT [--target generic|opencv|tflite|tensorrt] [--transforms '...']
//                  [--inputs ...] [--outputs ...] [--no-verify] [--report FILE.json]
// Runs a pass pipeline, then proves the result computes what the original did (random inputs,
// our executor) before writing anything.
#include "cli/optimize.h"

#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/file_util.h"
#include "io/model.h"
#include "passes/pass.h"
#include "targets/onnx_rules.h"
#include "targets/targets.h"

namespace tffreeze::cli {

using json = nlohmann::json;

void add_optimize_options(CLI::App* cmd, OptimizeOptions* o) {
  std::string targets = "Deploy target, picks the pipeline and the final check:";
  for (const auto& t : targets::all_targets()) targets += "\n  " + t.name + ": " + t.description;
  targets += "\nFor an .onnx output (generic = onnxruntime):";
  for (const auto& t : targets::onnx_targets()) targets += "\n  " + t.name + ": " + t.description;
  cmd->add_option("--target", o->target, targets)->default_str("generic");
  std::string passes_help = "Pipeline instead of the target's, e.g. 'strip_unused_nodes fold_batch_norms'. Passes:";
  for (const auto& p : passes::PassRegistry::global().all()) passes_help += "\n  " + p.name + ": " + p.description;
  cmd->add_option("--transforms", o->transforms, passes_help);
  cmd->add_option("--shape", o->shapes, "NAME=[D0,...]: shape of a random input in the check (unknown dims default to 1)");
  cmd->add_flag("--no-verify", o->no_verify, "Skip the numerical check of the result");
  cmd->add_option("--rtol", o->rtol, "Relative tolerance of the check (default 1e-4)");
  cmd->add_option("--atol", o->atol, "Absolute tolerance of the check (default 1e-4)");
  add_onnx_options(cmd, &o->onnx);
}

void add_onnx_options(CLI::App* cmd, api::OnnxOutputOptions* o) {
  cmd->add_option("--opset", o->opset, "ONNX opset of an .onnx output (13 to 20; default 17)")->default_str("17");
  cmd->add_flag("--external-data", o->external_data, "Write an .onnx output's weights to OUT.onnx.data beside it");
  cmd->add_option("--inputs-as-nchw", o->inputs_as_nchw, "ONNX inputs that take NCHW instead of the TF graph's NHWC")->delimiter(',');
  cmd->add_option("--outputs-as-nchw", o->outputs_as_nchw, "ONNX outputs that give NCHW instead of the TF graph's NHWC")->delimiter(',');
}

int optimize_and_write(tf::GraphDef&& original, const OptimizeOptions& o, const std::string& source, const std::string& output,
                       json* report) {
  api::Optimized result = api::optimize_graph(std::move(original), o, source, output, std::cout);
  *report = std::move(result.report);
  if (!result.failure.empty()) {
    std::cerr << "tffreeze: " << result.failure << "\n";
    return static_cast<int>(ExitCode::kCheckFailed);
  }
  api::write_optimized(result.graph, o, output, report, std::cout);
  return 0;
}

namespace {

struct OptimizeArgs {
  std::string input, output, report;
  OptimizeOptions options;
};

int run_optimize(const OptimizeArgs& a) {
  api::check_optimize_usage(a.options, a.output);  // usage errors before any work
  refuse_overwriting_input(a.output, {a.input});
  io::check_output_path(a.output);
  api::Optimized result = api::optimize_model(io::load_model(a.input), a.options, a.input, a.output, std::cout);
  json report = std::move(result.report);
  int code = 0;
  if (!result.failure.empty()) {
    std::cerr << "tffreeze: " << result.failure << "\n";
    code = static_cast<int>(ExitCode::kCheckFailed);
  } else {
    OptimizeOptions o = a.options;
    o.outputs = result.outputs;
    api::write_optimized(result.graph, o, a.output, &report, std::cout);
  }
  if (!a.report.empty()) write_file_atomic(a.report, report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return code;
}

}  // namespace

void add_optimize(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("optimize", "Run graph transforms (strip training ops, fold batch norms and constants, sort), verified numerically");
  auto a = std::make_shared<OptimizeArgs>();
  cmd->add_option("input", a->input, "A frozen graph")->required();
  cmd->add_option("-o,--output", a->output, "OUT.pb, OUT.pbtxt, OUT.json (TF.js) or OUT.onnx")->required();
  add_optimize_options(cmd, &a->options);
  cmd->add_option("--inputs", a->options.inputs, "Input nodes (kept as they are)")->delimiter(',');
  cmd->add_option("--outputs", a->options.outputs, "Output nodes (default: inferred)")->delimiter(',');
  cmd->add_option("--report", a->report, "Write what each pass changed and left alone as JSON");
  cmd->callback([=] { *action = [=] { return run_optimize(*a); }; });
}

}  // namespace tffreeze::cli
