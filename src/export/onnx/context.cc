#include "export/onnx/context.h"

#include "common/dtype.h"
#include "common/error.h"
#include "graph/mapped_constants.h"
#include "graph/tensor_ref.h"

namespace tffreeze::onnx_export {

int onnx_dtype(tf::DataType dtype) {
  switch (dtype) {
    case tf::DT_FLOAT: return onnx::TensorProto::FLOAT;
    case tf::DT_DOUBLE: return onnx::TensorProto::DOUBLE;
    case tf::DT_HALF: return onnx::TensorProto::FLOAT16;
    case tf::DT_BFLOAT16: return onnx::TensorProto::BFLOAT16;
    case tf::DT_INT8: return onnx::TensorProto::INT8;
    case tf::DT_INT16: return onnx::TensorProto::INT16;
    case tf::DT_INT32: return onnx::TensorProto::INT32;
    case tf::DT_INT64: return onnx::TensorProto::INT64;
    case tf::DT_UINT8: return onnx::TensorProto::UINT8;
    case tf::DT_UINT16: return onnx::TensorProto::UINT16;
    case tf::DT_UINT32: return onnx::TensorProto::UINT32;
    case tf::DT_UINT64: return onnx::TensorProto::UINT64;
    case tf::DT_BOOL: return onnx::TensorProto::BOOL;
    case tf::DT_STRING: return onnx::TensorProto::STRING;
    case tf::DT_COMPLEX64: return onnx::TensorProto::COMPLEX64;
    case tf::DT_COMPLEX128: return onnx::TensorProto::COMPLEX128;
    default: return onnx::TensorProto::UNDEFINED;
  }
}

void to_onnx_tensor(const Tensor& value, const std::string& name, onnx::TensorProto* out) {
  const int type = onnx_dtype(value.dtype);
  if (type == onnx::TensorProto::UNDEFINED) throw Error(ExitCode::kUnsupported, "'" + name + "': ONNX has no " + dtype_name(value.dtype) + " tensors");
  out->set_name(name);
  out->set_data_type(type);
  for (auto d : value.shape) out->add_dims(d);
  if (value.dtype == tf::DT_STRING) {
    for (const auto& s : value.strings) out->add_string_data(s);
  } else {
    out->set_raw_data(value.bytes);
  }
}

ExportContext::ExportContext(onnx::GraphProto* graph, int opset, std::map<std::string, TensorInfo> info,
                             std::map<std::string, const tf::NodeDef*> constants)
    : graph_(graph), root_(graph), opset_(opset), shared_(std::make_shared<Shared>()) {
  shared_->info = std::move(info);
  shared_->constants = std::move(constants);
  for (const auto& [name, i] : shared_->info) shared_->taken.insert(name);
  for (const auto& [name, node] : shared_->constants) shared_->taken.insert(name);
}

ExportContext::ExportContext(ExportContext& parent, onnx::GraphProto* graph)
    : graph_(graph), root_(parent.root_), opset_(parent.opset_), shared_(parent.shared_) {}

void ExportContext::set_info(const std::string& tf_input, const TensorInfo& info) {
  shared_->info[value(tf_input)] = info;
  shared_->taken.insert(value(tf_input));
}

std::string ExportContext::value(const std::string& tf_input) {
  auto ref = graph::parse_input(tf_input);
  return graph::tensor_name(ref.node, ref.index);
}

std::string ExportContext::output(const tf::NodeDef& node, int k) { return graph::tensor_name(node.name(), k); }

bool ExportContext::has_info(const std::string& tf_input) const { return shared_->info.count(value(tf_input)) > 0; }

const TensorInfo& ExportContext::info(const std::string& tf_input) const {
  auto it = shared_->info.find(value(tf_input));
  if (it == shared_->info.end()) {
    throw Error(ExitCode::kUnsupported, "tensor '" + value(tf_input) + "' has no static shape (the executor did not compute it)");
  }
  return it->second;
}

const Tensor* ExportContext::constant(const std::string& tf_input) {
  auto ref = graph::parse_input(tf_input);
  if (ref.index != 0 || ref.control) return nullptr;
  const std::string node(ref.node);
  auto it = shared_->constants.find(node);
  if (it == shared_->constants.end()) return nullptr;
  auto d = shared_->decoded.find(node);
  if (d == shared_->decoded.end()) d = shared_->decoded.emplace(node, graph::constant_value(*it->second)).first;
  return &d->second;
}

std::string ExportContext::fresh(const std::string& wanted) {
  std::string name = wanted;
  for (int k = 1; shared_->taken.count(name); ++k) name = wanted + "_" + std::to_string(k);
  shared_->taken.insert(name);
  return name;
}

onnx::NodeProto* ExportContext::add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                                         const std::vector<std::string>& outputs, const std::string& name) {
  onnx::NodeProto* n = graph_->add_node();
  n->set_op_type(op_type);
  n->set_name(fresh(name));
  for (const auto& i : inputs) n->add_input(i);
  if (outputs.empty()) n->add_output(n->name());
  for (const auto& o : outputs) {
    shared_->taken.insert(o);
    n->add_output(o);
  }
  return n;
}

std::string ExportContext::add_initializer(const std::string& wanted, const Tensor& value) {
  const std::string name = fresh(wanted);
  to_onnx_tensor(value, name, root_->add_initializer());
  return name;
}

std::string ExportContext::add_ints(const std::string& wanted, const std::vector<std::int64_t>& values, bool scalar) {
  Tensor t{tf::DT_INT64, scalar ? std::vector<std::int64_t>{} : std::vector<std::int64_t>{static_cast<std::int64_t>(values.size())},
           std::string(values.size() * 8, '\0'), {}, {}};
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size() * 8);
  return add_initializer(wanted, t);
}

std::string ExportContext::add_floats(const std::string& wanted, const std::vector<float>& values, std::vector<std::int64_t> shape) {
  Tensor t{tf::DT_FLOAT, std::move(shape), std::string(values.size() * 4, '\0'), {}, {}};
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size() * 4);
  return add_initializer(wanted, t);
}

namespace {
onnx::AttributeProto* new_attr(onnx::NodeProto* node, const std::string& name, onnx::AttributeProto::AttributeType type) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}
}  // namespace

void set_int(onnx::NodeProto* node, const std::string& name, std::int64_t value) {
  new_attr(node, name, onnx::AttributeProto::INT)->set_i(value);
}
void set_float(onnx::NodeProto* node, const std::string& name, float value) {
  new_attr(node, name, onnx::AttributeProto::FLOAT)->set_f(value);
}
void set_string(onnx::NodeProto* node, const std::string& name, const std::string& value) {
  new_attr(node, name, onnx::AttributeProto::STRING)->set_s(value);
}
void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<std::int64_t>& values) {
  auto* a = new_attr(node, name, onnx::AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}

}  // namespace tffreeze::onnx_export
