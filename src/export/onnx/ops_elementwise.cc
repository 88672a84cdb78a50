// Element-wise ops and activations. ONNX broadcasts as NumPy does, as TensorFlow does, so binary
// ops map one to one; TF ops that ONNX lacks are composed (Relu6 = Clip, Rsqrt = 1/Sqrt,
// FloorMod from Mod with TensorFlow's sign rule, ...).
#include <map>

#include "common/dtype.h"
#include "export/onnx/converters.h"

namespace tffreeze::onnx_export {
namespace {

const std::map<std::string, std::string>& one_to_one() {
  static const std::map<std::string, std::string> table = {
      {"Add", "Add"}, {"AddV2", "Add"}, {"Sub", "Sub"}, {"Mul", "Mul"}, {"RealDiv", "Div"}, {"Div", "Div"}, {"TruncateDiv", "Div"},
      {"Maximum", "Max"}, {"Minimum", "Min"}, {"Pow", "Pow"}, {"Equal", "Equal"}, {"Less", "Less"}, {"LessEqual", "LessOrEqual"},
      {"Greater", "Greater"}, {"GreaterEqual", "GreaterOrEqual"}, {"LogicalAnd", "And"}, {"LogicalOr", "Or"}, {"LogicalNot", "Not"},
      {"Relu", "Relu"}, {"Sigmoid", "Sigmoid"}, {"Tanh", "Tanh"}, {"Exp", "Exp"}, {"Log", "Log"}, {"Sqrt", "Sqrt"}, {"Neg", "Neg"},
      {"Abs", "Abs"}, {"Floor", "Floor"}, {"Ceil", "Ceil"}, {"Round", "Round"}, {"Rint", "Round"}, {"Reciprocal", "Reciprocal"},
      {"Inv", "Reciprocal"}, {"Sin", "Sin"}, {"Cos", "Cos"}, {"Tan", "Tan"}, {"Asin", "Asin"}, {"Acos", "Acos"}, {"Atan", "Atan"},
      {"Sinh", "Sinh"}, {"Cosh", "Cosh"}, {"Asinh", "Asinh"}, {"Acosh", "Acosh"}, {"Atanh", "Atanh"}, {"Erf", "Erf"},
      {"Sign", "Sign"}, {"Softplus", "Softplus"}, {"Softsign", "Softsign"}, {"IsNan", "IsNaN"}, {"IsInf", "IsInf"}, {"Elu", "Elu"},
      {"Selu", "Selu"}, {"Identity", "Identity"}, {"StopGradient", "Identity"}, {"Snapshot", "Identity"},
      {"PreventGradient", "Identity"}, {"DeepCopy", "Identity"}, {"AddN", "Sum"}, {"SelectV2", "Where"}};
  return table;
}

bool is_comparison(const std::string& onnx_op) {
  return onnx_op == "Equal" || onnx_op == "Less" || onnx_op == "LessOrEqual" || onnx_op == "Greater" || onnx_op == "GreaterOrEqual" ||
         onnx_op == "IsNaN" || onnx_op == "IsInf";
}

// onnxruntime's CPU kernels lack bfloat16 arithmetic: it is computed in float32 and rounded back,
// which is what TensorFlow's CPU kernels do for bfloat16 too. Tan has no float64 kernel there:
// Sin / Cos in float64.
void convert_one_to_one(const tf::NodeDef& node, ExportContext& ctx) {
  const std::string& op = one_to_one().at(node.op());
  const tf::DataType t = attr_type(node, "T", tf::DT_FLOAT);
  if (op == "Tan" && t == tf::DT_DOUBLE) {
    const std::string x = inputs_of(node)[0];
    ctx.add_node("Div", {ctx.add_node("Sin", {x}, {}, node.name() + "/sin")->output(0), ctx.add_node("Cos", {x}, {}, node.name() + "/cos")->output(0)},
                 {ExportContext::output(node)}, node.name());
    return;
  }
  if (t != tf::DT_BFLOAT16 || op == "Identity") {
    emit_same(node, ctx, op);
    return;
  }
  std::vector<std::string> widened;
  for (const auto& in : inputs_of(node)) widened.push_back(cast(ctx, in, tf::DT_FLOAT, node.name() + "/float"));
  if (is_comparison(op)) {
    ctx.add_node(op, widened, {ExportContext::output(node)}, node.name());
    return;
  }
  const std::string result = ctx.add_node(op, widened, {}, node.name() + "/in_float")->output(0);
  set_int(ctx.add_node("Cast", {result}, {ExportContext::output(node)}, node.name()), "to", onnx::TensorProto::BFLOAT16);
}

// A scalar constant of the node's dtype T.
std::string scalar_of_t(const tf::NodeDef& node, ExportContext& ctx, double value, const std::string& name) {
  const tf::DataType t = attr_type(node, "T", tf::DT_FLOAT);
  Tensor s{t, {}, std::string(static_cast<std::size_t>(dtype_size(t)), '\0'), {}, {}};
  switch (t) {
    case tf::DT_FLOAT: { const float v = static_cast<float>(value); std::memcpy(s.bytes.data(), &v, 4); break; }
    case tf::DT_DOUBLE: std::memcpy(s.bytes.data(), &value, 8); break;
    case tf::DT_INT32: { const std::int32_t v = static_cast<std::int32_t>(value); std::memcpy(s.bytes.data(), &v, 4); break; }
    case tf::DT_INT64: { const std::int64_t v = static_cast<std::int64_t>(value); std::memcpy(s.bytes.data(), &v, 8); break; }
    default: no_onnx_form(node, "dtype " + dtype_name(t) + " here");
  }
  return ctx.add_initializer(node.name() + "/" + name, s);
}

std::string unary(ExportContext& ctx, const std::string& op, const std::string& x, const std::string& name, const std::string& out = "") {
  return ctx.add_node(op, {x}, out.empty() ? std::vector<std::string>{} : std::vector<std::string>{out}, name)->output(0);
}
std::string binary(ExportContext& ctx, const std::string& op, const std::string& a, const std::string& b, const std::string& name,
                   const std::string& out = "") {
  return ctx.add_node(op, {a, b}, out.empty() ? std::vector<std::string>{} : std::vector<std::string>{out}, name)->output(0);
}

void convert_composed(const tf::NodeDef& node, ExportContext& ctx) {
  const auto in = inputs_of(node);
  const std::string out = ExportContext::output(node), name = node.name();
  const std::string& op = node.op();
  if (op == "Relu6") {
    ctx.add_node("Clip", {in[0], scalar_of_t(node, ctx, 0, "zero"), scalar_of_t(node, ctx, 6, "six")}, {out}, name);
  } else if (op == "Rsqrt") {
    unary(ctx, "Reciprocal", unary(ctx, "Sqrt", in[0], name + "/sqrt"), name, out);
  } else if (op == "Square") {
    binary(ctx, "Mul", in[0], in[0], name, out);
  } else if (op == "SquaredDifference") {
    const std::string d = binary(ctx, "Sub", in[0], in[1], name + "/difference");
    binary(ctx, "Mul", d, d, name, out);
  } else if (op == "Log1p") {
    unary(ctx, "Log", binary(ctx, "Add", in[0], scalar_of_t(node, ctx, 1, "one"), name + "/plus_one"), name, out);
  } else if (op == "Expm1") {
    binary(ctx, "Sub", unary(ctx, "Exp", in[0], name + "/exp"), scalar_of_t(node, ctx, 1, "one"), name, out);
  } else if (op == "NotEqual") {
    unary(ctx, "Not", binary(ctx, "Equal", in[0], in[1], name + "/equal"), name, out);
  } else if (op == "LeakyRelu") {
    set_float(ctx.add_node("LeakyRelu", {in[0]}, {out}, name), "alpha", attr_float(node, "alpha", 0.2f));
  } else if (op == "Select") {
    // Select's condition may be a vector choosing rows of x: give it x's rank.
    const auto& cond = ctx.info(node.input(0));
    const auto& x = ctx.info(node.input(1));
    std::string c = in[0];
    if (cond.shape.size() == 1 && x.shape.size() > 1) {
      std::vector<std::int64_t> axes;
      for (std::size_t k = 1; k < x.shape.size(); ++k) axes.push_back(static_cast<std::int64_t>(k));
      c = ctx.add_node("Unsqueeze", {c, ctx.add_ints(name + "/axes", axes)}, {}, name + "/condition")->output(0);
    }
    ctx.add_node("Where", {c, in[1], in[2]}, {out}, name);
  } else if (op == "ClipByValue") {
    binary(ctx, "Max", binary(ctx, "Min", in[0], in[2], name + "/min"), in[1], name, out);
  } else if (op == "Cast") {
    set_int(ctx.add_node("Cast", {in[0]}, {out}, name), "to", onnx_dtype(attr_type(node, "DstT", tf::DT_FLOAT)));
  } else {
    no_onnx_form(node, "this op");
  }
}

bool is_float(tf::DataType t) { return t == tf::DT_FLOAT || t == tf::DT_DOUBLE || t == tf::DT_HALF || t == tf::DT_BFLOAT16; }

// TensorFlow's floor division and modulo: the remainder takes the divisor's sign. ONNX's Mod
// with fmod=0 is that rule for integers; floats take fmod and move the remainder by one divisor
// where its sign differs from the divisor's, as TF's kernel does.
void convert_floor_ops(const tf::NodeDef& node, ExportContext& ctx) {
  const auto in = inputs_of(node);
  const std::string out = ExportContext::output(node), name = node.name();
  const bool floats = is_float(attr_type(node, "T", tf::DT_FLOAT));
  if (node.op() == "FloorDiv" && floats) {
    unary(ctx, "Floor", binary(ctx, "Div", in[0], in[1], name + "/quotient"), name, out);
    return;
  }
  if (!floats) {
    auto* mod = ctx.add_node("Mod", {in[0], in[1]}, node.op() == "FloorMod" ? std::vector<std::string>{out} : std::vector<std::string>{}, name + (node.op() == "FloorMod" ? "" : "/mod"));
    set_int(mod, "fmod", 0);
    if (node.op() == "FloorDiv") binary(ctx, "Div", binary(ctx, "Sub", in[0], mod->output(0), name + "/multiple"), in[1], name, out);
    return;
  }
  auto* r = ctx.add_node("Mod", {in[0], in[1]}, {}, name + "/fmod");
  set_int(r, "fmod", 1);
  const std::string zero = scalar_of_t(node, ctx, 0, "zero");
  const std::string nonzero = unary(ctx, "Not", binary(ctx, "Equal", r->output(0), zero, name + "/is_zero"), name + "/nonzero");
  const std::string signs_differ = binary(ctx, "Xor", binary(ctx, "Less", r->output(0), zero, name + "/r_negative"),
                                          binary(ctx, "Less", in[1], zero, name + "/y_negative"), name + "/signs_differ");
  const std::string adjust = binary(ctx, "And", nonzero, signs_differ, name + "/adjust");
  ctx.add_node("Where", {adjust, binary(ctx, "Add", r->output(0), in[1], name + "/moved"), r->output(0)}, {out}, name);
}

void convert_truncate_mod(const tf::NodeDef& node, ExportContext& ctx) { set_int(emit_same(node, ctx, "Mod"), "fmod", 1); }

}  // namespace

void register_elementwise_converters(ConverterRegistry& r) {
  for (const auto& [op, onnx_op] : one_to_one()) r.add(op, convert_one_to_one);
  r.add_all({"Relu6", "Rsqrt", "Square", "SquaredDifference", "Log1p", "Expm1", "NotEqual", "LeakyRelu", "Select", "ClipByValue", "Cast"},
        convert_composed);
  r.add_all({"FloorDiv", "FloorMod"}, convert_floor_ops);
  r.add_all({"Mod", "TruncateMod"}, convert_truncate_mod);
}

}  // namespace tffreeze::onnx_export
