#include "common/error.h"

namespace tffreeze {

namespace {
std::string located(const std::string& path, const std::string& what) {
  std::string message;
  message.reserve(path.size() + 2 + what.size());
  message.append(path).append(": ").append(what);
  return message;
}
}  // namespace

void throw_bad_input(const std::string& path, const std::string& what) {
  throw Error(ExitCode::kBadInput, located(path, what));
}

void throw_unsupported(const std::string& path, const std::string& what) {
  throw Error(ExitCode::kUnsupported, located(path, what));
}

std::string internal_error_message(const std::string& what) {
  return "internal error: " + what + "; this is a bug in tffreeze, please report it with the command and the model (nothing was written)";
}

void throw_internal(const std::string& what) { throw Error(ExitCode::kInternal, internal_error_message(what)); }

}  // namespace tffreeze
