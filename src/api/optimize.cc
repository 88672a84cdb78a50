// The optimize step shared by `tffreeze optimize`, `tffreeze freeze --optimize` and Python's
// tffreeze.optimize: run the target's pipeline (or transforms), validate, prove the numbers unchanged.
#include "api/optimize.h"

#include <optional>
#include <sstream>

#include "api/executable_model.h"
#include "api/onnx_target.h"
#include "common/dtype.h"
#include "common/error.h"
#include "graph/graph_view.h"
#include "graph/mapped_constants.h"
#include "graph/summary.h"
#include "graph/training_ops.h"
#include "graph/validate.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "runtime/gemm.h"
#include "runtime/verify.h"
#include "targets/targets.h"

namespace tffreeze::api {

using json = nlohmann::json;

namespace {

// --shape NAME=[..] fixes the placeholder's shape in the graph itself, so that every pass that
// needs static shapes (fold_constants, unpack_to_split, unroll_loops) sees it, and so does the
// proof. A shape that contradicts the placeholder's is a usage error.
void fix_input_shapes(tf::GraphDef* graph, const std::map<std::string, std::vector<std::int64_t>>& shapes) {
  for (const auto& [name, dims] : shapes) {
    const std::string node_name(graph::parse_input(name).node);
    tf::NodeDef* node = nullptr;
    for (auto& n : *graph->mutable_node())
      if (n.name() == node_name) node = &n;
    if (!node) throw Error(ExitCode::kUsage, "--shape " + name + ": the graph has no node '" + node_name + "'");
    if (node->op() != "Placeholder" && node->op() != "PlaceholderWithDefault") {
      throw Error(ExitCode::kUsage, "--shape " + name + ": '" + node_name + "' is a " + node->op() + ", not a placeholder");
    }
    const bool had_shape = node->attr().count("shape") > 0;
    auto& shape = *(*node->mutable_attr())["shape"].mutable_shape();
    if (had_shape && !shape.unknown_rank()) {
      bool fits = shape.dim_size() == static_cast<int>(dims.size());
      for (int d = 0; fits && d < shape.dim_size(); ++d) fits = shape.dim(d).size() < 0 || shape.dim(d).size() == dims[static_cast<std::size_t>(d)];
      if (!fits) {
        tf::TensorShapeProto wanted;
        for (auto d : dims) wanted.add_dim()->set_size(d);
        throw Error(ExitCode::kUsage, "--shape " + name + "=" + shape_string(wanted) + ": does not fit the placeholder's shape " + shape_string(shape));
      }
    }
    shape.Clear();
    for (auto d : dims) shape.add_dim()->set_size(d);
  }
}

// The proof runs both graphs on our executor: name every op it cannot run, at once, and the way
// out (exit 4), instead of stopping at the first node.
void refuse_unprovable(const tf::GraphDef& original, const tf::GraphDef& optimized, const std::vector<std::string>& outputs,
                       const std::string& source) {
  auto missing = runtime::ops_without_kernels(original, outputs);
  for (auto& [op, nodes] : runtime::ops_without_kernels(optimized, outputs))
    if (!missing.count(op)) missing[op] = nodes;
  if (missing.empty()) return;
  std::string list;
  for (const auto& [op, nodes] : missing) {
    list += (list.empty() ? "" : ", ") + op + " (" + std::to_string(nodes.size()) + (nodes.size() == 1 ? " node: '" : " nodes, e.g. '") +
            nodes.front() + "')";
  }
  throw Error(ExitCode::kUnsupported, source + ": cannot prove the optimized graph: the executor has no kernel for " + list +
                                          "; --no-verify writes it unproven");
}

void report_pass_steps(const std::vector<passes::PipelineStep>& steps, json* report, std::ostream& log) {
  for (const auto& step : steps) {
    (*report)["passes"].push_back({{"pass", step.pass}, {"changed", step.report.changed}, {"nodes_before", step.nodes_before},
                                   {"nodes_after", step.nodes_after}, {"bytes_before", step.bytes_before},
                                   {"bytes_after", step.bytes_after}, {"left_alone", step.report.refused}});
    if (step.report.changed == 0 && step.report.refused.empty()) continue;
    log << step.pass << ": " << step.report.changed << " change(s), nodes " << step.nodes_before << " -> " << step.nodes_after << "\n";
    for (const auto& why : step.report.refused) log << "  left alone: " << why << "\n";
  }
}

void report_target_rejects(const tf::GraphDef& graph, const targets::Target& target, json* report, std::ostream& log) {
  json rejected = json::array();
  for (const auto& r : targets::check_target(graph, target)) {
    rejected.push_back({{"node", r.node}, {"op", r.op}, {"why", r.why}, {"fix", r.fix}});
    log << "target " << target.name << " would reject '" << r.node << "' (" << r.op << "): " << r.why << "; fix: " << r.fix << "\n";
  }
  (*report)["target_rejects"] = rejected;
}

// One random batch: the proof costs a forward pass of each graph (BENCHMARKS.md, issue 16).
constexpr std::uint64_t kProofSeed = 1;

// The built-in proof: same random inputs, every output within tolerance. An original whose
// outputs depend on random numbers (dropout outside any is_training cond) has no single answer:
// if it differs, it is compared again with its dropout as identity, as inference means, and the
// report says so. Returns whether every output agreed.
bool prove_unchanged(const tf::GraphDef& original, const tf::GraphDef& graph, const passes::PassContext& ctx,
                     const std::map<std::string, std::vector<std::int64_t>>& shapes, const OptimizeOptions& o, const std::string& source,
                     json* report, std::ostream& log) {
  // Random inputs follow the placeholders' shapes; where those are unknown the draw may not be
  // what the graph expects. Then say so and how to fix it, rather than blame the file.
  auto compare = [&](const tf::GraphDef& reference) {
    try {
      return runtime::compare_graphs(reference, graph, ctx.outputs, {}, shapes, 1, kProofSeed, o.rtol, o.atol);
    } catch (const Error& e) {
      if (e.code() != ExitCode::kBadInput) throw;
      std::string unknown;
      for (const auto* p : runtime::needed_placeholders(reference, ctx.outputs)) {
        auto it = p->attr().find("shape");
        bool known = it != p->attr().end() && !it->second.shape().unknown_rank();
        for (int d = 0; known && d < it->second.shape().dim_size(); ++d) known = it->second.shape().dim(d).size() >= 0;
        if (!known && !shapes.count(p->name()) && !graph::is_training_flag(*p)) unknown += (unknown.empty() ? "" : ", ") + p->name();
      }
      throw Error(ExitCode::kUnsupported, source + ": cannot prove the optimized graph: on random inputs " + e.what() +
                                              (unknown.empty() ? "" : " (inputs of unknown shape: " + unknown + "; give them with --shape NAME=[...])") +
                                              "; --no-verify writes it unproven");
    }
  };
  auto diffs = compare(original);
  const tf::GraphDef* reference = &original;
  tf::GraphDef baseline;
  bool differs = false;
  for (const auto& [name, d] : diffs) differs |= !d.within_tolerance;
  if (differs) {
    graph::GraphView view(original);
    auto needed = view.needed_by(ctx.outputs, ctx.inputs);
    bool random = false;
    for (int i = 0; i < view.size(); ++i) random |= needed[static_cast<std::size_t>(i)] && graph::is_random_op(view.node(i).op());
    if (random) {
      baseline = original;
      passes::run_pipeline(&baseline, passes::parse_pipeline("strip_training_ops"), ctx);
      reference = &baseline;
      (*report)["verification_baseline"] = "the original with its dropout as identity (it draws random numbers)";
      log << "note: the original draws random numbers (dropout); compared with its dropout as identity\n";
      diffs = compare(baseline);
    }
  }
  bool ok = true;
  for (const auto& [name, d] : diffs) {
    (*report)["verification"][name] = {{"max_abs", d.max_abs}, {"max_rel", d.max_rel}, {"within_tolerance", d.within_tolerance}};
    log << "verified " << name << ": max abs difference " << d.max_abs << (d.within_tolerance ? "" : "  DIFFERS") << "\n";
    ok = ok && d.within_tolerance;
  }
  if (!ok) {
    auto feeds = runtime::random_feeds(runtime::needed_placeholders(*reference, ctx.outputs), shapes, kProofSeed);
    report_departure(runtime::first_departure(*reference, graph, ctx.outputs, feeds, o.rtol, o.atol), report, log);
  }
  return ok;
}

}  // namespace

void report_departure(const std::optional<runtime::Departure>& first, nlohmann::json* report, std::ostream& log) {
  if (!first) {
    log << "no tensor of the same name departs before the outputs (the graphs name their tensors differently)\n";
    return;
  }
  log << "first departing tensor: " << first->tensor << " (" << first->op << "): max abs difference " << first->difference.max_abs << "\n";
  if (report) (*report)["first_departure"] = {{"tensor", first->tensor}, {"op", first->op}, {"max_abs", first->difference.max_abs}};
}

void check_optimize_usage(const OptimizeOptions& o, const std::string& output) {
  pipeline_target(o.target, output);
  if (!o.transforms.empty()) passes::parse_pipeline(o.transforms);
  if (is_onnx_output(output)) check_onnx_options(o.onnx);
}

Optimized optimize_graph(tf::GraphDef&& original, const OptimizeOptions& o, const std::string& source, const std::string& output,
                         std::ostream& log) {
  const targets::Target& target = pipeline_target(o.target, output);
  if (!output.empty()) io::check_output_path(output);  // empty: kept in memory (Python)
  if (is_onnx_output(output)) check_onnx_options(o.onnx);
  auto pipeline = passes::parse_pipeline(o.transforms.empty() ? target.pipeline : o.transforms);
  auto shapes = parse_shapes(o.shapes);
  passes::PassContext ctx;
  ctx.outputs = o.outputs;
  if (ctx.outputs.empty()) throw Error(ExitCode::kUsage, source + ": no outputs found to optimize for; name them with --outputs");
  ctx.inputs = o.inputs;
  graph::refuse_invalid_input(original, source);
  fix_input_shapes(&original, shapes);
  std::optional<runtime::GemmWarmup> gemm_warmup;  // ready by the proof (gemm.h)
  if (!o.no_verify) gemm_warmup.emplace();
  const int nodes_before = original.node_size();
  const std::size_t bytes_before = graph::serialized_size(original);
  Optimized out;
  out.outputs = ctx.outputs;
  if (o.no_verify) out.graph = std::move(original);  // nothing to compare against later
  else out.graph = original;
  json* report = &out.report;
  tf::GraphDef& graph = out.graph;
  *report = {{"input", source}, {"target", target.name}, {"nodes_before", nodes_before}, {"bytes_before", bytes_before},
             {"passes", json::array()}};
  report_pass_steps(passes::run_pipeline(&graph, pipeline, ctx), report, log);  // each pass's result is validated there
  (*report)["nodes_after"] = graph.node_size();
  const std::size_t bytes_after = graph::serialized_size(graph);
  (*report)["bytes_after"] = bytes_after;
  log << "nodes " << nodes_before << " -> " << graph.node_size() << ", bytes " << bytes_before << " -> " << bytes_after << "\n";
  if (!is_onnx_output(output)) report_target_rejects(graph, target, report, log);  // an .onnx output is checked once exported
  if (!o.no_verify) {
    refuse_unprovable(original, graph, ctx.outputs, source);
    if (!prove_unchanged(original, graph, ctx, shapes, o, source, report, log)) {
      std::ostringstream why;
      why << source << ": the optimized graph computes different outputs (beyond rtol " << o.rtol << ", atol " << o.atol
          << "); nothing written";
      out.failure = why.str();
    }
  }
  return out;
}

Optimized optimize_model(io::Model model, OptimizeOptions o, const std::string& source, const std::string& output, std::ostream& log) {
  model = executable_model(std::move(model));
  if (o.outputs.empty()) o.outputs = graph::likely_outputs(model);
  return optimize_graph(std::move(*model.mutable_graph()), o, source, output, log);
}

void write_optimized(const tf::GraphDef& graph, const OptimizeOptions& o, const std::string& output, json* report, std::ostream& log) {
  if (is_onnx_output(output)) {
    OnnxOutputOptions onnx = o.onnx;
    onnx.verify = !o.no_verify;
    onnx.rtol = o.rtol, onnx.atol = o.atol;
    onnx.target = o.target;
    write_onnx(graph, o.outputs, parse_shapes(o.shapes), onnx, output, report, log);
    return;
  }
  io::save_graph(graph, output);
  log << "wrote " << output << " (" << graph.node_size() << " nodes)\n";
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

}  // namespace tffreeze::api
