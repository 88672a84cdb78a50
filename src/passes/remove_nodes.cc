// remove_nodes(op=Identity|CheckNumerics|StopGradient): bypass single-input pass-through nodes,
// keeping the graph's inputs, outputs and control dependencies intact.
#include <set>
#include <sstream>

#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport remove_nodes(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  std::set<std::string> ops;
  {
    auto it = ctx.args.find("op");
    std::stringstream spec(it == ctx.args.end() ? "Identity" : it->second);
    for (std::string op; std::getline(spec, op, '|');) ops.insert(op);
  }
  graph::GraphView view(*graph);
  std::vector<bool> remove(static_cast<std::size_t>(view.size()), false);
  // Where a removed node's consumers now read from: its data input (resolved transitively).
  std::map<std::string, std::string> replacement;
  std::map<std::string, std::vector<std::string>> extra_controls;
  for (int i = 0; i < view.size(); ++i) {
    const auto& node = view.node(i);
    if (!ops.count(node.op())) continue;
    int data_inputs = 0;
    for (const auto& in : node.input()) data_inputs += in.empty() || in[0] != '^';
    if (data_inputs != 1) {
      report.refused.push_back("node '" + node.name() + "': " + std::to_string(data_inputs) + " data inputs, not a pass-through");
      continue;
    }
    if (is_interface(ctx.outputs, node.name()) || is_interface(ctx.inputs, node.name())) {
      report.refused.push_back("node '" + node.name() + "': it is an input or output of the graph");
      continue;
    }
    remove[static_cast<std::size_t>(i)] = true;
    for (const auto& in : node.input()) {
      if (in[0] == '^') extra_controls[node.name()].push_back(in);
      else replacement[node.name()] = in;
    }
    ++report.changed;
  }
  // Follows bypassed nodes back to a kept producer, collecting the control dependencies of
  // every node passed through: they carry over to the consumer.
  auto resolve = [&](std::string in, std::vector<std::string>* controls) {
    for (int hops = 0; hops < 1000; ++hops) {
      graph::TensorRef ref = graph::parse_input(in);
      auto it = replacement.find(std::string(ref.node));
      if (it == replacement.end() || ref.index != 0) break;
      if (auto c = extra_controls.find(std::string(ref.node)); c != extra_controls.end())
        controls->insert(controls->end(), c->second.begin(), c->second.end());
      in = ref.control ? "^" + std::string(graph::parse_input(it->second).node) : it->second;
    }
    return in;
  };
  for (int i = 0; i < graph->node_size(); ++i) {
    if (remove[static_cast<std::size_t>(i)]) continue;
    auto* node = graph->mutable_node(i);
    std::vector<std::string> data, control, carried;
    std::set<std::string> seen_control;
    for (const auto& in : node->input()) {
      std::string resolved = resolve(in, &carried);
      if (resolved[0] == '^') {
        if (seen_control.insert(resolved).second) control.push_back(resolved);
      } else {
        data.push_back(resolved);
      }
    }
    for (const auto& c : carried)
      if (seen_control.insert(c).second) control.push_back(c);
    node->clear_input();
    for (auto& d : data) node->add_input(d);
    for (auto& c : control) node->add_input(c);
  }
  erase_nodes(graph, remove);
  return report;
}

}  // namespace

void register_remove_nodes(PassRegistry& r) {
  r.add("remove_nodes", remove_nodes, "bypass pass-through nodes: op=Identity|CheckNumerics|StopGradient (default Identity)");
}

}  // namespace tffreeze::passes
