// Test helpers: where the real TensorFlow fixtures are, running the CLI, temp files, and small
// graph builders.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::test {

// Absolute path of a file under ../shared/testdata, or "" when the fixtures are missing.
std::string fixture(const std::string& relative);

// Fixtures are missing: fail under CI=true, skip (visibly) elsewhere.
#define REQUIRE_FIXTURE(var, relative)                                                          \
  const std::string var = ::tffreeze::test::fixture(relative);                                  \
  if (var.empty()) {                                                                            \
    if (::tffreeze::test::in_ci()) FAIL() << "missing fixture (CI=true): " << (relative);       \
    GTEST_SKIP() << "fixture not found: " << (relative) << " (set TFFREEZE_TESTDATA)";          \
  }

bool in_ci();

// Every fixture file under testdata whose name matches one of the suffixes, sorted.
std::vector<std::string> fixtures_with_suffix(const std::vector<std::string>& suffixes);

struct CliResult {
  int exit_code = -1;  // -1: killed by a signal
  int signal = 0;      // SIGALRM: it ran past its time limit
  std::string out, err;
};
// Runs the tffreeze binary with the given arguments (no shell involved); a time limit in
// seconds (0: none) ends a hanging process with SIGALRM.
CliResult run_cli(const std::vector<std::string>& args, unsigned timeout_seconds = 0);
// Runs any program (argv[0] looked up on PATH).
CliResult run_process(const std::vector<std::string>& argv, unsigned timeout_seconds = 0);

// A fresh directory for one test's files.
std::string temp_dir();
// A tensor name as the runners name its .npy file: '/' and ':' become '_'.
std::string file_safe(std::string name);
void write_bytes(const std::string& path, const std::string& bytes);
std::string read_bytes(const std::string& path);

// Small graph builders.
tf::NodeDef* add_node(tf::GraphDef* g, const std::string& name, const std::string& op, std::vector<std::string> inputs = {});
tf::NodeDef* add_const(tf::GraphDef* g, const std::string& name, std::vector<float> values, std::vector<long long> shape);
tf::NodeDef* add_placeholder(tf::GraphDef* g, const std::string& name, std::vector<long long> shape);

}  // namespace tffreeze::test
