#include "graph/training_ops.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace tffreeze::graph {
namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }
bool ends_with(const std::string& s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
bool contains(const std::string& s, std::string_view p) { return s.find(p) != std::string::npos; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "gradients/...", "gradients_1/...", "scope/gradients/..."
bool in_gradients_scope(const std::string& name) {
  for (std::size_t pos = 0;;) {
    auto g = name.find("gradients", pos);
    if (g == std::string::npos) return false;
    bool start_ok = g == 0 || name[g - 1] == '/';
    std::size_t end = g + 9;
    if (end < name.size() && name[end] == '_') {
      ++end;
      while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
    }
    if (start_ok && end < name.size() && name[end] == '/') return true;
    pos = g + 1;
  }
}

const std::unordered_set<std::string> kRandomOps = {"RandomUniform", "RandomUniformInt", "RandomStandardNormal",
                                                    "TruncatedNormal", "StatelessRandomUniform", "StatelessRandomUniformV2"};
const std::unordered_set<std::string> kSaverOps = {"Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice",
                                                   "MergeV2Checkpoints", "ShardedFilename", "ShardedFilespec"};
const std::unordered_set<std::string> kAssertOps = {"Assert", "Print", "PrintV2", "CheckNumerics"};
const std::unordered_set<std::string> kStateOps = {"Assign", "AssignAdd", "AssignSub", "AssignVariableOp",
                                                   "AssignAddVariableOp", "AssignSubVariableOp", "ScatterAdd",
                                                   "ScatterSub", "ScatterUpdate", "ResourceScatterAdd",
                                                   "ResourceScatterUpdate"};

bool is_optimizer_apply(const std::string& op) {
  return starts_with(op, "Apply") || starts_with(op, "ResourceApply") || starts_with(op, "SparseApply") ||
         starts_with(op, "ResourceSparseApply");
}

const char* category_of_op(const std::string& op) {
  if (contains(op, "Queue")) return "queues";
  if (contains(op, "Iterator") || ends_with(op, "Dataset") || ends_with(op, "DatasetV2") || ends_with(op, "DatasetV3")) {
    return "iterators";
  }
  if (is_optimizer_apply(op)) return "optimizer";
  if (kSaverOps.count(op)) return "saver";
  if (ends_with(op, "Summary") || ends_with(op, "SummaryV2") || op == "WriteSummary" || op == "MergeSummary") {
    return "summaries";
  }
  if (kAssertOps.count(op)) return "assertions";
  if (kStateOps.count(op)) return "state_updates";
  return nullptr;
}

// Dropout: a random op whose value reaches a Floor (keep_prob form), GreaterEqual (rate form)
// within a few element-wise steps. Weight initializers (random -> Mul/Add -> Assign) do not.
void find_dropout(const GraphView& view, std::vector<bool>* marked) {
  static const std::unordered_set<std::string> kPassThrough = {"Add", "AddV2", "Mul", "Sub", "RealDiv", "Cast", "Identity"};
  for (int i = 0; i < view.size(); ++i) {
    if (!is_random_op(view.node(i).op()) || in_gradients_scope(view.node(i).name())) continue;
    std::vector<std::pair<int, int>> work{{i, 0}};
    std::vector<int> hits;
    while (!work.empty()) {
      auto [n, depth] = work.back();
      work.pop_back();
      for (const auto& e : view.consumers(n)) {
        if (e.control()) continue;
        const std::string& op = view.node(e.consumer).op();
        if (op == "Floor" || op == "GreaterEqual") hits.push_back(e.consumer);
        else if (depth < 3 && kPassThrough.count(op)) work.push_back({e.consumer, depth + 1});
      }
    }
    if (!hits.empty()) {
      (*marked)[i] = true;
      for (int h : hits) (*marked)[h] = true;
    }
  }
}

}  // namespace

bool is_random_op(const std::string& op) { return kRandomOps.count(op) > 0 || op.rfind("StatelessRandom", 0) == 0; }

bool is_state_update(const std::string& op) { return kStateOps.count(op) > 0 || is_optimizer_apply(op); }

bool is_training_flag(const tf::NodeDef& node) {
  if (node.op() != "Placeholder" && node.op() != "PlaceholderWithDefault") return false;
  std::string name = lower(node.name());
  auto slash = name.rfind('/');
  std::string leaf = slash == std::string::npos ? name : name.substr(slash + 1);
  auto dtype = node.attr().find("dtype");
  bool is_bool = dtype != node.attr().end() && dtype->second.type() == tf::DT_BOOL;
  if (contains(leaf, "learning_phase") || contains(leaf, "keep_prob") || contains(leaf, "dropout")) return true;
  return is_bool && (contains(leaf, "training") || contains(leaf, "train") || contains(leaf, "phase"));
}

bool is_bookkeeping_op(const std::string& op) {
  static const std::unordered_set<std::string> kBookkeeping = {
      "NoOp", "Const", "Placeholder", "PlaceholderWithDefault", "Variable", "VariableV2", "VarHandleOp",
      "VarIsInitializedOp", "IsVariableInitialized", "ControlTrigger", "DestroyResourceOp", "StringJoin"};
  return kBookkeeping.count(op) || category_of_op(op) != nullptr;
}

TrainingOps find_training_ops(const GraphView& view) {
  TrainingOps out;
  std::vector<bool> dropout(view.size(), false);
  find_dropout(view, &dropout);
  for (int i = 0; i < view.size(); ++i) {
    const auto& node = view.node(i);
    if (dropout[i]) out["dropout"].push_back(node.name());
    if (is_training_flag(node)) out["training_flags"].push_back(node.name());
    if (const char* category = category_of_op(node.op())) out[category].push_back(node.name());
    else if (in_gradients_scope(node.name())) out["gradients"].push_back(node.name());
  }
  return out;
}

}  // namespace tffreeze::graph
