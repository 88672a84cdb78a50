#include "graph/default_attrs.h"

#include <unordered_map>

#include "common/error.h"
#include "graph/graph_view.h"
#include "graph/op_registry.h"

namespace tffreeze::graph {
namespace {

const tf::AttrValue* attr_of(const tf::NodeDef& node, const std::string& name) {
  auto it = node.attr().find(name);
  return it == node.attr().end() ? nullptr : &it->second;
}

bool has_attr_or_default(const tf::OpDef& def, const tf::NodeDef& node, const std::string& name) {
  return attr_or_default(def, node, name) != nullptr;
}

// How many tensors an arg stands for, from the node's attrs (1 for a plain arg).
std::optional<int> arg_size(const tf::OpDef& def, const tf::NodeDef& node, const tf::OpDef::ArgDef& arg) {
  if (!arg.number_attr().empty()) {
    const auto* v = attr_or_default(def, node, arg.number_attr());
    if (!v || v->value_case() != tf::AttrValue::kI || v->i() < 0) return std::nullopt;
    return static_cast<int>(v->i());
  }
  if (!arg.type_list_attr().empty()) {
    const auto* v = attr_or_default(def, node, arg.type_list_attr());
    if (!v || v->value_case() != tf::AttrValue::kList) return std::nullopt;
    return v->list().type_size();
  }
  return 1;
}

std::vector<std::string> data_inputs(const tf::NodeDef& node) {
  std::vector<std::string> out;
  for (const auto& in : node.input())
    if (!in.empty() && in[0] != '^') out.push_back(in);
  return out;
}

// A count attr of the one variadic input arg: the data inputs left after the fixed args.
bool infer_count(const tf::OpDef& def, tf::NodeDef* node, int inputs) {
  const tf::OpDef::ArgDef* variadic = nullptr;
  int fixed = 0;
  for (const auto& arg : def.input_arg()) {
    const bool is_variadic = !arg.number_attr().empty() || !arg.type_list_attr().empty();
    if (is_variadic && variadic) return false;  // two variadic args: the split is ambiguous
    if (is_variadic) variadic = &arg;
    else ++fixed;
  }
  if (!variadic || variadic->number_attr().empty() || has_attr_or_default(def, *node, variadic->number_attr())) return false;
  if (inputs < fixed) return false;
  (*node->mutable_attr())[variadic->number_attr()].set_i(inputs - fixed);
  return true;
}

class DtypeLookup {
 public:
  explicit DtypeLookup(const tf::GraphDef& graph) {
    for (const auto& n : graph.node()) nodes_.emplace(n.name(), &n);
  }
  std::optional<tf::DataType> of(const std::string& input) const {
    TensorRef ref = parse_input(input);
    auto it = nodes_.find(std::string(ref.node));
    if (it == nodes_.end()) return std::nullopt;
    return output_dtype(*it->second, ref.index);
  }

 private:
  std::unordered_map<std::string, const tf::NodeDef*> nodes_;
};

// Type attrs that input args name, from the dtypes of the tensors bound to them.
int infer_types(const tf::OpDef& def, tf::NodeDef* node, const std::vector<std::string>& inputs, const DtypeLookup& dtypes) {
  int added = 0;
  std::size_t at = 0;
  for (const auto& arg : def.input_arg()) {
    auto n = arg_size(def, *node, arg);
    if (!n || at + static_cast<std::size_t>(*n) > inputs.size()) return added;
    if (!arg.type_attr().empty() && *n > 0 && !attr_of(*node, arg.type_attr())) {  // inputs beat a default
      if (auto t = dtypes.of(inputs[at])) {
        (*node->mutable_attr())[arg.type_attr()].set_type(*t);
        ++added;
      }
    } else if (!arg.type_list_attr().empty() && !attr_of(*node, arg.type_list_attr())) {
      tf::AttrValue list;
      list.mutable_list();
      bool known = true;
      for (int k = 0; k < *n && known; ++k) {
        auto t = dtypes.of(inputs[at + static_cast<std::size_t>(k)]);
        known = t.has_value();
        if (known) list.mutable_list()->add_type(*t);
      }
      if (known) {
        (*node->mutable_attr())[arg.type_list_attr()] = list;
        ++added;
      }
    }
    at += static_cast<std::size_t>(*n);
  }
  return added;
}

}  // namespace

int add_default_attributes(tf::GraphDef* graph) {
  const auto& registry = OpRegistry::global();
  int added = 0;
  for (auto& node : *graph->mutable_node()) {
    const tf::OpDef* def = registry.find(node.op());
    if (!def) continue;
    for (const auto& a : def->attr()) {
      if (!a.has_default_value() || node.attr().count(a.name())) continue;
      (*node.mutable_attr())[a.name()] = a.default_value();
      ++added;
    }
  }
  return added;
}

namespace {

// The dtype of tensor k of an op's inputs or outputs (`args`), from the node's attrs or defaults.
std::optional<tf::DataType> arg_dtype(const tf::OpDef& def, const tf::NodeDef& node,
                                      const google::protobuf::RepeatedPtrField<tf::OpDef::ArgDef>& args, int k) {
  if (k < 0) return std::nullopt;
  int at = 0;
  for (const auto& arg : args) {
    auto n = arg_size(def, node, arg);
    if (!n) return std::nullopt;
    if (k < at + *n) {
      if (arg.type() != tf::DT_INVALID) return arg.type();
      const std::string& attr = !arg.type_attr().empty() ? arg.type_attr() : arg.type_list_attr();
      const auto* v = attr_or_default(def, node, attr);
      if (!v) return std::nullopt;
      if (v->value_case() == tf::AttrValue::kType) return v->type();
      if (v->value_case() == tf::AttrValue::kList && k - at < v->list().type_size()) return v->list().type(k - at);
      return std::nullopt;
    }
    at += *n;
  }
  return std::nullopt;
}

}  // namespace

std::optional<tf::DataType> output_dtype(const tf::NodeDef& node, int k) {
  if (node.op() == "Const" || node.op() == "Placeholder") {
    const auto* v = attr_of(node, "dtype");
    if (k == 0 && v && v->value_case() == tf::AttrValue::kType) return v->type();
    return std::nullopt;
  }
  const tf::OpDef* def = OpRegistry::global().find(node.op());
  return def ? arg_dtype(*def, node, def->output_arg(), k) : std::nullopt;
}

std::optional<tf::DataType> input_dtype(const tf::NodeDef& node, int k) {
  const tf::OpDef* def = OpRegistry::global().find(node.op());
  return def ? arg_dtype(*def, node, def->input_arg(), k) : std::nullopt;
}

int infer_attributes_from_inputs(tf::GraphDef* graph) {
  const auto& registry = OpRegistry::global();
  int total = 0;
  // In execution order one round settles every chain; loops' back edges may need another.
  std::vector<int> order;
  try {
    order = GraphView(*graph).topological_order();
  } catch (const Error&) {  // a cycle: validation names it; infer what graph order allows
    for (int i = 0; i < graph->node_size(); ++i) order.push_back(i);
  }
  for (int round = 0; round < 4; ++round) {
    DtypeLookup dtypes(*graph);
    int added = 0;
    for (int i : order) {
      tf::NodeDef& node = *graph->mutable_node(i);
      const tf::OpDef* def = registry.find(node.op());
      if (!def) continue;
      auto inputs = data_inputs(node);
      added += infer_count(*def, &node, static_cast<int>(inputs.size()));
      added += infer_types(*def, &node, inputs, dtypes);
    }
    total += added;
    if (added == 0) break;
  }
  return total;
}

}  // namespace tffreeze::graph
