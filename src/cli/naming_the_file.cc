#include <string_view>

#include "cli/commands.h"
#include "common/error.h"

namespace tffreeze::cli {

void naming_the_file(const std::string& file, const std::function<void()>& work) {
  try {
    work();
  } catch (const Error& e) {
    if (e.code() == ExitCode::kInternal || std::string_view(e.what()).starts_with(file)) throw;
    throw Error(e.code(), file + ": " + e.what());
  }
}

}  // namespace tffreeze::cli
