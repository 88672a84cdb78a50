#include "graph/mapped_constants.h"

#include "common/dtype.h"
#include "common/tensor.h"
#include "io/checkpoint/checkpoint.h"

namespace tffreeze::graph {

bool mappable(const io::checkpoint::Checkpoint& checkpoint, const io::checkpoint::Entry& entry) {
  return checkpoint.streamable(entry) && num_elements(shape_proto(entry.shape)) != 1;
}

tf::NodeDef make_mapped_const(const std::string& name, tf::DataType dtype, const std::vector<std::int64_t>& shape, const std::string& key) {
  tf::NodeDef n;
  n.set_name(name);
  n.set_op("Const");
  auto& attrs = *n.mutable_attr();
  attrs["dtype"].set_type(dtype);
  auto* value = attrs["value"].mutable_tensor();
  value->set_dtype(dtype);
  *value->mutable_tensor_shape() = shape_proto(shape);
  attrs[kMappedValueAttr].set_s(key);
  return n;
}

const std::string* mapped_value_key(const tf::NodeDef& node) {
  if (node.op() != "Const") return nullptr;
  auto it = node.attr().find(kMappedValueAttr);
  return it == node.attr().end() ? nullptr : &it->second.s();
}

bool has_mapped_constants(const tf::GraphDef& graph) {
  for (const auto& n : graph.node())
    if (mapped_value_key(n)) return true;
  return false;
}

void materialize_mapped_constants(tf::GraphDef* graph, const io::checkpoint::Checkpoint& checkpoint) {
  for (auto& n : *graph->mutable_node()) {
    const std::string* key = mapped_value_key(n);
    if (!key) continue;
    Tensor value = checkpoint.read(*key);
    n.mutable_attr()->erase(kMappedValueAttr);
    tensor_to_proto(std::move(value), (*n.mutable_attr())["value"].mutable_tensor());
  }
}

}  // namespace tffreeze::graph
