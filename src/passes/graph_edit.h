// Small editing helpers shared by the passes: constants behind Identity chains, rewiring
// consumers, erasing nodes.
#pragma once

#include <string>
#include <vector>

#include "common/tensor.h"
#include "graph/graph_view.h"

namespace tffreeze::passes {

namespace tf = ::tffreeze::tf;

// The producer of data input `slot` of node i, or nullptr.
const graph::Edge* data_input(const graph::GraphView& view, int i, int slot);

// The Const feeding data input `slot` of node i, looking through Identity nodes; -1 if none.
// `chain` receives the Identity nodes passed through.
int const_through_identity(const graph::GraphView& view, int i, int slot, std::vector<int>* chain = nullptr);

// Number of data and control consumers of node i.
int consumer_count(const graph::GraphView& view, int i);

Tensor const_value(const tf::NodeDef& node);

// Removes the marked nodes (by index), keeping the others in order.
void erase_nodes(tf::GraphDef* graph, const std::vector<bool>& remove);

bool is_interface(const std::vector<std::string>& names, const std::string& node);

}  // namespace tffreeze::passes
