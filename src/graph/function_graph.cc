#include "graph/function_graph.h"

#include <optional>
#include <unordered_set>

#include "common/error.h"
#include "graph/op_registry.h"
#include "graph/tensor_ref.h"

namespace tffreeze::graph {
namespace {

// Where output arg `arg` of this node starts among its outputs, counting the sizes of the
// args before it (number_attr / type_list_attr resolved from the node).
std::optional<int> output_arg_offset(const tf::OpDef& def, const tf::NodeDef& node, std::string_view arg) {
  int offset = 0;
  for (const auto& a : def.output_arg()) {
    if (a.name() == arg) return offset;
    tf::OpDef one;
    *one.add_output_arg() = a;
    *one.mutable_attr() = def.attr();
    auto n = count_outputs(one, node);
    if (!n) return std::nullopt;
    offset += *n;
  }
  return std::nullopt;
}

}  // namespace

FunctionIndex::FunctionIndex(const tf::FunctionDefLibrary& library) {
  for (const auto& f : library.function()) functions_.emplace(f.signature().name(), &f);
}

const tf::FunctionDef* FunctionIndex::find(const std::string& name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : it->second;
}

bool is_functional_while(const std::string& op) { return op == "While" || op == "StatelessWhile"; }
bool is_functional_if(const std::string& op) { return op == "If" || op == "StatelessIf"; }
bool is_functional_case(const std::string& op) { return op == "Case" || op == "StatelessCase"; }

std::string function_attr(const tf::NodeDef& node, const std::string& attr) {
  auto it = node.attr().find(attr);
  return it == node.attr().end() || it->second.value_case() != tf::AttrValue::kFunc ? "" : it->second.func().name();
}

std::string called_function(const tf::NodeDef& node, const FunctionIndex& library) {
  if (node.op() == "PartitionedCall" || node.op() == "StatefulPartitionedCall") return function_attr(node, "f");
  return library.find(node.op()) ? node.op() : "";
}

std::set<std::string> reachable_functions(const FunctionIndex& library, const std::vector<const tf::NodeDef*>& roots) {
  std::set<std::string> found;
  std::vector<std::string> todo;
  auto visit = [&](const tf::NodeDef& n) {
    if (library.find(n.op())) todo.push_back(n.op());
    for (const auto& [name, value] : n.attr()) {
      if (value.value_case() == tf::AttrValue::kFunc) todo.push_back(value.func().name());
      if (value.value_case() == tf::AttrValue::kList)
        for (const auto& f : value.list().func()) todo.push_back(f.name());
    }
  };
  for (const auto* n : roots) visit(*n);
  while (!todo.empty()) {
    std::string name = std::move(todo.back());
    todo.pop_back();
    const tf::FunctionDef* f = library.find(name);
    if (!f || !found.insert(name).second) continue;
    for (const auto& n : f->node_def()) visit(n);
  }
  return found;
}

FunctionGraph function_to_graph(const tf::FunctionDef& function, const FunctionIndex& library) {
  const std::string where = "function '" + function.signature().name() + "'";
  FunctionGraph out;
  std::unordered_map<std::string, const tf::NodeDef*> body;
  for (const auto& node : function.node_def()) body.emplace(node.name(), &node);
  std::unordered_set<std::string> args;
  for (const auto& arg : function.signature().input_arg()) {
    tf::NodeDef* p = out.graph.add_node();
    p->set_name(arg.name());
    p->set_op("Placeholder");
    (*p->mutable_attr())["dtype"].set_type(arg.type());
    out.args.push_back(arg.name());
    args.insert(arg.name());
  }

  // "node:out_arg:index" -> "node:k"; bare names are arguments.
  auto convert = [&](const std::string& ref_text, const std::string& user) -> std::string {
    TensorRef ref = parse_input(ref_text);
    const std::string node(ref.node);
    if (ref.control) {
      if (!body.count(node) && !args.count(node)) throw Error(ExitCode::kBadInput, where + ": '" + user + "' depends on unknown node '" + node + "'");
      return ref_text;
    }
    if (ref.arg.empty()) {
      if (!args.count(node)) throw Error(ExitCode::kBadInput, where + ": '" + user + "' reads '" + ref_text + "', which is no argument");
      return ref_text;
    }
    auto it = body.find(node);
    if (it == body.end()) throw Error(ExitCode::kBadInput, where + ": '" + user + "' reads '" + ref_text + "' of an unknown node");
    const tf::NodeDef& producer = *it->second;
    std::optional<int> offset;
    if (const tf::FunctionDef* callee = library.find(producer.op())) {
      offset = output_arg_offset(callee->signature(), producer, ref.arg);
    } else if (const tf::OpDef* def = OpRegistry::global().find(producer.op())) {
      offset = output_arg_offset(*def, producer, ref.arg);
    } else {
      offset = 0;  // an op we have no definition of: assume one output arg
    }
    if (!offset) {
      throw Error(ExitCode::kBadInput, where + ": '" + user + "' reads '" + ref_text + "', but " + producer.op() + " has no output '" +
                                           std::string(ref.arg) + "'");
    }
    return tensor_name(node, *offset + ref.index);
  };

  for (const auto& node : function.node_def()) {
    if (args.count(node.name())) throw Error(ExitCode::kBadInput, where + ": node '" + node.name() + "' has an argument's name");
    tf::NodeDef* copy = out.graph.add_node();
    *copy = node;
    copy->clear_input();
    for (const auto& in : node.input()) copy->add_input(convert(in, node.name()));
  }
  for (const auto& arg : function.signature().output_arg()) {
    auto it = function.ret().find(arg.name());
    if (it == function.ret().end()) throw Error(ExitCode::kBadInput, where + ": output '" + arg.name() + "' has no return value");
    out.outputs.push_back(convert(it->second, "return value " + arg.name()));
  }
  for (const auto& name : function.signature().control_output()) {
    auto it = function.control_ret().find(name);
    const std::string node = it == function.control_ret().end() ? name : it->second;
    if (!body.count(node)) throw Error(ExitCode::kBadInput, where + ": control output '" + name + "' names no node");
    out.control_outputs.push_back(node);
  }
  return out;
}

}  // namespace tffreeze::graph
