// tffreeze ops [--json]: the ops the reference executor runs (so `run`, `verify` and optimize's
// proof accept them); `inspect MODEL` names the ops of one model that are missing.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "graph/op_registry.h"
#include "runtime/kernel.h"

namespace tffreeze::cli {

void add_ops(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("ops", "List the ops the executor has kernels for (inspect MODEL names a model's missing ones)");
  auto as_json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *as_json, "Print a JSON array of {op, in_registry}");
  cmd->callback([=] {
    *action = [=] {
      const auto ops = runtime::KernelRegistry::global().ops();
      nlohmann::json list = nlohmann::json::array();
      for (const auto& op : ops) {
        const bool known = graph::OpRegistry::global().find(op) != nullptr;
        if (*as_json) list.push_back({{"op", op}, {"in_registry", known}});
        else std::cout << op << "\n";
      }
      if (*as_json) std::cout << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      else std::cerr << ops.size() << " ops have kernels; Const, Placeholder, Merge and pass-through ops run without one\n";
      return 0;
    };
  });
}

}  // namespace tffreeze::cli
