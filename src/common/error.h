// Errors are values with an exit code and a one-line message that names the file, node or
// tensor. Library code throws tffreeze::Error; the CLI prints "tffreeze: <message>" and exits
// with the code.
#pragma once

#include <stdexcept>
#include <string>

namespace tffreeze {

// The CLI's exit-code contract (README "Exit codes").
enum class ExitCode : int {
  kOk = 0,
  kCheckFailed = 1,  // validate/verify found a problem
  kUsage = 2,        // bad command line
  kBadInput = 3,     // unreadable, corrupt or invalid input
  kUnsupported = 4,  // valid input that uses something tffreeze does not support (yet)
  kInternal = 5,     // a bug of tffreeze (a pass made an invalid graph, a broken invariant)
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// "path: what" with a bad-input code: the common case for parsers.
[[noreturn]] void throw_bad_input(const std::string& path, const std::string& what);
[[noreturn]] void throw_unsupported(const std::string& path, const std::string& what);
// "internal error: what; this is a bug in tffreeze, please report it ...": exit 5, never the
// user's file to blame.
[[noreturn]] void throw_internal(const std::string& what);
std::string internal_error_message(const std::string& what);
// Errors quote names from the user's files, which may hold any bytes: the CLI and the Python
// module print a message as one line, control characters escaped.
std::string one_line(const std::string& message);

}  // namespace tffreeze
