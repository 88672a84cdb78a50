#include "passes/graph_edit.h"

#include <algorithm>

namespace tffreeze::passes {

const graph::Edge* data_input(const graph::GraphView& view, int i, int slot) {
  for (const auto& e : view.inputs(i))
    if (!e.control() && e.input_slot == slot) return &e;
  return nullptr;
}

int const_through_identity(const graph::GraphView& view, int i, int slot, std::vector<int>* chain) {
  const graph::Edge* e = data_input(view, i, slot);
  for (int hops = 0; e && hops < 16; ++hops) {
    const std::string& op = view.node(e->producer).op();
    if (op == "Const") return view.node(e->producer).attr().count("value") ? e->producer : -1;
    if (op != "Identity") return -1;
    if (chain) chain->push_back(e->producer);
    e = data_input(view, e->producer, 0);
  }
  return -1;
}

int consumer_count(const graph::GraphView& view, int i) { return static_cast<int>(view.consumers(i).size()); }

Tensor const_value(const tf::NodeDef& node) { return tensor_from_proto(node.attr().at("value").tensor(), "node '" + node.name() + "'"); }

void erase_nodes(tf::GraphDef* graph, const std::vector<bool>& remove) {
  tf::GraphDef kept;
  kept.mutable_node()->Reserve(graph->node_size());
  for (int i = 0; i < graph->node_size(); ++i)
    if (!remove[static_cast<std::size_t>(i)]) kept.add_node()->Swap(graph->mutable_node(i));
  graph->mutable_node()->Swap(kept.mutable_node());
}

bool is_interface(const std::vector<std::string>& names, const std::string& node) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return graph::parse_input(n).node == node; });
}

}  // namespace tffreeze::passes
