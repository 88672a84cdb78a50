#include "api/executable_model.h"

#include <memory>

#include "freeze/freeze.h"
#include "io/checkpoint/checkpoint.h"

namespace tffreeze::api {

io::Model executable_model(io::Model model, const std::string& signature) {
  if (!model.meta.has_object_graph_def() || model.graph().library().function_size() == 0) return model;
  const std::string prefix = freeze::default_checkpoint_for(model);
  std::unique_ptr<io::checkpoint::Checkpoint> checkpoint;
  if (!prefix.empty()) checkpoint = io::checkpoint::open_checkpoint(prefix);
  freeze::FreezeOptions options;
  options.signature = signature;
  io::Model frozen;
  frozen.path = model.path;
  frozen.format = io::ModelFormat::kGraphDef;
  *frozen.mutable_graph() = freeze::freeze_model(model, checkpoint.get(), options).graph;
  return frozen;
}

}  // namespace tffreeze::api
