// tffreeze inspect MODEL [--json] [--tags a,b]
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/checkpoint_report.h"
#include "api/inspect.h"
#include "cli/commands.h"
#include "export/onnx/summary.h"
#include "io/checkpoint/checkpoint.h"
#include "io/model.h"
#include "io/onnx_file.h"

namespace tffreeze::cli {
namespace {

using json = nlohmann::json;

std::string shape_text(const json& shape) {
  if (shape.is_null()) return "?";
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i].get<long long>());
  return s + "]";
}

void print_tensors(const char* title, const json& list) {
  std::cout << title << " (" << list.size() << "):\n";
  for (const auto& t : list) {
    std::cout << "  " << t["name"].get<std::string>();
    if (t.contains("dtype")) std::cout << "  " << t["dtype"].get<std::string>() << " " << shape_text(t.value("shape", json()));
    if (t.contains("op")) std::cout << "  (" << t["op"].get<std::string>() << ")";
    if (t.value("training_flag", false)) std::cout << "  [training flag]";
    std::cout << "\n";
  }
}

void print_text(const json& s) {
  std::cout << "format:    " << s["format"].get<std::string>() << ", producer " << s["producer"];
  if (s.contains("tensorflow_version")) std::cout << ", TensorFlow " << s["tensorflow_version"].get<std::string>();
  std::cout << "\nnodes:     " << s["node_count"] << " in the graph, " << s["functions"] << " functions with "
            << s["function_node_count"] << " nodes\n";
  std::vector<std::pair<int, std::string>> ops;
  for (const auto& [op, n] : s["ops"].items()) ops.push_back({n.get<int>(), op});
  std::sort(ops.rbegin(), ops.rend());
  std::cout << "ops:      ";
  for (std::size_t i = 0; i < ops.size() && i < 12; ++i) std::cout << " " << ops[i].second << " " << ops[i].first;
  if (ops.size() > 12) std::cout << " ... (" << ops.size() << " op types)";
  std::cout << "\n";
  print_tensors("inputs", s["inputs"]);
  print_tensors("outputs", s["outputs"]);
  long long params = 0;
  for (const auto& v : s["variables"]) params += v["params"].is_null() ? 0 : v["params"].get<long long>();
  std::cout << "variables (" << s["variables"].size() << ", " << params << " parameters):\n";
  std::size_t shown = 0;
  for (const auto& v : s["variables"]) {
    if (shown++ == 20) {
      std::cout << "  ...\n";
      break;
    }
    std::cout << "  " << v["name"].get<std::string>() << "  " << v["dtype"].get<std::string>() << " " << shape_text(v["shape"]) << "\n";
  }
  for (const auto& sig : s["signatures"]) {
    std::cout << "signature " << sig["key"].get<std::string>() << " (" << sig["method"].get<std::string>() << ")\n";
    for (const auto& t : sig["inputs"])
      std::cout << "  in  " << t["key"].get<std::string>() << " = " << t["name"].get<std::string>() << "  "
                << t["dtype"].get<std::string>() << " " << shape_text(t["shape"]) << "\n";
    for (const auto& t : sig["outputs"])
      std::cout << "  out " << t["key"].get<std::string>() << " = " << t["name"].get<std::string>() << "  "
                << t["dtype"].get<std::string>() << " " << shape_text(t["shape"]) << "\n";
    if (sig.contains("functions") && !sig["functions"].empty()) {
      std::cout << "  uses " << sig["functions"].size() << " functions";
      std::size_t shown = 0;
      for (const auto& f : sig["functions"]) {
        if (shown++ == 4) {
          std::cout << " ...";
          break;
        }
        std::cout << (shown == 1 ? ": " : ", ") << f.get<std::string>();
      }
      std::cout << "\n";
    }
    if (sig.contains("variables") && !sig["variables"].empty()) {
      std::cout << "  uses " << sig["variables"].size() << " variables:";
      for (const auto& v : sig["variables"]) std::cout << " " << v.get<std::string>();
      std::cout << "\n";
    }
    if (sig.value("changes_state", false)) std::cout << "  changes state (trains or assigns): freeze refuses it\n";
  }
  if (!s["tags"].empty()) std::cout << "tags:      " << s["tags"].dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  if (!s["control_flow"].empty()) std::cout << "control flow: " << s["control_flow"].dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  if (s["ops_without_kernel"].empty()) {
    std::cout << "executor:  has a kernel for every op (run, verify and optimize's proof can run it)\n";
  } else {
    std::cout << "executor:  no kernel for";
    for (const auto& [op, n] : s["ops_without_kernel"].items()) std::cout << " " << op << " (" << n.get<int>() << ")";
    std::cout << ": run, verify and optimize's proof refuse it (optimize --no-verify writes it unproven)\n";
  }
  if (s["training_ops"].empty()) {
    std::cout << "training-only ops: none\n";
  } else {
    std::cout << "training-only ops (a deploy runtime will reject these):\n";
    for (const auto& [category, names] : s["training_ops"].items()) {
      std::cout << "  " << category << " (" << names.size() << "):";
      for (std::size_t i = 0; i < names.size() && i < 4; ++i) std::cout << " " << names[i].get<std::string>();
      if (names.size() > 4) std::cout << " ...";
      std::cout << "\n";
    }
  }
}

void print_onnx_text(const json& s) {
  std::cout << "format:    ONNX, IR version " << s["ir_version"] << ", opset";
  for (const auto& [domain, version] : s["opset"].items()) std::cout << " " << domain << " " << version;
  std::cout << ", producer " << s["producer"].get<std::string>() << "\nnodes:     " << s["node_count"] << "\nops:      ";
  std::vector<std::pair<int, std::string>> ops;
  for (const auto& [op, n] : s["ops"].items()) ops.push_back({n.get<int>(), op});
  std::sort(ops.rbegin(), ops.rend());
  for (const auto& [n, op] : ops) std::cout << " " << op << " " << n;
  std::cout << "\n";
  auto print_values = [](const char* title, const json& list) {
    std::cout << title << " (" << list.size() << "):\n";
    for (const auto& v : list) {
      std::cout << "  " << v["name"].get<std::string>() << "  " << v.value("dtype", "?") << " [";
      if (v.contains("shape"))
        for (std::size_t i = 0; i < v["shape"].size(); ++i) std::cout << (i ? "," : "") << (v["shape"][i].is_string() ? v["shape"][i].get<std::string>() : std::to_string(v["shape"][i].get<long long>()));
      std::cout << "]\n";
    }
  };
  print_values("inputs", s["inputs"]);
  print_values("outputs", s["outputs"]);
  std::cout << "weights:   " << s["initializers"]["count"] << " initializers, " << s["initializers"]["parameters"] << " parameters, "
            << s["initializers"]["external"] << " in external data\n";
}

}  // namespace

void add_inspect(CLI::App& app, Action* action) {
  auto* cmd = app.add_subcommand("inspect", "Summarize a model: format, ops, inputs, outputs, variables, signatures, training-only ops");
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto tags = std::make_shared<std::vector<std::string>>();
  cmd->add_option("model", *path, "GraphDef (.pb/.pbtxt), MetaGraphDef (.meta), SavedModel dir, TF.js model.json, ONNX .onnx, or a checkpoint")->required();
  cmd->add_flag("--json", *as_json, "Print one JSON object (keys in the README)");
  cmd->add_option("--tags", *tags, "SavedModel meta graph tags (default: serve)")->delimiter(',');
  cmd->callback([=] {
    *action = [=] {
      if (*as_json) {
        // ONNX and user names need not be UTF-8: such bytes print as U+FFFD instead of failing.
        std::cout << api::inspect_json(*path, *tags).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        return 0;
      }
      if (api::is_checkpoint(*path)) {
        auto ckpt = io::checkpoint::open_checkpoint(*path);
        json summary = api::checkpoint_summary_json(*ckpt);
        std::cout << "format:    " << summary["format"].get<std::string>() << "\nprefix:    " << ckpt->prefix()
                  << "\ntensors:   " << summary["tensor_count"] << ", " << summary["total_bytes"] << " bytes\n";
        api::print_checkpoint_table(*ckpt, std::cout);
      } else if (io::looks_like_onnx(*path)) {
        print_onnx_text(onnx_export::summarize_onnx(io::load_onnx(*path)));
      } else {
        print_text(api::model_summary_json(io::load_model(*path, {*tags})));
      }
      return 0;
    };
  });
}

}  // namespace tffreeze::cli
