// Which checkpoint entry restores each variable: traced from the graph's restore ops the way
// TensorFlow's Saver wires them (Assign(var, RestoreV2:k) with k indexing the tensor_names
// constant; RestoreSlice/Restore with a scalar name), falling back to the variable's name.
#pragma once

#include <map>
#include <string>

#include "graph/graph_view.h"

namespace tffreeze::freeze {

struct RestoreSource {
  std::string key;
  std::string shape_and_slice;  // "" for the whole tensor; "4 3 0,2:-" for one partition
};

// Variable node name -> where it restores from, for every variable the restore ops assign.
std::map<std::string, RestoreSource> traced_restore_keys(const graph::GraphView& view);

bool is_variable_op(const std::string& op);

// The key a variable restores from when no restore op names it: its shared_name (resource
// variables) or its node name.
std::string default_checkpoint_key(const tf::NodeDef& variable);

}  // namespace tffreeze::freeze
