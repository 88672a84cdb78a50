#include <cctype>
#include <set>

#include "common/error.h"
#include "graph/mapped_constants.h"
#include "graph/validate.h"
#include "passes/pass.h"

namespace tffreeze::passes {

void PassRegistry::add(std::string name, Pass run, std::string description) {
  passes_.push_back({std::move(name), run, std::move(description)});
}

const PassInfo* PassRegistry::find(const std::string& name) const {
  for (const auto& p : passes_)
    if (p.name == name) return &p;
  return nullptr;
}

const PassRegistry& PassRegistry::global() {
  static const PassRegistry registry = [] {
    PassRegistry r;
    register_strip_unused_nodes(r);
    register_remove_nodes(r);
    register_fold_constants(r);
    register_fold_batch_norms(r);
    register_sort_by_execution_order(r);
    register_strip_training_ops(r);
    register_add_default_attributes(r);
    register_canonicalize_operands(r);
    register_unfuse_ops(r);
    register_fuse_bias_add(r);
    register_merge_duplicate_nodes(r);
    register_remove_device(r);
    register_strip_attrs(r);
    register_flatten_atrous_conv(r);
    register_round_weights(r);
    register_canonicalize_activations(r);
    register_unpack_to_split(r);
    register_unshare_constants(r);
    register_matmul_bias_as_add(r);
    register_unroll_loops(r);
    register_lower_tensor_lists(r);
    register_to_nchw(r);
    return r;
  }();
  return registry;
}

std::int64_t int_arg(const PassContext& ctx, const std::string& name, std::int64_t fallback, std::int64_t lo) {
  auto it = ctx.args.find(name);
  if (it == ctx.args.end()) return fallback;
  std::size_t used = 0;
  std::int64_t v = 0;
  try {
    v = std::stoll(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != it->second.size() || v < lo) throw Error(ExitCode::kUsage, "--transforms: " + name + "=" + it->second + ": expected an integer >= " + std::to_string(lo));
  return v;
}

std::vector<PassInvocation> parse_pipeline(const std::string& spec) {
  std::vector<PassInvocation> out;
  std::size_t i = 0;
  auto fail = [&](const std::string& what) {
    throw Error(ExitCode::kUsage, "--transforms: " + what + " at position " + std::to_string(i + 1) + " of '" + spec + "'");
  };
  auto skip_space = [&] {
    while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
  };
  auto word = [&] {
    std::size_t start = i;
    while (i < spec.size() && (std::isalnum(static_cast<unsigned char>(spec[i])) || spec[i] == '_')) ++i;
    return spec.substr(start, i - start);
  };
  skip_space();
  while (i < spec.size()) {
    PassInvocation inv;
    inv.name = word();
    if (inv.name.empty()) fail("expected a pass name");
    if (!PassRegistry::global().find(inv.name)) {
      std::string known;
      for (const auto& p : PassRegistry::global().all()) known += (known.empty() ? "" : ", ") + p.name;
      throw Error(ExitCode::kUsage, "--transforms: unknown pass '" + inv.name + "' (known: " + known + ")");
    }
    skip_space();
    if (i < spec.size() && spec[i] == '(') {
      ++i;
      skip_space();
      while (i < spec.size() && spec[i] != ')') {
        std::string key = word();
        if (key.empty()) fail("expected an argument name");
        skip_space();
        if (i >= spec.size() || spec[i] != '=') fail("expected '=' after '" + key + "'");
        ++i;
        skip_space();
        std::size_t start = i;
        if (i < spec.size() && spec[i] == '"') {  // "1,224,224,3": commas inside quotes
          const std::size_t close = spec.find('"', i + 1);
          if (close == std::string::npos) fail("missing closing '\"'");
          inv.args[key] = spec.substr(i + 1, close - i - 1);
          i = close + 1;
        } else {
          while (i < spec.size() && spec[i] != ',' && spec[i] != ')' && !std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
          if (i == start) fail("expected a value for '" + key + "'");
          inv.args[key] = spec.substr(start, i - start);
        }
        skip_space();
        if (i < spec.size() && spec[i] == ',') {
          ++i;
          skip_space();
        }
      }
      if (i >= spec.size()) fail("missing ')'");
      ++i;
    }
    out.push_back(std::move(inv));
    skip_space();
  }
  if (out.empty()) throw Error(ExitCode::kUsage, "--transforms: empty pipeline");
  return out;
}

namespace {

// A pass must leave a valid graph valid: a problem that was not there before it ran is a bug of
// that pass (exit 5), not of the user's model. Problems the input already had are the input's.
void check_pass_result(const tf::GraphDef& graph, const std::string& pass, std::set<std::string>* known_problems) {
  for (auto& problem : graph::validate_graph(graph)) {
    if (known_problems->count(problem)) continue;
    throw_internal("pass '" + pass + "' produced an invalid graph: " + problem);
  }
}

}  // namespace

std::vector<PipelineStep> run_pipeline(tf::GraphDef* graph, const std::vector<PassInvocation>& pipeline, PassContext ctx,
                                       const PassRegistry& registry) {
  std::vector<PipelineStep> steps;
  auto before = graph::validate_graph(*graph);
  std::set<std::string> known_problems(before.begin(), before.end());
  for (const auto& inv : pipeline) {
    const PassInfo* pass = registry.find(inv.name);
    if (!pass) throw Error(ExitCode::kUsage, "unknown pass '" + inv.name + "'");
    ctx.args = inv.args;
    PipelineStep step;
    step.pass = inv.name;
    step.nodes_before = graph->node_size();
    step.bytes_before = steps.empty() ? graph::serialized_size(*graph) : steps.back().bytes_after;
    step.report = pass->run(graph, ctx);
    step.nodes_after = graph->node_size();
    step.bytes_after = graph::serialized_size(*graph);
    check_pass_result(*graph, inv.name, &known_problems);
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace tffreeze::passes
