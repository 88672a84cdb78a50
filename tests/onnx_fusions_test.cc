// The ONNX fusions (src/export/onnx/fusions/): each pattern fires where it must (the fused op is
// in the file, the pattern's ops are not), does not where it must not, and the fused file
// computes in onnxruntime what our executor computes on the TF graph.
#include <map>

#include "export/onnx/export.h"
#include "graph/builder.h"
#include "freeze_support.h"
#include "onnx_support.h"

namespace tffreeze {
namespace {

using graph::GraphBuilder;
using test::expect_onnx_matches;

std::map<std::string, int> exported_ops(const tf::GraphDef& graph, const std::vector<std::string>& outputs, int opset = 17,
                                        std::vector<std::string>* fusions = nullptr) {
  onnx_export::ExportOptions options;
  options.opset = opset;
  options.outputs = outputs;
  std::map<std::string, int> ops;
  const onnx::ModelProto model = onnx_export::to_onnx(graph, options, fusions);
  for (const auto& n : model.graph().node()) ++ops[n.op_type()];
  return ops;
}

// x in [-8, 8]: the hard activations' clips are reached on both sides.
std::string wide_input(GraphBuilder& b, std::vector<std::int64_t> shape) {
  b.placeholder("x0", tf::DT_FLOAT, std::move(shape));
  b.node("x", "Mul", {"x0", b.scalar("eight", 8)});
  return "x";
}

// clip_by_value(a x + b, 0, hi) as TF writes it: Maximum(Minimum(a x + b, hi), 0), named `name`.
void clipped_affine(GraphBuilder& b, const std::string& name, const std::string& x, float a, float shift, float hi) {
  b.node(name + "/mul", "Mul", {x, b.scalar(name + "/a", a)});
  b.node(name + "/add", "AddV2", {name + "/mul", b.scalar(name + "/b", shift)});
  b.node(name + "/min", "Minimum", {name + "/add", b.scalar(name + "/hi", hi)});
  b.node(name, "Maximum", {name + "/min", b.scalar(name + "/zero", 0)});
}

// relu6(x + 3), named `name`.
void shifted_relu6(GraphBuilder& b, const std::string& name, const std::string& x) {
  b.node(name + "/add", "AddV2", {x, b.scalar(name + "/three", 3)});
  b.node(name, "Relu6", {name + "/add"});
}

TEST(OnnxFusions, MatMulPlusBiasBecomesGemm) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("a", tf::DT_FLOAT, {5, 3});
  b.node("m", "MatMul", {"a", b.random_constant("w", {3, 4})});
  b.node("y", "BiasAdd", {"m", b.random_constant("bias", {4})});
  auto* t = b.node("mt", "MatMul", {"a", b.random_constant("wt", {4, 3})});  // transpose_b: the weight is Gemm's as it is
  GraphBuilder::attr(t, "transpose_b").set_b(true);
  b.node("yt", "AddV2", {b.random_constant("bias_t", {1, 4}), "mt"});
  std::vector<std::string> fusions;
  auto ops = exported_ops(b.graph(), {"y", "yt"}, 17, &fusions);
  EXPECT_EQ(ops["Gemm"], 2);
  EXPECT_EQ(ops["MatMul"] + ops["Add"] + ops["Transpose"], 0);
  EXPECT_EQ(fusions.size(), 2u);
  expect_onnx_matches(b.graph(), {"y", "yt"});
}

TEST(OnnxFusions, GemmNotWhereItIsNotThePair) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("a", tf::DT_FLOAT, {5, 3});
  b.placeholder("x", tf::DT_FLOAT, {2, 5, 3});
  b.placeholder("computed_bias", tf::DT_FLOAT, {4});
  b.node("batched", "BatchMatMulV2", {"x", b.random_constant("w3", {3, 4})});
  b.node("y_batched", "BiasAdd", {"batched", b.random_constant("b3", {4})});  // A of rank 3
  b.node("m", "MatMul", {"a", b.random_constant("w", {3, 4})});
  b.node("y_computed", "BiasAdd", {"m", "computed_bias"});  // a computed bias
  b.node("m2", "MatMul", {"a", b.random_constant("w2", {3, 4})});
  b.node("y_shared", "BiasAdd", {"m2", b.random_constant("b2", {4})});
  b.node("m2_relu", "Relu", {"m2"});  // the product is read elsewhere too
  b.placeholder("w_in", tf::DT_FLOAT, {3, 4});
  b.node("m3", "MatMul", {"a", "w_in"});
  b.node("y_weight_in", "BiasAdd", {"m3", b.random_constant("b4", {4})});  // a computed weight
  const std::vector<std::string> outs = {"y_batched", "y_computed", "y_shared", "m2_relu", "y_weight_in"};
  auto ops = exported_ops(b.graph(), outs);
  EXPECT_EQ(ops["Gemm"], 0);
  EXPECT_EQ(ops["MatMul"], 4);
  expect_onnx_matches(b.graph(), outs);
}

TEST(OnnxFusions, HardSigmoidForms) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  const std::string x = wide_input(b, {2, 3, 5});
  clipped_affine(b, "keras2", x, 0.2f, 0.5f, 1);  // Keras 2: clip_by_value(0.2 x + 0.5, 0, 1)
  // MobileNet V3: relu6(x + 3) * (1/6); Keras 3: relu6(3 + x) / 6.
  shifted_relu6(b, "v3_relu6", x);
  b.node("mobilenet_v3", "Mul", {"v3_relu6", b.scalar("sixth", 1.0f / 6)});
  b.node("k3_add", "AddV2", {b.scalar("three_b", 3), x});
  b.node("k3_relu6", "Relu6", {"k3_add"});
  b.node("keras3", "RealDiv", {"k3_relu6", b.scalar("six", 6)});
  const std::vector<std::string> outs = {"keras2", "mobilenet_v3", "keras3"};
  auto ops = exported_ops(b.graph(), outs);
  EXPECT_EQ(ops["HardSigmoid"], 3);
  EXPECT_EQ(ops["Clip"] + ops["Min"] + ops["Max"] + ops["Div"], 0);
  expect_onnx_matches(b.graph(), outs);
}

TEST(OnnxFusions, HardSigmoidNotForOtherScales) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  const std::string x = wide_input(b, {2, 3, 5});
  shifted_relu6(b, "relu6", x);
  b.node("fifth", "Mul", {"relu6", b.scalar("one_fifth", 0.2f)});  // clip(x + 3, 0, 6) / 5 reaches 1.2: not a hard sigmoid
  clipped_affine(b, "clip_to_two", x, 0.2f, 0.5f, 2);             // clip to [0, 2]
  auto ops = exported_ops(b.graph(), {"fifth", "clip_to_two"});
  EXPECT_EQ(ops["HardSigmoid"], 0);
  EXPECT_EQ(ops["Clip"], 1);
  expect_onnx_matches(b.graph(), {"fifth", "clip_to_two"});
}

TEST(OnnxFusions, HardSwishForms) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  const std::string x = wide_input(b, {2, 4, 3});
  // Keras MobileNet V3: x * (relu6(x + 3) * (1/6)).
  shifted_relu6(b, "relu6", x);
  b.node("hard_sigmoid", "Mul", {"relu6", b.scalar("sixth", 1.0f / 6)});
  b.node("keras", "Mul", {x, "hard_sigmoid"});
  // TF-Slim: x * relu6(x + 3) * (1/6).
  shifted_relu6(b, "s_relu6", x);
  b.node("s_product", "Mul", {"s_relu6", x});
  b.node("slim", "Mul", {"s_product", b.scalar("sixth_s", 1.0f / 6)});
  const std::vector<std::string> outs = {"keras", "slim"};
  auto ops = exported_ops(b.graph(), outs);
  EXPECT_EQ(ops["HardSwish"], 2);
  EXPECT_EQ(ops["Clip"] + ops["Mul"] + ops["HardSigmoid"], 1) << "only the input's scaling stays";
  expect_onnx_matches(b.graph(), outs);
  // HardSwish is an opset 14 op: at 13 the hard sigmoid is fused and the product stays.
  auto at13 = exported_ops(b.graph(), {"keras"}, 13);
  EXPECT_EQ(at13["HardSwish"], 0);
  EXPECT_EQ(at13["HardSigmoid"], 1);
  expect_onnx_matches(b.graph(), {"keras"}, 1e-5, {}, 13);
}

TEST(OnnxFusions, HardSwishNotForOtherSigmoids) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  const std::string x = wide_input(b, {2, 4, 3});
  clipped_affine(b, "k2", x, 0.2f, 0.5f, 1);  // Keras 2's hard sigmoid: HardSigmoid(0.2, 0.5)
  b.node("times_x", "Mul", {x, "k2"});
  b.placeholder("other", tf::DT_FLOAT, {2, 4, 3});
  shifted_relu6(b, "relu6", x);
  b.node("hs", "Mul", {"relu6", b.scalar("sixth", 1.0f / 6)});
  b.node("times_other", "Mul", {"other", "hs"});  // another tensor times the hard sigmoid of x
  auto ops = exported_ops(b.graph(), {"times_x", "times_other"});
  EXPECT_EQ(ops["HardSwish"], 0);
  EXPECT_EQ(ops["HardSigmoid"], 2);
  expect_onnx_matches(b.graph(), {"times_x", "times_other"});
}

// Keras's PReLU: relu(x) + (-alpha) * relu(-x), alpha per channel (shared_axes=[1, 2]) or one value.
void keras_prelu(GraphBuilder& b, const std::string& name, const std::string& x, const std::string& minus_alpha) {
  b.node(name + "/pos", "Relu", {x});
  b.node(name + "/neg_x", "Neg", {x});
  b.node(name + "/neg_relu", "Relu", {name + "/neg_x"});
  b.node(name + "/neg", "Mul", {minus_alpha, name + "/neg_relu"});
  b.node(name, "AddV2", {name + "/pos", name + "/neg"});
}

TEST(OnnxFusions, PReluForms) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 3, 3, 4});
  keras_prelu(b, "per_channel", "x", b.random_constant("minus_alpha", {1, 1, 4}, -0.5f, 0));
  keras_prelu(b, "one_slope", "x", b.scalar("minus_alpha_1", -0.25f));
  b.node("s_pos", "Relu", {"x"});  // relu(x) - alpha * relu(-x)
  b.node("s_neg_x", "Neg", {"x"});
  b.node("s_neg_relu", "Relu", {"s_neg_x"});
  b.node("s_neg", "Mul", {"s_neg_relu", b.random_constant("alpha_s", {4}, 0, 0.5f)});
  b.node("sub_form", "Sub", {"s_pos", "s_neg"});
  b.node("m_mul", "Mul", {b.random_constant("alpha_m", {4}, -0.5f, 1), "x"});  // max(x, alpha x), alpha <= 1
  b.node("max_form", "Maximum", {"x", "m_mul"});
  const std::vector<std::string> outs = {"per_channel", "one_slope", "sub_form", "max_form"};
  auto ops = exported_ops(b.graph(), outs);
  EXPECT_EQ(ops["PRelu"], 3);
  EXPECT_EQ(ops["LeakyRelu"], 1);
  EXPECT_EQ(ops["Relu"] + ops["Neg"] + ops["Mul"] + ops["Max"], 0);
  expect_onnx_matches(b.graph(), outs);
}

TEST(OnnxFusions, PReluNotWhereItIsNotOne) {
  REQUIRE_ONNXRUNTIME();
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 3, 3, 4});
  b.placeholder("y", tf::DT_FLOAT, {2, 3, 3, 4});
  b.node("m_mul", "Mul", {b.constant("alpha_big", test::values_tensor(tf::DT_FLOAT, {4}, std::vector<float>{0.1f, 0.2f, 1.5f, 0.3f})), "x"});
  b.node("max_big", "Maximum", {"x", "m_mul"});  // a slope above 1: max picks alpha x for x > 0
  b.node("pos", "Relu", {"x"});
  b.node("neg_y", "Neg", {"y"});
  b.node("neg_relu", "Relu", {"neg_y"});
  b.node("neg", "Mul", {b.scalar("minus_alpha", -0.2f), "neg_relu"});
  b.node("two_inputs", "AddV2", {"pos", "neg"});  // relu(x) + c relu(-y)
  b.node("g_mul", "Mul", {b.random_constant("alpha_g", {2, 1, 1, 1, 4}, 0, 0.5f), "x"});
  b.node("max_grows", "Maximum", {"x", "g_mul"});  // the slope would broadcast x to a larger shape
  const std::vector<std::string> outs = {"max_big", "two_inputs", "max_grows"};
  auto ops = exported_ops(b.graph(), outs);
  EXPECT_EQ(ops["PRelu"] + ops["LeakyRelu"], 0);
  EXPECT_EQ(ops["Max"], 2);
  expect_onnx_matches(b.graph(), outs);
}

}  // namespace
}  // namespace tffreeze
