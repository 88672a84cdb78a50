#include "graph/default_attrs.h"

#include "graph/op_registry.h"

namespace tffreeze::graph {

int add_default_attributes(tf::GraphDef* graph) {
  const auto& registry = OpRegistry::global();
  int added = 0;
  for (auto& node : *graph->mutable_node()) {
    const tf::OpDef* def = registry.find(node.op());
    if (!def) continue;
    for (const auto& a : def->attr()) {
      if (!a.has_default_value() || node.attr().count(a.name())) continue;
      (*node.mutable_attr())[a.name()] = a.default_value();
      ++added;
    }
  }
  return added;
}

}  // namespace tffreeze::graph
