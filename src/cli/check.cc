// tffreeze check MODEL --target generic|opencv|tflite|tensorrt (MODEL.onnx: onnxruntime|tensorrt|opencv)
// Lists every node the target would reject, with the pass or flag that removes it; exit 1 if any.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/executable_model.h"
#include "cli/onnx_target.h"
#include "common/error.h"
#include "io/model.h"
#include "io/onnx_file.h"
#include "targets/targets.h"

namespace tffreeze::cli {
namespace {

struct CheckArgs {
  std::string model, target = "generic";
};

int run_check(const CheckArgs& a) {
  if (io::looks_like_onnx(a.model)) return check_onnx_file(a.model, a.target);
  const targets::Target& target = targets::find_target(a.target);
  io::Model model = executable_model(io::load_model(a.model));
  auto rejections = targets::check_target(model.graph(), target);
  // One line per node, then a summary per fix so the user knows which pass to run.
  std::map<std::string, int> by_fix;
  for (const auto& r : rejections) {
    std::cout << r.node << " (" << r.op << "): " << r.why << "; fix: " << r.fix << "\n";
    ++by_fix[r.fix];
  }
  if (rejections.empty()) {
    std::cout << a.model << ": " << target.name << " accepts every node (" << model.graph().node_size() << "); verdict "
              << target.verdict_basis << "\n";
    return 0;
  }
  std::cout << "verdict " << target.verdict_basis << "\n";
  std::cout << rejections.size() << " node(s) " << target.name << " would reject:\n";
  for (const auto& [fix, n] : by_fix) std::cout << "  " << n << " -> " << fix << "\n";
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
