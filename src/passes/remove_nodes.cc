// remove_nodes(op=Identity|CheckNumerics|StopGradient): bypass single-input pass-through nodes,
// keeping the graph's inputs, outputs and control dependencies intact.
#include <set>
#include <sstream>

#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {

int bypass_pass_through(tf::GraphDef* graph, const PassContext& ctx, const std::set<std::string>& ops, PassReport* report) {
  graph::GraphView view(*graph);
  Rewrite rw(view.size());
  int bypassed = 0;
  for (int i = 0; i < view.size(); ++i) {
    const auto& node = view.node(i);
    if (!ops.count(node.op())) continue;
    std::string data;
    int data_inputs = 0;
    std::vector<std::string> controls;
    for (const auto& in : node.input()) {
      if (!in.empty() && in[0] == '^') controls.push_back(in);
      else if (data_inputs++ == 0) data = in;
    }
    if (data_inputs != 1 && node.op() != "Print") {
      report->refused.push_back("node '" + node.name() + "': " + std::to_string(data_inputs) + " data inputs, not a pass-through");
      continue;
    }
    if (is_interface(ctx.outputs, node.name()) || is_interface(ctx.inputs, node.name())) {
      report->refused.push_back("node '" + node.name() + "': it is an input or output of the graph");
      continue;
    }
    rw.remove[static_cast<std::size_t>(i)] = true;
    rw.tensor[node.name()] = data;
    // Whoever waited for the bypassed node now waits for its producer and its own control inputs.
    rw.carried[node.name()] = controls;
    controls.push_back("^" + std::string(graph::parse_input(data).node));
    rw.control[node.name()] = controls;
    ++bypassed;
  }
  apply_rewrite(graph, rw);
  return bypassed;
}

namespace {

PassReport remove_nodes(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  std::set<std::string> ops;
  auto it = ctx.args.find("op");
  std::stringstream spec(it == ctx.args.end() ? "Identity" : it->second);
  for (std::string op; std::getline(spec, op, '|');) ops.insert(op);
  report.changed = bypass_pass_through(graph, ctx, ops, &report);
  return report;
}

}  // namespace

void register_remove_nodes(PassRegistry& r) {
  r.add("remove_nodes", remove_nodes, "bypass pass-through nodes: op=Identity|CheckNumerics|StopGradient (default Identity)");
}

}  // namespace tffreeze::passes
