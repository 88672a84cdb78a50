#include "export/onnx/summary.h"

#include <map>

namespace tffreeze::onnx_export {

std::string onnx_dtype_name(int elem_type) {
  static const std::map<int, std::string> names = {
      {onnx::TensorProto::FLOAT, "float32"}, {onnx::TensorProto::DOUBLE, "float64"}, {onnx::TensorProto::FLOAT16, "float16"},
      {onnx::TensorProto::BFLOAT16, "bfloat16"}, {onnx::TensorProto::INT8, "int8"}, {onnx::TensorProto::INT16, "int16"},
      {onnx::TensorProto::INT32, "int32"}, {onnx::TensorProto::INT64, "int64"}, {onnx::TensorProto::UINT8, "uint8"},
      {onnx::TensorProto::UINT16, "uint16"}, {onnx::TensorProto::UINT32, "uint32"}, {onnx::TensorProto::UINT64, "uint64"},
      {onnx::TensorProto::BOOL, "bool"}, {onnx::TensorProto::STRING, "string"}, {onnx::TensorProto::COMPLEX64, "complex64"},
      {onnx::TensorProto::COMPLEX128, "complex128"}};
  auto it = names.find(elem_type);
  return it == names.end() ? "type " + std::to_string(elem_type) : it->second;
}

namespace {

nlohmann::json value_json(const onnx::ValueInfoProto& v) {
  nlohmann::json j = {{"name", v.name()}};
  if (!v.type().has_tensor_type()) return j;
  const auto& t = v.type().tensor_type();
  j["dtype"] = onnx_dtype_name(t.elem_type());
  if (!t.has_shape()) return j;
  nlohmann::json shape = nlohmann::json::array();
  for (const auto& d : t.shape().dim()) {
    if (d.has_dim_value()) shape.push_back(d.dim_value());
    else shape.push_back(d.has_dim_param() ? d.dim_param() : "?");
  }
  j["shape"] = shape;
  return j;
}

// -1 when a dim is negative or the count does not fit in 64 bits (a hostile file's dims).
std::int64_t elements(const onnx::TensorProto& t) {
  std::int64_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0 || (n > 0 && d > INT64_MAX / n)) return -1;
    n *= d;
  }
  return n;
}

}  // namespace

nlohmann::json summarize_onnx(const onnx::ModelProto& model) {
  nlohmann::json s = {{"format", "ONNX"}, {"ir_version", model.ir_version()}, {"producer", model.producer_name() + " " + model.producer_version()}};
  for (const auto& o : model.opset_import()) s["opset"][o.domain().empty() ? "ai.onnx" : o.domain()] = o.version();
  const auto& g = model.graph();
  s["node_count"] = g.node_size();
  s["ops"] = nlohmann::json::object();
  for (const auto& n : g.node()) s["ops"][n.op_type()] = s["ops"].value(n.op_type(), 0) + 1;
  std::map<std::string, bool> is_weight;
  for (const auto& t : g.initializer()) is_weight[t.name()] = true;
  s["inputs"] = nlohmann::json::array();
  for (const auto& v : g.input())
    if (!is_weight.count(v.name())) s["inputs"].push_back(value_json(v));
  s["outputs"] = nlohmann::json::array();
  for (const auto& v : g.output()) s["outputs"].push_back(value_json(v));
  std::int64_t params = 0;
  int external = 0;
  for (const auto& t : g.initializer()) {
    params += std::max<std::int64_t>(elements(t), 0);
    external += t.data_location() == onnx::TensorProto::EXTERNAL;
  }
  s["initializers"] = {{"count", g.initializer_size()}, {"parameters", params}, {"external", external}};
  return s;
}

}  // namespace tffreeze::onnx_export
