// merge_duplicate_nodes: nodes with the same op, inputs, attributes and device compute the same
// value; all but the first are removed and their consumers read the first (identical constants
// too). Stateful and random ops, placeholders and the graph's inputs/outputs never merge away.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <map>
#include <unordered_map>

#include "graph/op_registry.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

bool mergeable(const tf::NodeDef& node) {
  if (node.op() == "Placeholder" || node.op() == "PlaceholderWithDefault" || node.op() == "NoOp") return false;
  const auto* def = graph::OpRegistry::global().find(node.op());
  return def && !def->is_stateful();
}

// A large constant's payload enters the signature by its size and a sample of its bytes
// (the first and last 64); equal signatures are confirmed byte for byte before merging.
std::string payload_sample(const std::string& bytes) {
  if (bytes.size() <= 128) return bytes;
  return bytes.substr(0, 64) + bytes.substr(bytes.size() - 64);
}

bool large_const(const tf::NodeDef& node) {
  if (node.op() != "Const") return false;
  auto it = node.attr().find("value");
  return it != node.attr().end() && it->second.tensor().tensor_content().size() > 64;
}

std::string signature(const tf::NodeDef& node) {
  std::string key = node.op() + '\0' + node.device() + '\0';
  for (const auto& in : node.input()) key += in + '\0';
  // Map order is unspecified: sort attrs by name; serialize values deterministically.
  std::map<std::string, std::string> attrs;
  for (const auto& [name, value] : node.attr()) {
    if (name == "value" && large_const(node)) {
      tf::TensorProto header = value.tensor();
      header.clear_tensor_content();
      attrs[name] = header.SerializeAsString() + payload_sample(value.tensor().tensor_content()) + "#" +
                    std::to_string(value.tensor().tensor_content().size());
      continue;
    }
    std::string bytes;
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    value.SerializeToCodedStream(&out);
    out.Trim();
    attrs[name] = bytes;
  }
  for (const auto& [name, bytes] : attrs) key += name + '\0' + bytes + '\0';
  return key;
}

PassReport merge_duplicate_nodes(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  graph::GraphView view(*graph);
  std::vector<int> order = view.topological_order();
  std::unordered_map<std::string, std::string> renamed;  // removed node -> the node it merged into
  std::unordered_map<std::string, int> first;            // signature -> node index
  std::vector<bool> remove(static_cast<std::size_t>(view.size()), false);
  auto rename = [&](const std::string& in) {
    graph::TensorRef ref = graph::parse_input(in);
    auto it = renamed.find(std::string(ref.node));
    if (it == renamed.end()) return in;
    return ref.control ? "^" + it->second : graph::tensor_name(it->second, ref.index);
  };
  for (int i : order) {
    auto* node = graph->mutable_node(i);
    for (auto& in : *node->mutable_input()) in = rename(in);
    if (!mergeable(*node) || is_interface(ctx.outputs, node->name()) || is_interface(ctx.inputs, node->name())) continue;
    auto [it, inserted] = first.emplace(signature(*node), i);
    if (inserted) continue;
    if (large_const(*node) &&
        node->attr().at("value").tensor().tensor_content() != graph->node(it->second).attr().at("value").tensor().tensor_content())
      continue;  // equal samples, different weights
    renamed[node->name()] = graph->node(it->second).name();
    remove[static_cast<std::size_t>(i)] = true;
    ++report.changed;
  }
  // Nodes out of execution order (loop back edges) may still name a merged node.
  for (auto& node : *graph->mutable_node())
    for (auto& in : *node.mutable_input()) in = rename(in);
  erase_nodes(graph, remove);
  return report;
}

}  // namespace

void register_merge_duplicate_nodes(PassRegistry& r) {
  r.add("merge_duplicate_nodes", merge_duplicate_nodes, "remove nodes identical to an earlier one (same op, inputs and attrs)");
}

}  // namespace tffreeze::passes
