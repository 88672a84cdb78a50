// One function per subcommand: each adds its options to the app and sets the action that runs
// when it is chosen. Actions throw tffreeze::Error; main() turns that into the exit code.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace tffreeze::cli {

// The action of the chosen subcommand returns the process exit code.
using Action = std::function<int()>;

void add_inspect(CLI::App& app, Action* action);
void add_validate(CLI::App& app, Action* action);
void add_convert(CLI::App& app, Action* action);
void add_ckpt(CLI::App& app, Action* action);
void add_freeze(CLI::App& app, Action* action);
void add_run(CLI::App& app, Action* action);  // run and verify
void add_optimize(CLI::App& app, Action* action);
void add_check(CLI::App& app, Action* action);
void add_ops(CLI::App& app, Action* action);

// Runs `work`; an error it throws that names only a node (a kernel's, a converter's) gets the input
// file in front, as every message names its file. A bug of ours (exit 5) keeps its message.
void naming_the_file(const std::string& file, const std::function<void()>& work);

}  // namespace tffreeze::cli
