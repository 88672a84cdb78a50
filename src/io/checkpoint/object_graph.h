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

}  // namespace tffreeze::io::checkpoint
