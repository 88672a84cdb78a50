#include "cli/onnx_target.h"

#include <iostream>

#include "cli/onnx_output.h"
#include "common/error.h"
#include "io/onnx_file.h"
#include "targets/onnx_rules.h"

namespace tffreeze::cli {
namespace {

std::string rejection_line(const targets::OnnxRejection& r) {
  return r.node + (r.op.empty() ? "" : " (" + r.op + ")") + ": " + r.rule;
}

}  // namespace

int check_onnx_file(const std::string& path, const std::string& target_name) {
  const targets::OnnxTarget& target = targets::find_onnx_target(target_name);
  onnx::ModelProto model = io::load_onnx(path);
  auto check = targets::check_onnx_target(model, target);
  for (const auto& r : check.rejections) std::cout << rejection_line(r) << "\n";
  for (const auto& n : check.notes) std::cout << "note: " << n << "\n";
  if (check.rejections.empty()) {
    std::cout << path << ": " << target.name << " accepts every node (" << model.graph().node_size() << "); verdict " << target.verdict_basis << "\n";
    return 0;
  }
  std::cout << "verdict " << target.verdict_basis << "\n";
  std::cout << check.rejections.size() << " node(s) " << target.name << " would reject\n";
  return static_cast<int>(ExitCode::kCheckFailed);
}

const targets::Target& pipeline_target(const std::string& target, const std::string& output) {
  if (!is_onnx_output(output)) return targets::find_target(target);
  return targets::find_target(targets::find_onnx_target(target).tf_target);
}

void apply_onnx_target(onnx::ModelProto* model, const std::string& target_name, const std::string& output, nlohmann::json* report) {
  const targets::OnnxTarget& target = targets::find_onnx_target(target_name);
  auto changes = targets::make_onnx_acceptable(model, target);
  for (const auto& c : changes) std::cout << "target " << target.name << ": " << c << "\n";
  auto check = targets::check_onnx_target(*model, target);
  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& r : check.rejections) rejected.push_back({{"node", r.node}, {"op", r.op}, {"rule", r.rule}});
  (*report)["onnx_target"] = {{"target", target.name}, {"verdict_basis", target.verdict_basis}, {"rewrites", changes}, {"rejects", rejected},
                              {"notes", check.notes}};
  for (const auto& n : check.notes) std::cout << "target " << target.name << ": note: " << n << "\n";
  if (check.rejections.empty()) return;
  for (const auto& r : check.rejections) std::cout << "target " << target.name << " rejects " << rejection_line(r) << "\n";
  throw Error(ExitCode::kCheckFailed, output + ": " + target.name + " would reject " + std::to_string(check.rejections.size()) +
                                          " node(s), e.g. " + rejection_line(check.rejections.front()) + "; nothing written");
}

}  // namespace tffreeze::cli
