// fold_constants(max_bytes=N): evaluate nodes whose inputs are all constants with the
// executor's kernels and replace them by Const nodes of the same name. Stateful and random ops,
// control flow and the graph's inputs are never folded; a result larger than max_bytes (default
// 16 MiB) that is also larger than its inputs is left alone, so folding cannot bloat the file.
#include <set>

#include "graph/node_builders.h"
#include "graph/op_registry.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"
#include "runtime/kernel.h"

namespace tffreeze::passes {
namespace {

bool foldable_op(const std::string& op) {
  static const std::set<std::string> kNever = {"Const", "Placeholder", "PlaceholderWithDefault", "Switch", "Merge", "NoOp",
                                               "Enter", "Exit", "NextIteration", "LoopCond", "Assert", "Print", "PrintV2"};
  if (kNever.count(op)) return false;
  const auto* def = graph::OpRegistry::global().find(op);
  if (def && def->is_stateful()) return false;
  return runtime::KernelRegistry::global().find(op) != nullptr;
}

std::int64_t byte_size(const Tensor& t) {
  std::int64_t n = static_cast<std::int64_t>(t.bytes.size());
  for (const auto& s : t.strings) n += static_cast<std::int64_t>(s.size());
  return n;
}

PassReport fold_constants(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  std::int64_t max_bytes = 16 << 20;
  if (auto it = ctx.args.find("max_bytes"); it != ctx.args.end()) max_bytes = std::stoll(it->second);
  graph::GraphView view(*graph);
  std::vector<int> order = view.topological_order();
  std::map<int, Tensor> values;  // constant value of each node known so far
  for (int i : order) {
    const auto& node = view.node(i);
    if (node.op() == "Const") {
      values[i] = const_value(node);
      continue;
    }
    if (!foldable_op(node.op()) || is_interface(ctx.inputs, node.name())) continue;
    std::vector<const Tensor*> inputs;
    bool all_const = !view.inputs(i).empty();
    for (const auto& e : view.inputs(i)) {
      if (e.control()) {  // ordered after something: folding would drop that order
        all_const = false;
        break;
      }
      auto v = values.find(e.producer);
      if (v == values.end() || e.output != 0) {
        all_const = false;
        break;
      }
      inputs.push_back(&v->second);
    }
    if (!all_const) continue;
    std::int64_t in_bytes = 0;
    for (const Tensor* t : inputs) in_bytes += byte_size(*t);
    runtime::KernelContext kctx(node, inputs);
    try {
      runtime::KernelRegistry::global().find(node.op())(kctx);
    } catch (const std::exception& e) {
      report.refused.push_back("node '" + node.name() + "': evaluating it failed: " + e.what());
      continue;
    }
    if (kctx.outputs().size() != 1) continue;  // multi-output nodes keep their structure
    Tensor& out = kctx.output(0);
    if (byte_size(out) > max_bytes && byte_size(out) > in_bytes) {
      report.refused.push_back("node '" + node.name() + "': folded value of " + std::to_string(byte_size(out)) +
                               " bytes would exceed max_bytes=" + std::to_string(max_bytes));
      continue;
    }
    tf::NodeDef folded = graph::make_const(node.name(), out);
    folded.set_device(node.device());
    *graph->mutable_node(i) = folded;
    values[i] = std::move(out);
    ++report.changed;
  }
  if (report.changed) {  // constants nobody reads any more
    graph::GraphView after(*graph);
    std::vector<bool> needed = ctx.outputs.empty() ? std::vector<bool>(static_cast<std::size_t>(after.size()), true)
                                                   : after.needed_by(ctx.outputs, ctx.inputs);
    std::vector<bool> remove(needed.size());
    for (std::size_t k = 0; k < needed.size(); ++k) remove[k] = !needed[k];
    erase_nodes(graph, remove);
  }
  return report;
}

}  // namespace

void register_fold_constants(PassRegistry& r) {
  r.add("fold_constants", fold_constants, "evaluate nodes whose inputs are all constants (max_bytes=N caps growth)");
}

}  // namespace tffreeze::passes
