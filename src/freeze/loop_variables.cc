#include "freeze/loop_variables.h"

#include <set>
#include <unordered_map>
#include <vector>

#include "common/dtype.h"
#include "common/error.h"
#include "graph/function_graph.h"
#include "graph/tensor_ref.h"

namespace tffreeze::freeze {
namespace {


// A copy of `f` in which the arguments in `typed` carry values: reads become Identity, and
// (for loop bodies) outputs that pass the argument on carry the value too.
tf::FunctionDef specialize(const tf::FunctionDef& f, const std::map<int, tf::DataType>& typed, bool retype_outputs,
                           const std::string& new_name, const std::string& user) {
  tf::FunctionDef c = f;
  c.mutable_signature()->set_name(new_name);
  std::unordered_map<std::string, tf::DataType> handles;  // arg or Identity of one -> value dtype
  for (const auto& [j, dtype] : typed) {
    if (j >= c.signature().input_arg_size()) {
      throw Error(ExitCode::kBadInput, "node '" + user + "': function '" + f.signature().name() + "' has fewer arguments than inputs");
    }
    auto* arg = c.mutable_signature()->mutable_input_arg(j);
    arg->set_type(dtype);
    arg->clear_handle_data();
    handles[arg->name()] = dtype;
    c.mutable_arg_attr()->erase(static_cast<std::uint32_t>(j));
    c.mutable_resource_arg_unique_id()->erase(static_cast<std::uint32_t>(j));
  }
  // Body nodes come in any order: repeat until every use of a handle has been rewritten.
  std::set<std::string> done;
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& node : *c.mutable_node_def()) {
      if (done.count(node.name()) || node.input_size() == 0) continue;
      graph::TensorRef ref = graph::parse_input(node.input(0));
      std::string source(ref.node);
      auto h = handles.find(source);
      for (int k = 1; h == handles.end() && k < node.input_size(); ++k) {
        graph::TensorRef other = graph::parse_input(node.input(k));
        if (!other.control && handles.count(std::string(other.node))) {
          throw Error(ExitCode::kUnsupported, "node '" + user + "': function '" + f.signature().name() + "' passes frozen variable '" +
                                                  std::string(other.node) + "' to '" + node.name() + "' (" + node.op() +
                                                  "); only reading it is supported inside loops");
        }
      }
      if (h == handles.end() || ref.control) continue;
      const tf::DataType dtype = h->second;
      if (node.op() == "ReadVariableOp" || node.op() == "Identity") {
        const bool read = node.op() == "ReadVariableOp";
        node.set_op("Identity");
        node.mutable_attr()->erase("dtype");
        (*node.mutable_attr())["T"].set_type(dtype);
        if (!read) handles[node.name()] = dtype;  // still the variable, passed on
        done.insert(node.name());
        changed = true;
      } else if (node.op() != "NoOp") {
        throw Error(ExitCode::kUnsupported, "node '" + user + "': function '" + f.signature().name() + "' uses frozen variable '" + source +
                                                "' in '" + node.name() + "' (" + node.op() + "); only reading it is supported inside loops");
      }
    }
  }
  // A read's output arg was "value"; as an Identity it is "output".
  std::set<std::string> reads;
  for (const auto& node : c.node_def())
    if (done.count(node.name()) && node.op() == "Identity") reads.insert(node.name());
  auto rename_output_arg = [&](std::string* ref) {
    graph::TensorRef r = graph::parse_input(*ref);
    if (!r.control && r.arg == "value" && reads.count(std::string(r.node))) *ref = std::string(r.node) + ":output:" + std::to_string(r.index);
  };
  for (auto& node : *c.mutable_node_def())
    for (auto& in : *node.mutable_input()) rename_output_arg(&in);
  for (auto& [name, value] : *c.mutable_ret()) rename_output_arg(&value);
  if (retype_outputs) {
    for (const auto& [j, dtype] : typed) {
      if (j >= c.signature().output_arg_size()) continue;
      auto* out = c.mutable_signature()->mutable_output_arg(j);
      auto ret = c.ret().find(out->name());
      if (ret == c.ret().end() || !handles.count(std::string(graph::parse_input(ret->second).node))) {
        throw Error(ExitCode::kUnsupported, "node '" + user + "': loop body '" + f.signature().name() + "' does not pass variable " +
                                                std::to_string(j) + " on unchanged");
      }
      out->set_type(dtype);
      out->clear_handle_data();
    }
  }
  return c;
}

}  // namespace

void specialize_frozen_loop_variables(tf::GraphDef* graph, const std::map<std::string, tf::DataType>& frozen) {
  if (frozen.empty() || graph->library().function_size() == 0) return;
  std::unordered_map<std::string, const tf::NodeDef*> by_name;
  for (const auto& n : graph->node()) by_name.emplace(n.name(), &n);
  // The frozen variable behind an input, through Identity (ReadVariableOp became Identity too,
  // but a loop takes the handle, not a read).
  auto frozen_source = [&](const std::string& input) -> const tf::DataType* {
    std::string name(graph::parse_input(input).node);
    for (int hops = 0; hops < 64; ++hops) {
      if (auto f = frozen.find(name); f != frozen.end()) return &f->second;
      auto it = by_name.find(name);
      if (it == by_name.end() || it->second->op() != "Identity" || it->second->input_size() == 0) return nullptr;
      name = std::string(graph::parse_input(it->second->input(0)).node);
    }
    return nullptr;
  };
  std::vector<tf::FunctionDef> added;
  std::set<std::string> names;
  for (const auto& f : graph->library().function()) names.insert(f.signature().name());
  graph::FunctionIndex library(graph->library());
  for (auto& node : *graph->mutable_node()) {
    const bool loop = graph::is_functional_while(node.op()), cond = graph::is_functional_if(node.op());
    if (!loop && !cond) continue;
    std::vector<std::string> data;
    for (const auto& in : node.input())
      if (in.rfind('^', 0) != 0) data.push_back(in);
    const std::size_t first = cond ? 1 : 0;
    auto& types = *(*node.mutable_attr())[loop ? "T" : "Tin"].mutable_list()->mutable_type();
    std::map<int, tf::DataType> typed;  // only handles: a read of the variable is already a value
    for (std::size_t k = first; k < data.size(); ++k) {
      const int j = static_cast<int>(k - first);
      if (j >= types.size() || types.Get(j) != tf::DT_RESOURCE) continue;
      if (const tf::DataType* dtype = frozen_source(data[k])) typed[j] = *dtype;
    }
    if (typed.empty()) continue;
    for (const auto& [j, dtype] : typed)
      if (j < types.size()) types.Set(j, dtype);
    for (const char* attr : loop ? std::vector<const char*>{"cond", "body"} : std::vector<const char*>{"then_branch", "else_branch"}) {
      const tf::FunctionDef* f = library.find(graph::function_attr(node, attr));
      if (!f) throw Error(ExitCode::kBadInput, "node '" + node.name() + "' names missing function '" + graph::function_attr(node, attr) + "'");
      std::string name = f->signature().name() + "_frozen";
      for (int k = 1; names.count(name); ++k) name = f->signature().name() + "_frozen_" + std::to_string(k);
      names.insert(name);
      added.push_back(specialize(*f, typed, loop && std::string(attr) == "body", name, node.name()));
      (*node.mutable_attr())[attr].mutable_func()->set_name(name);
    }
  }
  for (auto& f : added) *graph->mutable_library()->add_function() = std::move(f);
}

}  // namespace tffreeze::freeze
