#include "api/onnx_target.h"

#include "api/onnx_output.h"
#include "common/error.h"
#include "io/onnx_file.h"
#include "targets/onnx_rules.h"

namespace tffreeze::api {

std::string rejection_line(const targets::OnnxRejection& r) {
  return r.node + (r.op.empty() ? "" : " (" + r.op + ")") + ": " + r.rule;
}

const targets::Target& pipeline_target(const std::string& target, const std::string& output) {
  if (!is_onnx_output(output)) return targets::find_target(target);
  return targets::find_target(targets::find_onnx_target(target).tf_target);
}

void apply_onnx_target(onnx::ModelProto* model, const std::string& target_name, const std::string& output, nlohmann::json* report,
                       std::ostream& log) {
  const targets::OnnxTarget& target = targets::find_onnx_target(target_name);
  auto changes = targets::make_onnx_acceptable(model, target);
  for (const auto& c : changes) log << "target " << target.name << ": " << c << "\n";
  auto check = targets::check_onnx_target(*model, target);
  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& r : check.rejections) rejected.push_back({{"node", r.node}, {"op", r.op}, {"rule", r.rule}});
  (*report)["onnx_target"] = {{"target", target.name}, {"verdict_basis", target.verdict_basis}, {"rewrites", changes}, {"rejects", rejected},
                              {"notes", check.notes}};
  for (const auto& n : check.notes) log << "target " << target.name << ": note: " << n << "\n";
  if (check.rejections.empty()) return;
  for (const auto& r : check.rejections) log << "target " << target.name << " rejects " << rejection_line(r) << "\n";
  throw Error(ExitCode::kCheckFailed, output + ": " + target.name + " would reject " + std::to_string(check.rejections.size()) +
                                          " node(s), e.g. " + rejection_line(check.rejections.front()) + "; nothing written");
}

}  // namespace tffreeze::api
