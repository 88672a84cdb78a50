#include "graph/node_builders.h"

#include "common/dtype.h"

namespace tffreeze::graph {

tf::NodeDef make_const(const std::string& name, const Tensor& value) {
  tf::NodeDef n;
  n.set_name(name);
  n.set_op("Const");
  (*n.mutable_attr())["dtype"].set_type(value.dtype);
  tensor_to_proto(value, (*n.mutable_attr())["value"].mutable_tensor());
  return n;
}

tf::NodeDef make_const(const std::string& name, Tensor&& value) {
  tf::NodeDef n;
  n.set_name(name);
  n.set_op("Const");
  (*n.mutable_attr())["dtype"].set_type(value.dtype);
  tensor_to_proto(std::move(value), (*n.mutable_attr())["value"].mutable_tensor());
  return n;
}

tf::NodeDef make_placeholder(const std::string& name, tf::DataType dtype, const tf::TensorShapeProto& shape) {
  tf::NodeDef n;
  n.set_name(name);
  n.set_op("Placeholder");
  (*n.mutable_attr())["dtype"].set_type(dtype);
  *(*n.mutable_attr())["shape"].mutable_shape() = shape;
  return n;
}

void strip_ref_types(tf::NodeDef* node) {
  for (auto& [key, value] : *node->mutable_attr()) {
    if (value.value_case() == tf::AttrValue::kType) {
      value.set_type(base_type(value.type()));
    } else if (value.value_case() == tf::AttrValue::kList) {
      auto* types = value.mutable_list()->mutable_type();
      for (int i = 0; i < types->size(); ++i) types->Set(i, base_type(static_cast<tf::DataType>(types->Get(i))));
    }
  }
}

}  // namespace tffreeze::graph
