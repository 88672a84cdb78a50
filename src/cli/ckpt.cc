// tffreeze ckpt list|dump|diff: what a checkpoint holds, one tensor as .npy, and how two differ.
#include <CLI/CLI.hpp>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/checkpoint_report.h"
#include "cli/commands.h"
#include "common/dtype.h"
#include "common/error.h"
#include "io/npy.h"

namespace tffreeze::cli {
namespace {

using io::checkpoint::open_checkpoint;

int run_list(const std::string& path, bool as_json) {
  auto ckpt = open_checkpoint(path);
  if (as_json) std::cout << api::checkpoint_entries_json(*ckpt).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else api::print_checkpoint_table(*ckpt, std::cout);
  return 0;
}

void print_values(const Tensor& t) {
  const std::int64_t n = t.dtype == tf::DT_STRING ? static_cast<std::int64_t>(t.strings.size()) : t.num_elements();
  std::cout << dtype_name(t.dtype) << " " << dims_string(t.shape) << " (" << n << " values):";
  for (std::int64_t i = 0; i < n && i < 16; ++i) {
    if (t.dtype == tf::DT_STRING) std::cout << " \"" << t.strings[static_cast<std::size_t>(i)].substr(0, 40) << "\"";
    else std::cout << " " << element_as_double(t, i);
  }
  std::cout << (n > 16 ? " ...\n" : "\n");
}

int run_dump(const std::string& path, const std::string& name, const std::string& out) {
  auto ckpt = open_checkpoint(path);
  if (!ckpt->find(name)) throw Error(ExitCode::kBadInput, ckpt->prefix() + ": checkpoint has no tensor '" + name + "'");
  Tensor t = ckpt->read(name);
  if (out.empty()) {
    print_values(t);
  } else {
    io::write_npy(t, out);
    std::cerr << "wrote " << out << "\n";
  }
  return 0;
}

int run_diff(const std::string& a_path, const std::string& b_path, double atol) {
  auto a = open_checkpoint(a_path), b = open_checkpoint(b_path);
  int differing = 0;
  for (const auto& e : a->entries()) {
    const auto* other = b->find(e.name);
    if (!other) {
      std::cout << "only in A: " << e.name << "\n";
      ++differing;
      continue;
    }
    if (other->dtype != e.dtype || other->shape != e.shape) {
      std::cout << "differs:   " << e.name << "  " << dtype_name(e.dtype) << dims_string(e.shape) << " vs "
                << dtype_name(other->dtype) << dims_string(other->shape) << "\n";
      ++differing;
      continue;
    }
    Tensor x = a->read(e.name), y = b->read(e.name);
    if (x.dtype == tf::DT_STRING) {
      if (x.strings != y.strings) {
        std::cout << "differs:   " << e.name << "  (strings)\n";
        ++differing;
      }
      continue;
    }
    double max_abs = 0;
    for (std::int64_t i = 0, n = x.num_elements(); i < n; ++i) {
      double d = std::abs(element_as_double(x, i) - element_as_double(y, i));
      if (std::isnan(d)) d = std::isnan(element_as_double(x, i)) && std::isnan(element_as_double(y, i)) ? 0 : INFINITY;
      max_abs = std::max(max_abs, d);
    }
    if (max_abs > atol) {
      std::cout << "differs:   " << e.name << "  max abs difference " << max_abs << "\n";
      ++differing;
    }
  }
  for (const auto& e : b->entries()) {
    if (!a->find(e.name)) {
      std::cout << "only in B: " << e.name << "\n";
      ++differing;
    }
  }
  std::cout << differing << " of " << a->entries().size() << " tensors differ\n";
  return differing ? static_cast<int>(ExitCode::kCheckFailed) : 0;
}

// Reads every tensor, so every checksum and size is checked; lists each problem.
int run_check(const std::string& path) {
  auto ckpt = open_checkpoint(path);
  std::int64_t bytes = 0;
  int bad = 0;
  for (const auto& e : ckpt->entries()) {
    try {
      Tensor t = ckpt->read(e.name);
      bytes += static_cast<std::int64_t>(t.bytes.size());
      for (const auto& s : t.strings) bytes += static_cast<std::int64_t>(s.size());
    } catch (const Error& err) {
      std::cout << err.what() << "\n";
      ++bad;
    }
  }
  std::cout << ckpt->prefix() << ": " << ckpt->entries().size() - bad << " of " << ckpt->entries().size() << " tensors intact ("
            << bytes << " bytes read)\n";
  return bad ? static_cast<int>(ExitCode::kBadInput) : 0;
}

}  // namespace

void add_ckpt(CLI::App& app, Action* action) {
  auto* ckpt = app.add_subcommand("ckpt", "Read checkpoints: list tensors, dump one as .npy, check integrity, diff two");
  ckpt->require_subcommand(1);
  const char* path_help = "Checkpoint prefix, PREFIX.index, a directory with a 'checkpoint' file, or a SavedModel dir";

  auto* list = ckpt->add_subcommand("list", "Every tensor: name, dtype, shape, bytes");
  auto list_path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  list->add_option("checkpoint", *list_path, path_help)->required();
  list->add_flag("--json", *as_json, "An array of {name, dtype, shape, bytes}");
  list->callback([=] { *action = [=] { return run_list(*list_path, *as_json); }; });

  auto* dump = ckpt->add_subcommand("dump", "One tensor's values, or as a NumPy .npy file with -o");
  auto dump_path = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  dump->add_option("checkpoint", *dump_path, path_help)->required();
  dump->add_option("name", *name, "Tensor name (see ckpt list)")->required();
  dump->add_option("-o,--output", *out, "Write FILE.npy");
  dump->callback([=] { *action = [=] { return run_dump(*dump_path, *name, *out); }; });

  auto* check = ckpt->add_subcommand("check", "Read every tensor and verify its checksum and size (exit 3 if any is damaged)");
  auto check_path = std::make_shared<std::string>();
  check->add_option("checkpoint", *check_path, path_help)->required();
  check->callback([=] { *action = [=] { return run_check(*check_path); }; });

  auto* diff = ckpt->add_subcommand("diff", "Which tensors differ between two checkpoints (exit 1 if any)");
  auto a = std::make_shared<std::string>(), b = std::make_shared<std::string>();
  auto atol = std::make_shared<double>(0.0);
  diff->add_option("a", *a, "First checkpoint")->required();
  diff->add_option("b", *b, "Second checkpoint")->required();
  diff->add_option("--atol", *atol, "Differences up to this are equal (default 0)");
  diff->callback([=] { *action = [=] { return run_diff(*a, *b, *atol); }; });
}

}  // namespace tffreeze::cli
