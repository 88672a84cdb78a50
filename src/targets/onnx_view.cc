#include "targets/onnx_view.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <cstring>

namespace tffreeze::targets {
namespace {

// Weights above this size are left out of the copy shape inference works on: it reads only the
// small integer tensors (shapes, axes) as data, and a model's weights may be most of its bytes.
constexpr std::size_t kInferenceDataLimit = 4096;

// Everything but the large weights' values (their names, types and dims stay): never a second
// copy of a model's weights in memory.
onnx::ModelProto without_large_weights(const onnx::ModelProto& model) {
  onnx::ModelProto copy;
  copy.set_ir_version(model.ir_version());
  *copy.mutable_opset_import() = model.opset_import();
  *copy.mutable_functions() = model.functions();
  const auto& graph = model.graph();
  auto* g = copy.mutable_graph();
  *g->mutable_node() = graph.node();
  *g->mutable_input() = graph.input();
  *g->mutable_output() = graph.output();
  *g->mutable_value_info() = graph.value_info();
  for (const auto& t : graph.initializer()) {
    auto* c = g->add_initializer();
    if (t.ByteSizeLong() <= kInferenceDataLimit) {
      *c = t;
      continue;
    }
    c->set_name(t.name());
    c->set_data_type(t.data_type());
    *c->mutable_dims() = t.dims();
  }
  return copy;
}

template <typename T>
std::vector<T> raw_values(const std::string& raw) {
  std::vector<T> out(raw.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), raw.data(), out.size() * sizeof(T));
  return out;
}

// Every value of an inline tensor as double (integers exactly up to 2^53, which axes and shapes are).
std::optional<std::vector<double>> tensor_values(const onnx::TensorProto& t) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) return std::nullopt;
  std::vector<double> out;
  const std::string& raw = t.raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::INT64:
      if (!raw.empty())
        for (auto v : raw_values<std::int64_t>(raw)) out.push_back(static_cast<double>(v));
      for (auto v : t.int64_data()) out.push_back(static_cast<double>(v));
      return out;
    case onnx::TensorProto::INT32:
      if (!raw.empty())
        for (auto v : raw_values<std::int32_t>(raw)) out.push_back(v);
      for (auto v : t.int32_data()) out.push_back(v);
      return out;
    case onnx::TensorProto::FLOAT:
      if (!raw.empty())
        for (auto v : raw_values<float>(raw)) out.push_back(v);
      for (auto v : t.float_data()) out.push_back(v);
      return out;
    case onnx::TensorProto::DOUBLE:
      if (!raw.empty()) return raw_values<double>(raw);
      return std::vector<double>(t.double_data().begin(), t.double_data().end());
    case onnx::TensorProto::BOOL:
      if (!raw.empty())
        for (auto v : raw_values<std::uint8_t>(raw)) out.push_back(v);
      for (auto v : t.int32_data()) out.push_back(v);
      return out;
    default:
      return std::nullopt;
  }
}

}  // namespace

OnnxView::OnnxView(const onnx::ModelProto& model) : model_(model) {
  for (const auto& t : model.graph().initializer()) constants_[t.name()] = &t;
  for (const auto& n : model.graph().node()) {
    for (const auto& in : n.input()) ++readers_[in];
    if (n.op_type() != "Constant" || n.output_size() != 1) continue;
    for (const auto& a : n.attribute())
      if (a.name() == "value" && a.has_t()) constants_[n.output(0)] = &a.t();
  }
  for (const auto& o : model.graph().output()) ++readers_[o.name()];
  // Shape inference may reject what it cannot follow (ops newer than Debian's ONNX, odd models):
  // then the types and shapes it did write are kept, and rules that need the rest stay silent.
  inferred_ = without_large_weights(model);
  try {
    onnx::shape_inference::InferShapes(inferred_, onnx::OpSchemaRegistry::Instance());
  } catch (const std::exception&) {
  }
  for (const auto* list : {&inferred_.graph().input(), &inferred_.graph().output(), &inferred_.graph().value_info()})
    for (const auto& v : *list) infos_.emplace(v.name(), &v);
}

int OnnxView::opset(const std::string& domain) const {
  for (const auto& o : model_.opset_import())
    if (o.domain() == domain || (domain.empty() && o.domain() == "ai.onnx")) return static_cast<int>(o.version());
  return -1;
}

const onnx::TensorProto* OnnxView::constant(const std::string& value) const {
  auto it = constants_.find(value);
  return it == constants_.end() ? nullptr : it->second;
}

std::optional<std::vector<std::int64_t>> OnnxView::ints(const std::string& value) const {
  const auto* t = constant(value);
  if (!t || (t->data_type() != onnx::TensorProto::INT64 && t->data_type() != onnx::TensorProto::INT32)) return std::nullopt;
  if (t->data_type() == onnx::TensorProto::INT64 && t->raw_data().empty() && t->data_location() != onnx::TensorProto::EXTERNAL)
    return std::vector<std::int64_t>(t->int64_data().begin(), t->int64_data().end());  // exact beyond 2^53
  if (t->data_type() == onnx::TensorProto::INT64 && t->data_location() != onnx::TensorProto::EXTERNAL)
    return raw_values<std::int64_t>(t->raw_data());
  auto values = tensor_values(*t);
  if (!values) return std::nullopt;
  return std::vector<std::int64_t>(values->begin(), values->end());
}

std::optional<std::vector<double>> OnnxView::floats(const std::string& value) const {
  const auto* t = constant(value);
  return t ? tensor_values(*t) : std::nullopt;
}

int OnnxView::elem_type(const std::string& value) const {
  if (const auto* t = constant(value)) return t->data_type();
  auto it = infos_.find(value);
  if (it == infos_.end() || !it->second->type().has_tensor_type()) return 0;
  return it->second->type().tensor_type().elem_type();
}

std::optional<std::vector<std::int64_t>> OnnxView::shape(const std::string& value) const {
  if (const auto* t = constant(value)) return std::vector<std::int64_t>(t->dims().begin(), t->dims().end());
  auto it = infos_.find(value);
  if (it == infos_.end() || !it->second->type().has_tensor_type() || !it->second->type().tensor_type().has_shape()) return std::nullopt;
  std::vector<std::int64_t> dims;
  for (const auto& d : it->second->type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return dims;
}

int OnnxView::readers(const std::string& value) const {
  auto it = readers_.find(value);
  return it == readers_.end() ? 0 : it->second;
}

bool OnnxView::is_graph_input(const std::string& value) const {
  for (const auto& i : model_.graph().input())
    if (i.name() == value && !constants_.count(value)) return true;
  return false;
}

std::string onnx_node_name(const onnx::NodeProto& node) {
  if (!node.name().empty()) return node.name();
  return node.output_size() > 0 ? node.output(0) : "(unnamed " + node.op_type() + ")";
}

namespace {
const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
}  // namespace

std::int64_t onnx_attr_int(const onnx::NodeProto& node, const std::string& name, std::int64_t fallback) {
  const auto* a = find_attr(node, name);
  return a ? a->i() : fallback;
}

float onnx_attr_float(const onnx::NodeProto& node, const std::string& name, float fallback) {
  const auto* a = find_attr(node, name);
  return a ? a->f() : fallback;
}

std::string onnx_attr_string(const onnx::NodeProto& node, const std::string& name, const std::string& fallback) {
  const auto* a = find_attr(node, name);
  return a ? a->s() : fallback;
}

std::optional<std::vector<std::int64_t>> onnx_attr_ints(const onnx::NodeProto& node, const std::string& name) {
  const auto* a = find_attr(node, name);
  if (!a) return std::nullopt;
  return std::vector<std::int64_t>(a->ints().begin(), a->ints().end());
}

bool onnx_has_attr(const onnx::NodeProto& node, const std::string& name) { return find_attr(node, name) != nullptr; }

std::string onnx_input(const onnx::NodeProto& node, int k) { return k < node.input_size() ? node.input(k) : ""; }

}  // namespace tffreeze::targets
