#include "common/error.h"

namespace tffreeze {

void throw_bad_input(const std::string& path, const std::string& what) {
  throw Error(ExitCode::kBadInput, path + ": " + what);
}

void throw_unsupported(const std::string& path, const std::string& what) {
  throw Error(ExitCode::kUnsupported, path + ": " + what);
}

}  // namespace tffreeze
