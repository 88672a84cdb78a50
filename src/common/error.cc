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

std::string one_line(const std::string& message) {
  std::string out;
  for (unsigned char c : message) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace tffreeze
