// tffreeze optimize IN -o OUT [--transforms '...'] [--inputs ...] [--outputs ...] [--no-verify]
//                  [--report FILE.json]
// Runs a pass pipeline, then proves the result computes what the original did (random inputs,
// our executor) before writing anything.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "common/file_util.h"
#include "graph/summary.h"
#include "graph/validate.h"
#include "io/model.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

namespace tffreeze::cli {
namespace {

using json = nlohmann::json;

struct OptimizeArgs {
  std::string input, output, transforms = passes::kDefaultPipeline, report;
  std::vector<std::string> inputs, outputs, shapes;
  bool no_verify = false;
  double rtol = 1e-4, atol = 1e-4;
};

int run_optimize(const OptimizeArgs& a) {
  auto pipeline = passes::parse_pipeline(a.transforms);  // usage errors before any work
  refuse_overwriting_input(a.output, {a.input});
  io::Model model = io::load_model(a.input);
  passes::PassContext ctx;
  ctx.outputs = a.outputs.empty() ? graph::likely_outputs(model) : a.outputs;
  ctx.inputs = a.inputs;
  tf::GraphDef graph = model.graph();
  json report = {{"input", a.input}, {"nodes_before", graph.node_size()}, {"passes", json::array()}};
  for (const auto& step : passes::run_pipeline(&graph, pipeline, ctx)) {
    report["passes"].push_back({{"pass", step.pass}, {"changed", step.report.changed}, {"nodes_before", step.nodes_before},
                                {"nodes_after", step.nodes_after}, {"left_alone", step.report.refused}});
    std::cout << step.pass << ": " << step.report.changed << " change(s), nodes " << step.nodes_before << " -> " << step.nodes_after << "\n";
    for (const auto& why : step.report.refused) std::cout << "  left alone: " << why << "\n";
  }
  auto problems = graph::validate_graph(graph);
  if (!problems.empty()) throw Error(ExitCode::kBadInput, a.input + ": the optimized graph would be invalid: " + problems.front());
  report["nodes_after"] = graph.node_size();
  if (!a.no_verify) {
    // The built-in proof: same random inputs, every output within tolerance, or nothing is written.
    runtime::Executor before(model.graph()), after(graph);
    std::map<std::string, std::vector<std::int64_t>> shapes;
    auto placeholders = runtime::needed_placeholders(model.graph(), ctx.outputs);
    json diffs = json::object();
    bool ok = true;
    for (std::uint64_t seed : {1u, 2u}) {
      auto feeds = runtime::random_feeds(placeholders, shapes, seed);
      auto ra = before.run(feeds, ctx.outputs), rb = after.run(feeds, ctx.outputs);
      for (std::size_t i = 0; i < ra.size(); ++i) {
        auto d = runtime::compare_tensors(ra[i], rb[i], a.rtol, a.atol);
        json& entry = diffs[ctx.outputs[i]];
        const double so_far = entry.is_object() ? entry["max_abs"].get<double>() : 0.0;
        entry["max_abs"] = std::max(so_far, d.max_abs);
        ok = ok && d.within_tolerance;
      }
    }
    report["verification"] = diffs;
    for (const auto& [name, d] : diffs.items()) std::cout << "verified " << name << ": max abs difference " << d["max_abs"] << "\n";
    if (!ok) {
      std::cerr << "tffreeze: " << a.input << ": the optimized graph computes different outputs; nothing written\n";
      return static_cast<int>(ExitCode::kCheckFailed);
    }
  }
  io::save_graph(graph, a.output);
  if (!a.report.empty()) write_file_atomic(a.report, report.dump(2) + "\n");
  std::cout << "wrote " << a.output << " (" << graph.node_size() << " nodes)\n";
  return 0;
}

}  // namespace

void add_optimize(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("optimize", "Run graph transforms (fold batch norms and constants, strip, sort), verified numerically");
  auto a = std::make_shared<OptimizeArgs>();
  cmd->add_option("input", a->input, "A frozen graph")->required();
  cmd->add_option("-o,--output", a->output, "OUT.pb or OUT.pbtxt")->required();
  std::string passes_help = "Pipeline, e.g. 'strip_unused_nodes fold_batch_norms'. Passes:";
  for (const auto& p : passes::PassRegistry::global().all()) passes_help += "\n  " + p.name + ": " + p.description;
  cmd->add_option("--transforms", a->transforms, passes_help)->default_str(passes::kDefaultPipeline);
  cmd->add_option("--inputs", a->inputs, "Input nodes (kept as they are)")->delimiter(',');
  cmd->add_option("--outputs", a->outputs, "Output nodes (default: inferred)")->delimiter(',');
  cmd->add_flag("--no-verify", a->no_verify, "Skip the numerical check of the result");
  cmd->add_option("--rtol", a->rtol, "Relative tolerance of the check (default 1e-4)");
  cmd->add_option("--atol", a->atol, "Absolute tolerance of the check (default 1e-4)");
  cmd->add_option("--report", a->report, "Write what each pass changed and left alone as JSON");
  cmd->callback([=] { *action = [=] { return run_optimize(*a); }; });
}

}  // namespace tffreeze::cli
