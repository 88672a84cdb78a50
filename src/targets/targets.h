// Deploy targets: what each runtime's TensorFlow importer accepts, the pass pipeline that gets a
// frozen graph there, and a check that names every node the target would reject.
#pragma once

#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::targets {

struct Target {
  std::string name;         // generic, opencv, tflite, tensorrt
  std::string pipeline;     // optimize's default --transforms for it
  std::string description;
  std::string verdict_basis;  // how check's verdict was established: measured, or a published list
};

const std::vector<Target>& all_targets();
// Throws Error (exit 2) listing the known targets.
const Target& find_target(const std::string& name);

struct Rejection {
  std::string node, op;
  std::string why;  // what the target does not accept
  std::string fix;  // the pass or flag that removes it, or what the user must do
};

// Every node of `graph` the target would reject, in graph order.
std::vector<Rejection> check_target(const tffreeze::tf::GraphDef& graph, const Target& target);

}  // namespace tffreeze::targets
