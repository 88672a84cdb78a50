// remove_device: clear every node's device placement ("/job:worker/device:GPU:0"), which a
// frozen graph moved to another machine can only get wrong.
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport remove_device(tf::GraphDef* graph, const PassContext&) {
  PassReport report;
  for (auto& node : *graph->mutable_node()) {
    if (node.device().empty()) continue;
    node.clear_device();
    ++report.changed;
  }
  return report;
}

}  // namespace

void register_remove_device(PassRegistry& r) { r.add("remove_device", remove_device, "clear device placements"); }

}  // namespace tffreeze::passes
