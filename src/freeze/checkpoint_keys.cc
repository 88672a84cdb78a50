#include "freeze/checkpoint_keys.h"

#include "common/tensor.h"

namespace tffreeze::freeze {
namespace {

// Follows Identity chains back from an edge to the op that produced the value.
const graph::Edge* producer_through_identity(const graph::GraphView& view, int node, int slot) {
  const graph::Edge* edge = nullptr;
  for (const auto& e : view.inputs(node))
    if (!e.control() && e.input_slot == slot) edge = &e;
  for (int hops = 0; edge && hops < 8; ++hops) {
    const auto& op = view.node(edge->producer).op();
    if (op != "Identity" && op != "Snapshot") break;
    const graph::Edge* next = nullptr;
    for (const auto& e : view.inputs(edge->producer))
      if (!e.control() && e.input_slot == 0) next = &e;
    edge = next;
  }
  return edge;
}

// The string value of a Const's element i (tensor_names constants).
std::string const_string(const graph::GraphView& view, const graph::Edge* edge, int i) {
  if (!edge || view.node(edge->producer).op() != "Const") return "";
  const auto& attrs = view.node(edge->producer).attr();
  auto it = attrs.find("value");
  if (it == attrs.end()) return "";
  const auto& t = it->second.tensor();
  if (t.dtype() != tf::DT_STRING || i < 0) return "";
  if (i < t.string_val_size()) return t.string_val(i);
  return t.string_val_size() == 1 ? t.string_val(0) : "";
}

}  // namespace

bool is_variable_op(const std::string& op) {
  return op == "Variable" || op == "VariableV2" || op == "VarHandleOp" || op == "AutoReloadVariable";
}

std::string default_checkpoint_key(const tf::NodeDef& variable) {
  auto it = variable.attr().find("shared_name");
  if (variable.op() == "VarHandleOp" && it != variable.attr().end() && !it->second.s().empty()) return it->second.s();
  return variable.name();
}

std::map<std::string, RestoreSource> traced_restore_keys(const graph::GraphView& view) {
  std::map<std::string, RestoreSource> keys;
  for (int i = 0; i < view.size(); ++i) {
    const auto& op = view.node(i).op();
    if (op != "Assign" && op != "AssignVariableOp") continue;
    const graph::Edge* target = producer_through_identity(view, i, 0);
    const graph::Edge* value = producer_through_identity(view, i, 1);
    if (!target || !value || !is_variable_op(view.node(target->producer).op())) continue;
    const tf::NodeDef& restore = view.node(value->producer);
    RestoreSource source;
    if (restore.op() == "RestoreV2") {
      source.key = const_string(view, producer_through_identity(view, value->producer, 1), value->output);
      source.shape_and_slice = const_string(view, producer_through_identity(view, value->producer, 2), value->output);
    } else if (restore.op() == "RestoreSlice") {
      source.key = const_string(view, producer_through_identity(view, value->producer, 1), 0);
      source.shape_and_slice = const_string(view, producer_through_identity(view, value->producer, 2), 0);
    } else if (restore.op() == "Restore") {
      source.key = const_string(view, producer_through_identity(view, value->producer, 1), 0);
    }
    if (!source.key.empty()) keys[view.node(target->producer).name()] = source;
  }
  return keys;
}

}  // namespace tffreeze::freeze
