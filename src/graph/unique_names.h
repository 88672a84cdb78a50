// Fresh node names for nodes a pass or the freezer adds: the wanted name when no node has it,
// else the first free "wanted_1", "wanted_2", ... Every name it hands out is reserved, so two
// additions in one pass never collide either (a Pack reading the same constant twice).
#pragma once

#include <string>
#include <unordered_set>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

class UniqueNames {
 public:
  UniqueNames() = default;
  explicit UniqueNames(const tffreeze::tf::GraphDef& graph);

  std::string fresh(const std::string& wanted);
  void reserve(const std::string& name) { taken_.insert(name); }
  bool taken(const std::string& name) const { return taken_.count(name) > 0; }

 private:
  std::unordered_set<std::string> taken_;
};

}  // namespace tffreeze::graph
