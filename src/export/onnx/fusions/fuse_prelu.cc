// The PReLU compositions as ONNX's PRelu (a per-element or per-channel slope) or LeakyRelu (one
// slope):
//   Keras's PReLU layer      relu(x) + c * relu(-x), c = -alpha   -> PRelu(x, alpha)
//                            relu(x) - alpha * relu(-x)           -> PRelu(x, alpha)
//   max form (old leaky_relu) max(x, alpha * x), every alpha <= 1  -> PRelu(x, alpha)
// Both are exactly PRelu: for x < 0, c * -x and -c * x are the same float, and max(x, alpha x) is
// alpha x for every alpha <= 1. The slope must broadcast to x without growing it (PRelu's slope
// broadcasts one way), which holds when the product has x's shape.
#include "export/onnx/context.h"
#include "export/onnx/fusions/fusion_graph.h"

namespace tffreeze::onnx_export {
namespace {

// alpha * v (either operand order) of a float constant alpha: alpha's name, else "".
std::string constant_factor(const onnx::NodeProto& mul, const std::string& v, const FusionGraph& g) {
  if (mul.op_type() != "Mul") return "";
  const std::string c = other_operand(mul, v);
  return !c.empty() && g.is_constant(c) && g.elem_type(c) == onnx::TensorProto::FLOAT ? c : "";
}

bool same_shape(const FusionGraph& g, const std::string& a, const std::string& b) {
  auto sa = g.shape(a), sb = g.shape(b);
  return sa && sb && *sa == *sb;
}

// PRelu(x, slope) at `last`, or LeakyRelu when the slope is one value. `negate`: the slope is -c.
std::string emit_prelu(FusionGraph& g, const onnx::NodeProto& last, const std::string& x, const std::string& c, bool negate,
                       const std::vector<const onnx::NodeProto*>& removed, const std::string& form) {
  auto values = g.floats(c);
  auto dims = g.shape(c);
  if (!values || !dims) return "";
  const std::string what = "PRelu '" + targets::onnx_node_name(last) + "': " + form;
  if (values->size() == 1) {
    set_float(g.fuse(last, "LeakyRelu", {x}, removed), "alpha", static_cast<float>(negate ? -(*values)[0] : (*values)[0]));
    return what + " (one slope: LeakyRelu)";
  }
  std::string slope = c;
  if (negate) {
    std::vector<float> negated;
    for (double v : *values) negated.push_back(static_cast<float>(-v));
    slope = g.add_float_initializer(c + "/negated", negated, *dims);
  }
  g.fuse(last, "PRelu", {x, slope}, removed);
  return what;
}

}  // namespace

std::string fuse_relu_difference_as_prelu(const onnx::NodeProto& node, FusionGraph& g) {
  const bool add = node.op_type() == "Add";
  if ((!add && node.op_type() != "Sub") || node.input_size() != 2) return "";
  for (int k = 0; k < (add ? 2 : 1); ++k) {
    const auto* pos = g.producer(node.input(k));
    const auto* mul = g.producer(node.input(1 - k));
    if (!pos || !mul || pos->op_type() != "Relu" || !g.only_read_once(*pos) || !g.only_read_once(*mul) || mul->input_size() != 2) continue;
    const std::string x = pos->input(0);
    for (int m = 0; m < 2; ++m) {
      const auto* neg_relu = g.producer(mul->input(m));
      const auto* neg = neg_relu && neg_relu->op_type() == "Relu" ? g.producer(neg_relu->input(0)) : nullptr;
      if (!neg || neg->op_type() != "Neg" || neg->input(0) != x || !g.only_read_once(*neg_relu) || !g.only_read_once(*neg)) continue;
      const std::string c = constant_factor(*mul, mul->input(m), g);
      if (c.empty() || !same_shape(g, mul->output(0), x) || g.elem_type(x) != onnx::TensorProto::FLOAT) continue;
      return emit_prelu(g, node, x, c, add, {pos, mul, neg_relu, neg}, add ? "relu(x) + c * relu(-x)" : "relu(x) - alpha * relu(-x)");
    }
  }
  return "";
}

std::string fuse_max_as_prelu(const onnx::NodeProto& node, FusionGraph& g) {
  if (node.op_type() != "Max" || node.input_size() != 2) return "";
  for (int k = 0; k < 2; ++k) {
    const std::string x = node.input(k);
    const auto* mul = g.producer(node.input(1 - k));
    if (!mul || !g.only_read_once(*mul)) continue;
    const std::string alpha = constant_factor(*mul, x, g);
    auto values = alpha.empty() ? std::nullopt : g.floats(alpha);
    if (!values || !same_shape(g, mul->output(0), x) || g.elem_type(x) != onnx::TensorProto::FLOAT) continue;
    bool at_most_one = true;
    for (double v : *values) at_most_one = at_most_one && v <= 1;
    if (!at_most_one) continue;
    return emit_prelu(g, node, x, alpha, false, {mul}, "max(x, alpha * x)");
  }
  return "";
}

}  // namespace tffreeze::onnx_export
