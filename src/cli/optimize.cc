// tffreeze optimize IN -o OUT [--target generic|opencv|tflite|tensorrt] [--transforms '...']
//                  [--inputs ...] [--outputs ...] [--no-verify] [--report FILE.json]
// Runs a pass pipeline, then proves the result computes what the original did (random inputs,
// our executor) before writing anything.
#include "cli/optimize.h"

#include <iostream>

#include "cli/commands.h"
#include "cli/executable_model.h"
#include "common/error.h"
#include "common/file_util.h"
#include "graph/graph_view.h"
#include "graph/summary.h"
#include "graph/training_ops.h"
#include "graph/validate.h"
#include "io/model.h"
#include "passes/pass.h"
#include "runtime/verify.h"
#include "targets/targets.h"

namespace tffreeze::cli {

using json = nlohmann::json;

void add_optimize_options(CLI::App* cmd, OptimizeOptions* o) {
  std::string targets = "Deploy target, picks the pipeline and the final check:";
  for (const auto& t : targets::all_targets()) targets += "\n  " + t.name + ": " + t.description;
  cmd->add_option("--target", o->target, targets)->default_str("generic");
  std::string passes_help = "Pipeline instead of the target's, e.g. 'strip_unused_nodes fold_batch_norms'. Passes:";
  for (const auto& p : passes::PassRegistry::global().all()) passes_help += "\n  " + p.name + ": " + p.description;
  cmd->add_option("--transforms", o->transforms, passes_help);
  cmd->add_option("--shape", o->shapes, "NAME=[D0,...]: shape of a random input in the check (unknown dims default to 1)");
  cmd->add_flag("--no-verify", o->no_verify, "Skip the numerical check of the result");
  cmd->add_option("--rtol", o->rtol, "Relative tolerance of the check (default 1e-4)");
  cmd->add_option("--atol", o->atol, "Absolute tolerance of the check (default 1e-4)");
}

int optimize_and_write(tf::GraphDef&& original, const OptimizeOptions& o, const std::string& source, const std::string& output,
                       json* report) {
  const targets::Target& target = targets::find_target(o.target);
  auto pipeline = passes::parse_pipeline(o.transforms.empty() ? target.pipeline : o.transforms);
  auto shapes = parse_shapes(o.shapes);
  passes::PassContext ctx;
  ctx.outputs = o.outputs;
  if (ctx.outputs.empty()) throw Error(ExitCode::kUsage, source + ": no outputs found to optimize for; name them with --outputs");
  ctx.inputs = o.inputs;
  const int nodes_before = original.node_size();
  const std::size_t bytes_before = original.ByteSizeLong();
  tf::GraphDef graph;
  if (o.no_verify) graph = std::move(original);  // nothing to compare against later
  else graph = original;
  *report = {{"input", source}, {"target", target.name}, {"nodes_before", nodes_before}, {"bytes_before", bytes_before},
             {"passes", json::array()}};
  for (const auto& step : passes::run_pipeline(&graph, pipeline, ctx)) {
    (*report)["passes"].push_back({{"pass", step.pass}, {"changed", step.report.changed}, {"nodes_before", step.nodes_before},
                                   {"nodes_after", step.nodes_after}, {"bytes_before", step.bytes_before},
                                   {"bytes_after", step.bytes_after}, {"left_alone", step.report.refused}});
    if (step.report.changed == 0 && step.report.refused.empty()) continue;
    std::cout << step.pass << ": " << step.report.changed << " change(s), nodes " << step.nodes_before << " -> " << step.nodes_after << "\n";
    for (const auto& why : step.report.refused) std::cout << "  left alone: " << why << "\n";
  }
  auto problems = graph::validate_graph(graph);
  if (!problems.empty()) throw Error(ExitCode::kBadInput, source + ": the optimized graph would be invalid: " + problems.front());
  (*report)["nodes_after"] = graph.node_size();
  (*report)["bytes_after"] = graph.ByteSizeLong();
  std::cout << "nodes " << nodes_before << " -> " << graph.node_size() << ", bytes " << bytes_before << " -> " << graph.ByteSizeLong()
            << "\n";
  json rejected = json::array();
  for (const auto& r : targets::check_target(graph, target)) {
    rejected.push_back({{"node", r.node}, {"op", r.op}, {"why", r.why}, {"fix", r.fix}});
    std::cout << "target " << target.name << " would reject '" << r.node << "' (" << r.op << "): " << r.why << "; fix: " << r.fix << "\n";
  }
  (*report)["target_rejects"] = rejected;
  if (!o.no_verify) {
    // The built-in proof: same random inputs, every output within tolerance, or nothing is written.
    // An original whose outputs depend on random numbers (dropout outside any is_training cond)
    // has no single answer: if it differs, it is compared again with its dropout as identity,
    // as inference means, and the report says so.
    auto diffs = runtime::compare_graphs(original, graph, ctx.outputs, {}, shapes, 2, 1, o.rtol, o.atol);
    bool differs = false;
    for (const auto& [name, d] : diffs) differs |= !d.within_tolerance;
    if (differs) {
      graph::GraphView view(original);
      auto needed = view.needed_by(ctx.outputs, ctx.inputs);
      bool random = false;
      for (int i = 0; i < view.size(); ++i) random |= needed[static_cast<std::size_t>(i)] && graph::is_random_op(view.node(i).op());
      if (random) {
        tf::GraphDef baseline = original;
        passes::run_pipeline(&baseline, passes::parse_pipeline("strip_training_ops"), ctx);
        (*report)["verification_baseline"] = "the original with its dropout as identity (it draws random numbers)";
        std::cout << "note: the original draws random numbers (dropout); compared with its dropout as identity\n";
        diffs = runtime::compare_graphs(baseline, graph, ctx.outputs, {}, shapes, 2, 1, o.rtol, o.atol);
      }
    }
    bool ok = true;
    for (const auto& [name, d] : diffs) {
      (*report)["verification"][name] = {{"max_abs", d.max_abs}, {"max_rel", d.max_rel}, {"within_tolerance", d.within_tolerance}};
      std::cout << "verified " << name << ": max abs difference " << d.max_abs << (d.within_tolerance ? "" : "  DIFFERS") << "\n";
      ok = ok && d.within_tolerance;
    }
    if (!ok) {
      std::cerr << "tffreeze: " << source << ": the optimized graph computes different outputs (beyond rtol " << o.rtol << ", atol "
                << o.atol << "); nothing written\n";
      return static_cast<int>(ExitCode::kCheckFailed);
    }
  }
  io::save_graph(graph, output);
  std::cout << "wrote " << output << " (" << graph.node_size() << " nodes)\n";
  return 0;
}

std::map<std::string, std::vector<std::int64_t>> parse_shapes(const std::vector<std::string>& specs) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const auto& spec : specs) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || spec.size() < eq + 3 || spec[eq + 1] != '[' || spec.back() != ']') {
      throw Error(ExitCode::kUsage, "--shape " + spec + ": expected NAME=[D0,D1,...]");
    }
    std::vector<std::int64_t> dims;
    std::string body = spec.substr(eq + 2, spec.size() - eq - 3);
    for (std::size_t pos = 0; pos < body.size();) {
      auto comma = body.find(',', pos);
      try {
        dims.push_back(std::stoll(body.substr(pos, comma - pos)));
      } catch (const std::exception&) {
        throw Error(ExitCode::kUsage, "--shape " + spec + ": bad dimension");
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    out[spec.substr(0, eq)] = dims;
  }
  return out;
}

namespace {

struct OptimizeArgs {
  std::string input, output, report;
  OptimizeOptions options;
};

int run_optimize(const OptimizeArgs& a) {
  targets::find_target(a.options.target);  // usage errors before any work
  if (!a.options.transforms.empty()) passes::parse_pipeline(a.options.transforms);
  refuse_overwriting_input(a.output, {a.input});
  io::Model model = executable_model(io::load_model(a.input));
  OptimizeOptions o = a.options;
  if (o.outputs.empty()) o.outputs = graph::likely_outputs(model);
  json report;
  int code = optimize_and_write(std::move(*model.mutable_graph()), o, a.input, a.output, &report);
  if (!a.report.empty()) write_file_atomic(a.report, report.dump(2) + "\n");
  return code;
}

}  // namespace

void add_optimize(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("optimize", "Run graph transforms (strip training ops, fold batch norms and constants, sort), verified numerically");
  auto a = std::make_shared<OptimizeArgs>();
  cmd->add_option("input", a->input, "A frozen graph")->required();
  cmd->add_option("-o,--output", a->output, "OUT.pb, OUT.pbtxt or OUT.json (TF.js)")->required();
  add_optimize_options(cmd, &a->options);
  cmd->add_option("--inputs", a->options.inputs, "Input nodes (kept as they are)")->delimiter(',');
  cmd->add_option("--outputs", a->options.outputs, "Output nodes (default: inferred)")->delimiter(',');
  cmd->add_option("--report", a->report, "Write what each pass changed and left alone as JSON");
  cmd->callback([=] { *action = [=] { return run_optimize(*a); }; });
}

}  // namespace tffreeze::cli
