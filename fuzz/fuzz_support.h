// Shared by the libFuzzer targets: the input written to files a parser opens (tffreeze's readers
// take paths), and the rule that only tffreeze::Error may leave a parser. Anything else — a
// crash, a sanitizer report, another exception, a hang — is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "graph/validate.h"
#include "io/proto_io.h"
#include "runtime/executor.h"
#include "runtime/kernel.h"

namespace tffreeze::fuzz {

// A private directory for this process's files (tmpfs when available).
inline const std::string& work_dir() {
  static const std::string dir = [] {
    std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string d = base + "/tffreeze-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline void write(const std::string& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

// Splits the input in two at a position given by its first two bytes (for formats of two files).
inline std::pair<std::string_view, std::string_view> split2(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return {{}, {}};
  std::size_t at = (static_cast<std::size_t>(data[0]) << 8 | data[1]) % (size - 1);
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  at = std::min(at, rest.size());
  return {rest.substr(0, at), rest.substr(at)};
}

// The input as a small valid graph (text or binary GraphDef, 1 to 64 nodes), for the targets that
// run graphs (the executor, the ONNX export); nullopt for anything else. Loops and work the fuzzer
// makes up are kept small (2^26 element operations a graph, about a second under the sanitizers):
// a long loop or a huge product must end in a refusal, not in a sanitizer time-out.
inline std::optional<tf::GraphDef> small_valid_graph(const std::uint8_t* data, std::size_t size) {
  static const bool limited = (runtime::set_loop_limits(10'000, 200'000), true);
  (void)limited;
  runtime::set_work_budget(std::int64_t{1} << 26);
  tf::GraphDef g;
  std::string why;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!io::parse_text(text, &g, &why) && !io::parse_binary(text, &g, &why)) return std::nullopt;
  if (g.node_size() == 0 || g.node_size() > 64 || !graph::validate_graph(g).empty()) return std::nullopt;
  return g;
}

template <class F>
void expect_only_errors(F&& f) {
  try {
    f();
  } catch (const tffreeze::Error&) {
    // a clean, named refusal: what bad input must get
  }
}

}  // namespace tffreeze::fuzz
