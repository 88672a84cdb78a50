#include "api/onnx_output.h"

#include "common/error.h"
#include "common/file_util.h"
#include "api/onnx_target.h"
#include "export/onnx/export.h"
#include "export/onnx/nchw_frame.h"
#include "export/onnx/prepare.h"
#include "io/onnx_file.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

namespace tffreeze::api {

namespace {

bool listed(const std::vector<std::string>& names, const std::string& name) {
  for (const auto& n : names)
    if (n == name || n + ":0" == name || n == name + ":0") return true;
  return false;
}

// The graph that is exported computes what the frozen graph does: both run on the same random
// inputs (transposed to NCHW for the --inputs-as-nchw ones; NCHW outputs transposed back).
void prove_layout(const tf::GraphDef& original, const tf::GraphDef& exported, const std::vector<std::string>& outputs,
                  const std::map<std::string, std::vector<std::int64_t>>& shapes, const OnnxOutputOptions& o, nlohmann::json* report,
                  std::ostream& log) {
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(original, outputs), shapes, 1);
  auto want = runtime::Executor(original).run(feeds, outputs);
  for (auto& [name, t] : feeds)
    if (listed(o.inputs_as_nchw, name) && t.shape.size() == 4) t = onnx_export::transposed(t, {0, 3, 1, 2});
  auto got = runtime::Executor(exported).run(feeds, outputs);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (listed(o.outputs_as_nchw, outputs[i]) && got[i].shape.size() == 4) got[i] = onnx_export::transposed(got[i], {0, 2, 3, 1});
    auto d = runtime::compare_tensors(got[i], want[i], o.rtol, o.atol);
    (*report)["verification"][outputs[i]] = {{"max_abs", d.max_abs}, {"within_tolerance", d.within_tolerance}};
    log << "verified " << outputs[i] << " (NCHW TF graph for ONNX): max abs difference " << d.max_abs << (d.within_tolerance ? "" : "  DIFFERS") << "\n";
    if (!d.within_tolerance) {
      throw Error(ExitCode::kCheckFailed, "the graph prepared for ONNX computes different values for '" + outputs[i] + "' (max abs " +
                                              std::to_string(d.max_abs) + "); nothing written");
    }
  }
}

void report_transposes(const onnx::ModelProto& model, const std::vector<std::string>& why, nlohmann::json* report, std::ostream& log) {
  std::map<std::string, int> histogram;
  int transposes = 0;
  for (const auto& n : model.graph().node()) ++histogram[n.op_type()], transposes += n.op_type() == "Transpose";
  (*report)["onnx"]["nodes"] = model.graph().node_size();
  (*report)["onnx"]["ops"] = histogram;
  (*report)["onnx"]["transposes"] = transposes;
  (*report)["onnx"]["transposes_kept"] = why;
  log << "ONNX: " << model.graph().node_size() << " nodes, " << transposes << " Transpose" << (transposes == 1 ? "" : "s") << "\n";
  for (const auto& w : why) log << "  Transpose kept: " << w << "\n";
}

}  // namespace

bool is_onnx_output(const std::string& path) { return extension(path) == ".onnx"; }

void check_onnx_options(const OnnxOutputOptions& o) {
  if (o.opset < onnx_export::kMinOpset || o.opset > onnx_export::kMaxOpset) {
    throw Error(ExitCode::kUsage, "--opset " + std::to_string(o.opset) + ": supported are " + std::to_string(onnx_export::kMinOpset) + " to " +
                                      std::to_string(onnx_export::kMaxOpset));
  }
}

void write_onnx(const tf::GraphDef& graph, const std::vector<std::string>& outputs, const std::map<std::string, std::vector<std::int64_t>>& shapes,
                const OnnxOutputOptions& o, const std::string& output, nlohmann::json* report, std::ostream& log) {
  check_onnx_options(o);
  tf::GraphDef exported = graph;
  const auto kept = onnx_export::prepare_for_onnx(&exported, outputs, {o.inputs_as_nchw, o.outputs_as_nchw});
  if (o.verify) prove_layout(graph, exported, outputs, shapes, o, report, log);
  onnx_export::ExportOptions options;
  options.opset = o.opset;
  options.outputs = outputs;
  options.shapes = shapes;
  for (const auto& name : o.inputs_as_nchw) {
    auto it = shapes.find(name);
    if (it != shapes.end() && it->second.size() == 4) options.shapes[name] = {it->second[0], it->second[3], it->second[1], it->second[2]};
  }
  std::vector<std::string> fusions;
  onnx::ModelProto model = onnx_export::to_onnx(exported, options, &fusions);
  (*report)["onnx"] = {{"opset", o.opset}, {"external_data", o.external_data}, {"fused", fusions}};
  for (const auto& f : fusions) log << "ONNX: fused " << f << "\n";
  report_transposes(model, kept, report, log);
  apply_onnx_target(&model, o.target, output, report, log);
  io::save_onnx(std::move(model), output, o.external_data);
  log << "wrote " << output << " (ONNX opset " << o.opset << (o.external_data ? ", weights in " + output + ".data" : "") << ")\n";
}

}  // namespace tffreeze::api
