#include "graph/unique_names.h"

namespace tffreeze::graph {

UniqueNames::UniqueNames(const tffreeze::tf::GraphDef& graph) {
  taken_.reserve(static_cast<std::size_t>(graph.node_size()));
  for (const auto& n : graph.node()) taken_.insert(n.name());
}

std::string UniqueNames::fresh(const std::string& wanted) {
  std::string name = wanted;
  for (int k = 1; taken_.count(name); ++k) name = wanted + "_" + std::to_string(k);
  taken_.insert(name);
  return name;
}

}  // namespace tffreeze::graph
