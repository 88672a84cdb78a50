// TF 2 object-based checkpoints: the _CHECKPOINTABLE_OBJECT_GRAPH entry (a TrackableObjectGraph)
// maps object paths such as "model/layer_with_weights-0/kernel" to checkpoint keys such as
// "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "io/checkpoint/checkpoint.h"
#include "tffreeze/tf/saved_object_graph.pb.h"

namespace tffreeze::io::checkpoint {

inline constexpr const char* kObjectGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH";

struct ObjectAttribute {
  int node_id = 0;
  std::string path;            // local names from the root, joined by '/'; "" for the root
  std::string attribute;       // e.g. "VARIABLE_VALUE"
  std::string checkpoint_key;
};

// The object graph, or nullopt when the checkpoint has none (TF 1 name-based checkpoints).
std::optional<tf::TrackableObjectGraph> read_object_graph(const Checkpoint& checkpoint);

// Every attribute of every object reachable from the root, in breadth-first order (the
// shortest path names each object, as TensorFlow does).
std::vector<ObjectAttribute> object_attributes(const tf::TrackableObjectGraph& graph);

// The objects reachable from the root in breadth-first order, and each node's path from the
// root ("" for the root and for unreachable nodes): for a checkpoint's TrackableObjectGraph and
// a SavedModel's SavedObjectGraph alike (the same children references), so that their objects
// can be matched by path.
struct ObjectWalk {
  std::vector<int> order;
  std::vector<std::string> path;
};

template <class ObjectGraph>
ObjectWalk walk_objects(const ObjectGraph& graph) {
  const int n = graph.nodes_size();
  ObjectWalk walk{{}, std::vector<std::string>(static_cast<std::size_t>(n))};
  if (n == 0) return walk;
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  walk.order.push_back(0);
  seen[0] = true;
  for (std::size_t next = 0; next < walk.order.size(); ++next) {
    const int id = walk.order[next];
    for (const auto& child : graph.nodes(id).children()) {
      const int c = child.node_id();
      if (c < 0 || c >= n || seen[static_cast<std::size_t>(c)]) continue;
      seen[static_cast<std::size_t>(c)] = true;
      const std::string& parent = walk.path[static_cast<std::size_t>(id)];
      walk.path[static_cast<std::size_t>(c)] = parent.empty() ? child.local_name() : parent + "/" + child.local_name();
      walk.order.push_back(c);
    }
  }
  return walk;
}

}  // namespace tffreeze::io::checkpoint
