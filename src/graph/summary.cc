#include "graph/summary.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/dtype.h"
#include "common/error.h"
#include "graph/function_graph.h"
#include "graph/graph_view.h"
#include "graph/training_ops.h"

namespace tffreeze::graph {
namespace {

using json = nlohmann::json;

std::string attr_type(const tf::NodeDef& node, const char* name) {
  auto it = node.attr().find(name);
  return it == node.attr().end() ? "" : dtype_name(it->second.type());
}

const tf::TensorShapeProto* attr_shape(const tf::NodeDef& node, const char* name) {
  auto it = node.attr().find(name);
  return it == node.attr().end() || it->second.value_case() != tf::AttrValue::kShape ? nullptr : &it->second.shape();
}

json shape_json(const tf::TensorShapeProto* shape) {
  if (!shape || shape->unknown_rank()) return nullptr;
  json dims = json::array();
  for (const auto& d : shape->dim()) dims.push_back(d.size());
  return dims;
}

json tensor_info_json(const std::string& key, const tf::TensorInfo& info) {
  json j = {{"key", key}, {"name", info.name()}, {"dtype", dtype_name(info.dtype())}};
  j["shape"] = info.has_tensor_shape() ? shape_json(&info.tensor_shape()) : json(nullptr);
  return j;
}

// Signatures sorted by key, without TF's own bookkeeping ones (__saved_model_init_op).
std::vector<std::pair<std::string, const tf::SignatureDef*>> user_signatures(const io::Model& model) {
  std::vector<std::pair<std::string, const tf::SignatureDef*>> out;
  for (const auto& [key, sig] : model.meta.signature_def())
    if (key.rfind("__", 0) != 0) out.push_back({key, &sig});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::vector<std::pair<std::string, const tf::TensorInfo*>> sorted_infos(
    const google::protobuf::Map<std::string, tf::TensorInfo>& map) {
  std::vector<std::pair<std::string, const tf::TensorInfo*>> out;
  for (const auto& [k, info] : map) out.push_back({k, &info});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

bool is_variable_op(const std::string& op) {
  return op == "Variable" || op == "VariableV2" || op == "VarHandleOp" || op == "AutoReloadVariable";
}

// A sink nobody would fetch: a shape query, tf.cond's predicate/branch markers, or a read of a
// variable (slot variables of an optimizer have unused "/read" identities).
bool is_uninteresting_sink(const GraphView& view, int i) {
  const auto& op = view.node(i).op();
  if (op == "Shape" || op == "ShapeN" || op == "Size" || op == "Rank") return true;
  const auto& name = view.node(i).name();
  for (const char* cond_bookkeeping : {"/switch_t", "/switch_f", "/pred_id"}) {  // tf.cond (v1) leaves these
    std::string_view suffix(cond_bookkeeping);
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
  }
  if (op == "Identity" || op == "ReadVariableOp") {
    for (const auto& e : view.inputs(i))
      if (!e.control() && is_variable_op(view.node(e.producer).op())) return true;
  }
  return false;
}

bool under_saver_scope(const std::string& name) {
  return name.rfind("save/", 0) == 0 || (name.rfind("save_", 0) == 0 && name.find('/') != std::string::npos);
}

json inputs_json(const io::Model& model, const GraphView& view) {
  json inputs = json::array();
  std::set<std::string> seen;
  for (const auto& [key, sig] : user_signatures(model)) {
    for (const auto& [k, info] : sorted_infos(sig->inputs())) {
      if (seen.insert(info->name()).second) {
        json j = tensor_info_json(k, *info);
        j["signature"] = key;
        inputs.push_back(j);
      }
    }
  }
  if (!inputs.empty()) return inputs;
  for (int i = 0; i < view.size(); ++i) {
    const auto& n = view.node(i);
    if ((n.op() != "Placeholder" && n.op() != "PlaceholderWithDefault") || under_saver_scope(n.name())) continue;
    inputs.push_back({{"name", n.name()},
                      {"op", n.op()},
                      {"dtype", attr_type(n, "dtype")},
                      {"shape", shape_json(attr_shape(n, "shape"))},
                      {"training_flag", is_training_flag(n)}});
  }
  return inputs;
}

json variables_json(const io::Model& model, const GraphView& view) {
  json vars = json::array();
  auto add = [&](const std::string& name, const std::string& op, const std::string& dtype, const tf::TensorShapeProto* shape) {
    json j = {{"name", name}, {"op", op}, {"dtype", dtype}, {"shape", shape_json(shape)}};
    auto n = shape ? num_elements(*shape) : std::nullopt;
    j["params"] = n ? json(*n) : json(nullptr);
    vars.push_back(j);
  };
  for (int i = 0; i < view.size(); ++i) {
    const auto& n = view.node(i);
    if (is_variable_op(n.op())) {
      add(n.name(), n.op(), attr_type(n, "dtype"), attr_shape(n, "shape"));
    }
  }
  if (vars.empty()) {  // TF 2: variables live in the object graph
    const auto& nodes = model.meta.object_graph_def().nodes();
    for (int i = 0; i < nodes.size(); ++i) {
      if (!nodes[i].has_variable()) continue;
      const auto& v = nodes[i].variable();
      add(v.name().empty() ? "object " + std::to_string(i) : v.name(), "SavedVariable", dtype_name(v.dtype()), &v.shape());
    }
  }
  return vars;
}

json control_flow_json(const tf::GraphDef& graph) {
  std::map<std::string, int> counts;
  auto count = [&](const tf::NodeDef& n) {
    const std::string& op = n.op();
    if (op == "Switch" || op == "RefSwitch") ++counts["v1_switch"];
    else if (op == "Merge" || op == "RefMerge") ++counts["v1_merge"];
    else if (op == "LoopCond") ++counts["v1_loops"];
    else if (op == "If" || op == "StatelessIf") ++counts["v2_if"];
    else if (op == "Case" || op == "StatelessCase") ++counts["v2_case"];
    else if (op == "While" || op == "StatelessWhile") ++counts["v2_while"];
    else if (op == "StatefulPartitionedCall" || op == "PartitionedCall") ++counts["calls"];
  };
  for (const auto& n : graph.node()) count(n);
  for (const auto& f : graph.library().function())
    for (const auto& n : f.node_def()) count(n);
  return counts;
}

// What a signature runs: the functions it calls (transitively), the variables it captures,
// and whether it changes state (which freezing refuses).
void add_signature_uses(const GraphView& view, const FunctionIndex& library, const tf::SignatureDef& sig, json* out) {
  std::vector<std::string> roots;
  for (const auto& [k, info] : sig.outputs())
    if (!info.name().empty()) roots.push_back(info.name());
  std::vector<bool> needed;
  try {
    needed = view.needed_by(roots);
  } catch (const Error&) {
    return;  // names that are not in the graph are reported elsewhere
  }
  std::vector<const tf::NodeDef*> nodes;
  json variables = json::array();
  bool changes_state = false;
  for (int i = 0; i < view.size(); ++i) {
    if (!needed[static_cast<std::size_t>(i)]) continue;
    const auto& n = view.node(i);
    nodes.push_back(&n);
    if (n.op() == "VarHandleOp" || n.op() == "VariableV2" || n.op() == "Variable") variables.push_back(n.name());
    changes_state |= is_state_update(n.op());
  }
  std::set<std::string> functions = reachable_functions(library, nodes);
  for (const auto& name : functions)
    for (const auto& n : library.find(name)->node_def()) changes_state |= is_state_update(n.op());
  (*out)["functions"] = functions;
  (*out)["variables"] = variables;
  (*out)["changes_state"] = changes_state;
}

}  // namespace

std::vector<std::string> likely_outputs(const io::Model& model) {
  std::vector<std::string> outs;
  std::set<std::string> seen;
  for (const auto& [key, sig] : user_signatures(model)) {
    for (const auto& [k, info] : sorted_infos(sig->outputs()))
      if (!info->name().empty() && seen.insert(info->name()).second) outs.push_back(info->name());
  }
  if (!outs.empty()) return outs;
  GraphView view(model.graph());
  auto training = find_training_ops(view);
  std::set<std::string> excluded;
  for (const auto& [category, names] : training) excluded.insert(names.begin(), names.end());
  for (int i = 0; i < view.size(); ++i) {
    const auto& n = view.node(i);
    if (!view.consumers(i).empty() || is_bookkeeping_op(n.op()) || excluded.count(n.name()) || under_saver_scope(n.name()) ||
        is_uninteresting_sink(view, i)) {
      continue;
    }
    outs.push_back(n.name());
  }
  return outs;
}

json summarize_model(const io::Model& model) {
  const tf::GraphDef& graph = model.graph();
  GraphView view(graph);
  json j;
  j["path"] = model.path;
  j["format"] = io::format_name(model.format);
  j["producer"] = graph.versions().producer();
  if (!model.meta.meta_info_def().tensorflow_version().empty()) j["tensorflow_version"] = model.meta.meta_info_def().tensorflow_version();
  j["node_count"] = graph.node_size();
  std::map<std::string, int> ops;
  for (const auto& n : graph.node()) ++ops[n.op()];
  j["ops"] = ops;
  j["inputs"] = inputs_json(model, view);
  json outputs = json::array();
  for (const auto& name : likely_outputs(model)) {
    int i = view.find(parse_input(name).node);
    outputs.push_back({{"name", name}, {"op", i >= 0 ? view.node(i).op() : ""}});
  }
  j["outputs"] = outputs;
  j["variables"] = variables_json(model, view);
  json signatures = json::array();
  const FunctionIndex library(graph.library());
  for (const auto& [key, sig] : user_signatures(model)) {
    json s = {{"key", key}, {"method", sig->method_name()}, {"inputs", json::array()}, {"outputs", json::array()}};
    for (const auto& [k, info] : sorted_infos(sig->inputs())) s["inputs"].push_back(tensor_info_json(k, *info));
    for (const auto& [k, info] : sorted_infos(sig->outputs())) s["outputs"].push_back(tensor_info_json(k, *info));
    add_signature_uses(view, library, *sig, &s);
    signatures.push_back(s);
  }
  j["signatures"] = signatures;
  j["tags"] = model.tag_sets;
  j["functions"] = graph.library().function_size();
  int function_nodes = 0;
  for (const auto& f : graph.library().function()) function_nodes += f.node_def_size();
  j["function_node_count"] = function_nodes;
  j["control_flow"] = control_flow_json(graph);
  j["training_ops"] = find_training_ops(view);
  return j;
}

}  // namespace tffreeze::graph
