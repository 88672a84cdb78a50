// strip_unused_nodes: keep only what the outputs need (stopping at the inputs).
#include "common/error.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport strip_unused_nodes(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  if (ctx.outputs.empty()) {
    report.refused.push_back("no outputs given (--outputs): nothing stripped");
    return report;
  }
  graph::GraphView view(*graph);
  auto keep = view.needed_by(ctx.outputs, ctx.inputs);
  std::vector<bool> remove(keep.size());
  for (std::size_t i = 0; i < keep.size(); ++i) {
    remove[i] = !keep[i];
    report.changed += remove[i];
  }
  erase_nodes(graph, remove);
  return report;
}

}  // namespace

void register_strip_unused_nodes(PassRegistry& r) {
  r.add("strip_unused_nodes", strip_unused_nodes, "keep only the nodes the outputs need");
}

}  // namespace tffreeze::passes
