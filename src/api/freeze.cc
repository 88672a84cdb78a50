#include "api/freeze.h"

#include "common/error.h"
#include "io/checkpoint/checkpoint.h"
#include "io/model.h"

namespace tffreeze::api {

std::pair<std::string, std::string> parse_set(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) throw Error(ExitCode::kUsage, "--set " + spec + ": expected NAME=VALUE");
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

namespace {

// Without a checkpoint a SavedModel's variables cannot be frozen: say which file is missing
// rather than fail later on the first variable.
void refuse_missing_variables(const io::Model& model) {
  if (model.saved_model_dir.empty()) return;
  for (const auto& n : model.graph().node()) {
    if (n.op() == "VariableV2" || n.op() == "Variable" || n.op() == "VarHandleOp") {
      throw Error(ExitCode::kBadInput, model.saved_model_dir + ": SavedModel has variables but no variables/ directory "
                                                               "(expected variables/variables.index)");
    }
  }
}

}  // namespace

Frozen freeze_request(const FreezeRequest& request) {
  freeze::FreezeOptions options = request.options;
  for (const auto& s : request.sets) options.set_values.push_back(parse_set(s));
  io::Model model = io::load_model(request.model, {request.tags});
  std::string ckpt_path = request.checkpoint.empty() ? freeze::default_checkpoint_for(model) : request.checkpoint;
  std::shared_ptr<const io::checkpoint::Checkpoint> ckpt;
  Frozen out;
  if (!ckpt_path.empty()) {
    ckpt = io::checkpoint::open_checkpoint(ckpt_path);
    out.checkpoint_prefix = ckpt->prefix();
    if (request.map_constants) options.mapped_source = out.mapped_source = graph::MappedSource::open(ckpt);
  } else {
    refuse_missing_variables(model);
  }
  out.result = freeze::freeze_model(model, ckpt.get(), options);
  return out;
}

}  // namespace tffreeze::api
