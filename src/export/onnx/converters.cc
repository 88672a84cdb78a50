#include "export/onnx/converters.h"

#include <cstring>

#include "common/error.h"
#include "graph/tensor_ref.h"

namespace tffreeze::onnx_export {

const ConverterRegistry& ConverterRegistry::global() {
  static const ConverterRegistry registry = [] {
    ConverterRegistry r;
#define TFFREEZE_REGISTER_CONVERTER_FAMILY(family) register_##family##_converters(r);
    TFFREEZE_CONVERTER_FAMILIES(TFFREEZE_REGISTER_CONVERTER_FAMILY)
#undef TFFREEZE_REGISTER_CONVERTER_FAMILY
    return r;
  }();
  return registry;
}

Converter ConverterRegistry::find(const std::string& op) const {
  auto it = converters_.find(op);
  return it == converters_.end() ? nullptr : it->second;
}

std::vector<std::string> inputs_of(const tf::NodeDef& node) {
  std::vector<std::string> out;
  for (const auto& in : node.input())
    if (!in.empty() && in[0] != '^') out.push_back(ExportContext::value(in));
  return out;
}

namespace {
const tf::AttrValue* find_attr(const tf::NodeDef& node, const std::string& name) {
  auto it = node.attr().find(name);
  return it == node.attr().end() ? nullptr : &it->second;
}
}  // namespace

std::int64_t attr_int(const tf::NodeDef& node, const std::string& name, std::int64_t fallback) {
  const auto* a = find_attr(node, name);
  return a && a->value_case() == tf::AttrValue::kI ? a->i() : fallback;
}
float attr_float(const tf::NodeDef& node, const std::string& name, float fallback) {
  const auto* a = find_attr(node, name);
  return a && a->value_case() == tf::AttrValue::kF ? a->f() : fallback;
}
bool attr_bool(const tf::NodeDef& node, const std::string& name, bool fallback) {
  const auto* a = find_attr(node, name);
  return a && a->value_case() == tf::AttrValue::kB ? a->b() : fallback;
}
std::string attr_string(const tf::NodeDef& node, const std::string& name, const std::string& fallback) {
  const auto* a = find_attr(node, name);
  return a && a->value_case() == tf::AttrValue::kS ? a->s() : fallback;
}
std::vector<std::int64_t> attr_ints(const tf::NodeDef& node, const std::string& name) {
  const auto* a = find_attr(node, name);
  if (!a || a->value_case() != tf::AttrValue::kList) return {};
  return {a->list().i().begin(), a->list().i().end()};
}
tf::DataType attr_type(const tf::NodeDef& node, const std::string& name, tf::DataType fallback) {
  const auto* a = find_attr(node, name);
  return a && a->value_case() == tf::AttrValue::kType ? a->type() : fallback;
}

void no_onnx_form(const tf::NodeDef& node, const std::string& what) {
  throw Error(ExitCode::kUnsupported, "node '" + node.name() + "' (" + node.op() + "): " + what + " has no ONNX form");
}

namespace {
std::int64_t int_element(const Tensor& t, std::int64_t i) {
  if (t.dtype == tf::DT_INT64) return t.get<std::int64_t>(i);
  if (t.dtype == tf::DT_INT32) return t.get<std::int32_t>(i);
  return static_cast<std::int64_t>(element_as_double(t, i));
}
}  // namespace

std::vector<std::int64_t> const_ints(const tf::NodeDef& node, int k, ExportContext& ctx) {
  auto inputs = inputs_of(node);
  if (k >= static_cast<int>(inputs.size())) no_onnx_form(node, "a missing input " + std::to_string(k));
  const Tensor* t = ctx.constant(inputs[static_cast<std::size_t>(k)]);
  if (!t) no_onnx_form(node, "input " + std::to_string(k) + " that is not a constant");
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < t->num_elements(); ++i) out.push_back(int_element(*t, i));
  return out;
}

std::string int64_input(const tf::NodeDef& node, int k, ExportContext& ctx) {
  auto inputs = inputs_of(node);
  const std::string& v = inputs.at(static_cast<std::size_t>(k));
  if (const Tensor* t = ctx.constant(v)) {
    Tensor out{tf::DT_INT64, t->shape, std::string(static_cast<std::size_t>(t->num_elements()) * 8, '\0'), {}, {}};
    for (std::int64_t i = 0; i < t->num_elements(); ++i) {
      const std::int64_t x = int_element(*t, i);
      std::memcpy(out.bytes.data() + i * 8, &x, 8);
    }
    return ctx.add_initializer(v + "_i64", out);
  }
  if (ctx.info(v).dtype == tf::DT_INT64) return v;
  return cast(ctx, v, tf::DT_INT64, node.name() + "/" + std::to_string(k) + "_i64");
}

onnx::NodeProto* emit_same(const tf::NodeDef& node, ExportContext& ctx, const std::string& op_type) {
  return ctx.add_node(op_type, inputs_of(node), {ExportContext::output(node)}, node.name());
}

std::string cast(ExportContext& ctx, const std::string& v, tf::DataType to, const std::string& name) {
  auto* n = ctx.add_node("Cast", {v}, {}, name);
  set_int(n, "to", onnx_dtype(to));
  return n->output(0);
}

}  // namespace tffreeze::onnx_export
