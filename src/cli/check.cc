// tffreeze check MODEL --target generic|opencv|tflite|tensorrt (MODEL.onnx: onnxruntime|tensorrt|opencv)
// Lists every node the target would reject, with the pass or flag that removes it; exit 1 if any.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "api/check.h"
#include "cli/commands.h"
#include "common/error.h"

namespace tffreeze::cli {
namespace {

struct CheckArgs {
  std::string model, target = "generic";
};

// What the CLI always printed: one line per node, then a summary (per fix for TF targets, so
// the user knows which pass to run).
int run_check(const CheckArgs& a) {
  const api::CheckResult r = api::check_path(a.model, a.target);
  std::map<std::string, int> by_fix;
  for (const auto& f : r.findings) {
    if (r.onnx) std::cout << f.node << (f.op.empty() ? "" : " (" + f.op + ")") << ": " << f.rule << "\n";
    else std::cout << f.node << " (" << f.op << "): " << f.rule << "; fix: " << f.fix << "\n";
    ++by_fix[f.fix];
  }
  for (const auto& n : r.notes) std::cout << "note: " << n << "\n";
  if (r.findings.empty()) {
    std::cout << a.model << ": " << r.target << " accepts every node (" << r.nodes << "); verdict " << r.verdict_basis << "\n";
    return 0;
  }
  std::cout << "verdict " << r.verdict_basis << "\n";
  if (r.onnx) {
    std::cout << r.findings.size() << " node(s) " << r.target << " would reject\n";
  } else {
    std::cout << r.findings.size() << " node(s) " << r.target << " would reject:\n";
    for (const auto& [fix, n] : by_fix) std::cout << "  " << n << " -> " << fix << "\n";
  }
  return static_cast<int>(ExitCode::kCheckFailed);
}

}  // namespace

void add_check(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("check", "List the nodes a deploy target would reject and what removes them (exit 1 if any)");
  auto a = std::make_shared<CheckArgs>();
  cmd->add_option("model", a->model, "A graph (.pb, .pbtxt, TF.js model.json, SavedModel) or an ONNX file (.onnx)")->required();
  std::string help = "generic, opencv, tflite or tensorrt; for .onnx: onnxruntime (= generic), tensorrt or opencv";
  cmd->add_option("--target", a->target, help)->default_str("generic");
  cmd->callback([=] { *action = [=] { return run_check(*a); }; });
}

}  // namespace tffreeze::cli
