// tffreeze validate MODEL: exit 0 when the graph is usable, 1 with one line per problem.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "graph/validate.h"
#include "io/model.h"

namespace tffreeze::cli {

void add_validate(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("validate", "Check that a graph is usable: names, inputs, outputs, attrs, cycles, functions");
  auto path = std::make_shared<std::string>();
  auto tags = std::make_shared<std::vector<std::string>>();
  cmd->add_option("model", *path, "The model to check")->required();
  cmd->add_option("--tags", *tags, "SavedModel meta graph tags (default: serve)")->delimiter(',');
  cmd->callback([=] {
    *action = [=] {
      io::Model model = io::load_model(*path, {*tags});
      auto problems = graph::validate_graph(model.graph());
      for (const auto& p : problems) std::cout << *path << ": " << p << "\n";
      if (!problems.empty()) {
        std::cerr << "tffreeze: " << *path << ": " << problems.size() << " problem(s)\n";
        return static_cast<int>(ExitCode::kCheckFailed);
      }
      std::cout << *path << ": valid (" << model.graph().node_size() << " nodes, "
                << model.graph().library().function_size() << " functions)\n";
      return 0;
    };
  });
}

}  // namespace tffreeze::cli
