// sort_by_execution_order: every node after its inputs (what OpenCV's importer expects).
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport sort_by_execution_order(tf::GraphDef* graph, const PassContext&) {
  PassReport report;
  std::vector<int> order = graph::GraphView(*graph).topological_order();
  tf::GraphDef sorted;
  sorted.mutable_node()->Reserve(graph->node_size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    report.changed += order[k] != static_cast<int>(k);
    sorted.add_node()->Swap(graph->mutable_node(order[k]));  // moves, no copy of the weights
  }
  graph->mutable_node()->Swap(sorted.mutable_node());
  return report;
}

}  // namespace

void register_sort_by_execution_order(PassRegistry& r) {
  r.add("sort_by_execution_order", sort_by_execution_order, "order nodes so each comes after its inputs");
}

}  // namespace tffreeze::passes
