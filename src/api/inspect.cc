#include "api/inspect.h"

#include "api/checkpoint_report.h"
#include "common/file_util.h"
#include "export/onnx/summary.h"
#include "graph/summary.h"
#include "io/checkpoint/checkpoint.h"
#include "io/onnx_file.h"
#include "runtime/executor.h"

namespace tffreeze::api {

using json = nlohmann::json;

bool is_checkpoint(const std::string& path) {
  if (is_directory(path)) {
    for (const char* model_file : {"saved_model.pb", "saved_model.pbtxt", "model.json"})
      if (is_regular_file(join_path(path, model_file))) return false;
  }
  return io::checkpoint::looks_like_checkpoint(path);
}

json model_summary_json(const io::Model& model) {
  json summary = graph::summarize_model(model);
  std::vector<const tf::NodeDef*> all;
  for (const auto& n : model.graph().node()) all.push_back(&n);
  json missing = json::object();
  for (const auto& [op, nodes] : runtime::ops_without_kernels(model.graph(), all)) missing[op] = nodes.size();
  summary["ops_without_kernel"] = missing;
  return summary;
}

json inspect_json(const std::string& path, const std::vector<std::string>& tags) {
  if (is_checkpoint(path)) return checkpoint_summary_json(*io::checkpoint::open_checkpoint(path));
  if (io::looks_like_onnx(path)) return onnx_export::summarize_onnx(io::load_onnx(path));
  return model_summary_json(io::load_model(path, {tags}));
}

}  // namespace tffreeze::api
