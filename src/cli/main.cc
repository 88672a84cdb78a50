#include <google/protobuf/stubs/logging.h>

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "common/error.h"
#include "runtime/heap.h"

namespace {

// The process's data segment now (VmData: heap and private writable mappings, what RLIMIT_DATA
// counts), or 0 where /proc does not say.
std::uint64_t data_segment_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmData:", 0) == 0) return std::strtoull(line.c_str() + 7, nullptr, 10) << 10;  // "VmData:  1234 kB"
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tffreeze;
  // Protobuf logs parse complaints (e.g. invalid UTF-8 while trying one message type) on
  // stderr; our own one-line error says what matters.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  CLI::App app{"tffreeze: turn a trained TensorFlow model into a frozen, inference-optimized graph"};
  app.set_version_flag("--version", std::string("tffreeze ") + TFFREEZE_VERSION);
  app.require_subcommand(1);
  std::uint64_t memory_limit_mib = 0;
  app.add_option("--memory-limit", memory_limit_mib,
                 "Refuse to allocate more than this many MiB of memory (heap and anonymous mappings; files are mapped, not counted): exit 4 with a message, never the OOM killer");
  cli::Action action;
  cli::add_inspect(app, &action);
  cli::add_validate(app, &action);
  cli::add_convert(app, &action);
  cli::add_ckpt(app, &action);
  cli::add_freeze(app, &action);
  cli::add_run(app, &action);
  cli::add_optimize(app, &action);
  cli::add_check(app, &action);
  cli::add_ops(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "tffreeze: " << e.what() << " (see tffreeze --help)\n";
    return static_cast<int>(ExitCode::kUsage);
  }
  if (memory_limit_mib > 0) {
    // The limit is on the work: what the libraries reserved before main (OpenBLAS maps its buffer
    // pool at load, 130 MiB a thread of address space it has not touched) comes on top.
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(data_segment_bytes() + (memory_limit_mib << 20));
    if (::setrlimit(RLIMIT_DATA, &limit) != 0) {
      std::cerr << "tffreeze: --memory-limit " << memory_limit_mib << ": cannot set the limit\n";
      return static_cast<int>(ExitCode::kUsage);
    }
  } else {
    runtime::reserve_heap_in_large_pages();
  }
  try {
    return action ? action() : 0;
  } catch (const Error& e) {
    std::cerr << "tffreeze: " << one_line(e.what()) << "\n";
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    if (memory_limit_mib > 0) std::cerr << "tffreeze: out of memory: the work needs more than --memory-limit " << memory_limit_mib << " MiB\n";
    else std::cerr << "tffreeze: out of memory\n";
    return static_cast<int>(ExitCode::kUnsupported);
  } catch (const std::exception& e) {
    std::cerr << "tffreeze: " << one_line(internal_error_message(e.what())) << "\n";
    return static_cast<int>(ExitCode::kInternal);
  }
}
