#include "api/check.h"

#include "api/executable_model.h"
#include "io/onnx_file.h"
#include "targets/onnx_rules.h"
#include "targets/targets.h"

namespace tffreeze::api {

CheckResult check_model(io::Model model, const std::string& target_name) {
  const targets::Target& target = targets::find_target(target_name);
  model = executable_model(std::move(model));
  CheckResult out;
  out.target = target.name;
  out.verdict_basis = target.verdict_basis;
  out.nodes = model.graph().node_size();
  for (auto& r : targets::check_target(model.graph(), target)) out.findings.push_back({r.node, r.op, r.why, r.fix});
  return out;
}

namespace {

CheckResult check_onnx(const std::string& path, const std::string& target_name) {
  const targets::OnnxTarget& target = targets::find_onnx_target(target_name);
  onnx::ModelProto model = io::load_onnx(path);
  auto check = targets::check_onnx_target(model, target);
  CheckResult out;
  out.onnx = true;
  out.target = target.name;
  out.verdict_basis = target.verdict_basis;
  out.nodes = model.graph().node_size();
  for (auto& r : check.rejections) out.findings.push_back({r.node, r.op, r.rule, ""});
  out.notes = check.notes;
  return out;
}

}  // namespace

CheckResult check_path(const std::string& path, const std::string& target) {
  if (io::looks_like_onnx(path)) return check_onnx(path, target);
  targets::find_target(target);  // an unknown target is a usage error before the model is read
  return check_model(io::load_model(path), target);
}

}  // namespace tffreeze::api
