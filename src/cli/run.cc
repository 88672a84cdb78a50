// tffreeze run MODEL --input NAME=FILE.npy ... [--output NAME]... [--out-dir DIR] [-c CKPT]
// tffreeze verify A B [--input NAME=FILE.npy]... [--random N --seed S] [--rtol R --atol T]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "api/optimize.h"
#include "api/run.h"
#include "cli/commands.h"
#include "common/dtype.h"
#include "common/error.h"
#include "common/file_util.h"
#include "io/npy.h"
#include "runtime/executor.h"
#include "runtime/heap.h"
#include "runtime/verify.h"

namespace tffreeze::cli {
namespace {

std::map<std::string, Tensor> read_inputs(const std::vector<std::string>& specs) {
  std::map<std::string, Tensor> feeds;
  for (const auto& spec : specs) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) throw Error(ExitCode::kUsage, "--input " + spec + ": expected NAME=FILE.npy");
    feeds[spec.substr(0, eq)] = io::read_npy(spec.substr(eq + 1));
  }
  return feeds;
}


std::string file_safe(std::string name) {
  std::replace(name.begin(), name.end(), '/', '_');
  std::replace(name.begin(), name.end(), ':', '_');
  return name;
}

void print_summary(const std::string& name, const Tensor& t) {
  std::cout << name << ": " << dtype_name(t.dtype) << " " << dims_string(t.shape);
  if (t.dtype != tf::DT_STRING && t.num_elements() > 0) {
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    const std::int64_t n = t.num_elements();
    for (std::int64_t i = 0; i < n; ++i) {
      double v = element_as_double(t, i);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
    }
    std::cout << "  min " << lo << "  max " << hi << "  mean " << sum / static_cast<double>(n);
    std::cout << "  first:";
    for (std::int64_t i = 0; i < n && i < 6; ++i) std::cout << " " << element_as_double(t, i);
  }
  std::cout << "\n";
}

struct RunArgs {
  std::string model, checkpoint, out_dir;
  std::vector<std::string> inputs, outputs, tags;
  bool profile = false;
  int repeat = 1;
};

int run(const RunArgs& a) {
  const api::Runnable runnable = api::runnable_model(a.model, a.checkpoint, a.tags, a.outputs);
  const std::vector<std::string>& outputs = runnable.outputs;
  auto feeds = read_inputs(a.inputs);
  api::check_feeds(runnable.graph, feeds);
  runtime::Executor executor(runnable.graph);
  std::map<std::string, double> per_op;
  if (a.profile) executor.set_profile(&per_op);
  std::vector<Tensor> results;
  naming_the_file(a.model, [&] { results = executor.run(feeds, outputs); });
  if (a.repeat > 1) {  // latency: the first run above warmed up (constants decoded)
    runtime::keep_freed_tensor_memory();  // the runs reuse each other's tensor memory
    auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < a.repeat; ++k) executor.run(feeds, outputs);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << "latency: " << ms / a.repeat << " ms per run (mean of " << a.repeat << ")\n";
  }
  if (a.profile) {
    std::vector<std::pair<double, std::string>> sorted;
    double total = 0;
    for (const auto& [op, ms] : per_op) {
      sorted.push_back({ms, op});
      total += ms;
    }
    std::sort(sorted.rbegin(), sorted.rend());
    std::cout << "profile (kernel time by op type, " << total << " ms in all):\n";
    for (const auto& [ms, op] : sorted) std::cout << "  " << op << "  " << ms << " ms\n";
  }
  if (!a.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.out_dir, ec);
    if (ec) throw Error(ExitCode::kBadInput, a.out_dir + ": cannot create the output directory: " + ec.message());
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    print_summary(outputs[i], results[i]);
    if (!a.out_dir.empty()) {
      std::string path = join_path(a.out_dir, file_safe(outputs[i]) + ".npy");
      io::write_npy(results[i], path);
    }
  }
  return 0;
}

struct VerifyArgs {
  std::string a, b;
  std::vector<std::string> inputs, outputs, shapes;
  int random = 1;
  std::uint64_t seed = 0;
  double rtol = 1e-5, atol = 1e-5;
};

int verify(const VerifyArgs& v) {
  api::VerifyOptions options;
  options.feeds = read_inputs(v.inputs);
  options.outputs = v.outputs;
  options.shapes = v.shapes;
  options.random = v.random;
  options.seed = v.seed;
  options.rtol = v.rtol, options.atol = v.atol;
  const api::Verified verified = api::verify_models(io::load_model(v.a), io::load_model(v.b), options);
  const auto& worst = verified.differences;
  const int batches = verified.batches;
  bool ok = true;
  for (const auto& [name, d] : worst) {
    std::cout << name << ": max abs " << d.max_abs << ", max rel " << d.max_rel
              << (d.mismatch.empty() ? "" : " (" + d.mismatch + ")") << (d.within_tolerance ? "  ok" : "  DIFFERS") << "\n";
    ok = ok && d.within_tolerance;
  }
  std::cout << (ok ? "equal" : "different") << " within rtol " << v.rtol << ", atol " << v.atol << " on " << batches << " input batch(es)\n";
  if (!ok) api::report_departure(verified.departure, nullptr, std::cout);
  return ok ? 0 : static_cast<int>(ExitCode::kCheckFailed);
}

}  // namespace

void add_run(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("run", "Execute a graph on the CPU and write its outputs as .npy");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("model", a->model, "A frozen graph (or any model, with -c)")->required();
  cmd->add_option("-i,--input", a->inputs, "NAME=FILE.npy (repeatable)");
  cmd->add_option("--output", a->outputs, "Tensor to fetch (repeatable; default: the inferred outputs)");
  cmd->add_option("--out-dir", a->out_dir, "Write each output as DIR/<name with / and : as _>.npy");
  cmd->add_option("-c,--checkpoint", a->checkpoint, "Variables from this checkpoint (freezes in memory)");
  cmd->add_option("--tags", a->tags, "SavedModel meta graph tags (default: serve)")->delimiter(',');
  cmd->add_flag("--profile", a->profile, "Print the kernel time spent per op type");
  cmd->add_option("--repeat", a->repeat, "Run N more times and print the mean latency")->check(CLI::Range(1, 1000000));
  cmd->callback([=] { *action = [=] { return run(*a); }; });

  auto* ver = app.add_subcommand("verify", "Run two graphs on the same inputs and compare every common output (exit 1 if they differ)");
  auto v = std::make_shared<VerifyArgs>();
  ver->add_option("a", v->a, "Reference graph")->required();
  ver->add_option("b", v->b, "Graph to check")->required();
  ver->add_option("-i,--input", v->inputs, "NAME=FILE.npy (default: random inputs)");
  ver->add_option("--output", v->outputs, "Outputs to compare (default: A's inferred outputs)");
  ver->add_option("--random", v->random, "Number of random input batches (default 1)");
  ver->add_option("--seed", v->seed, "Seed of the random inputs");
  ver->add_option("--shape", v->shapes, "NAME=[D0,...]: shape of a random input (unknown dims default to 1)");
  ver->add_option("--rtol", v->rtol, "Relative tolerance (default 1e-5)");
  ver->add_option("--atol", v->atol, "Absolute tolerance (default 1e-5)");
  ver->callback([=] { *action = [=] { return verify(*v); }; });
}

}  // namespace tffreeze::cli
