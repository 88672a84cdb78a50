// The rewriting passes besides batch-norm folding and training-op stripping: each fires where it
// must, stays where it must not (saying why), and the numbers do not change.
#include <filesystem>
#include <set>

#include "common/error.h"
#include "graph/validate.h"
#include "io/model.h"
#include "pass_support.h"
#include "support.h"

namespace tffreeze::passes {
namespace {

using namespace test_support;
using graph::GraphBuilder;

TEST(CanonicalizeOperands, ConstantGoesSecondAndConstantFirstSubIsRewritten) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 3});
  b.node("scaled", "Mul", {b.random_constant("gamma", {3}), "x"});
  b.node("kept", "Mul", {"scaled", b.random_constant("k", {3})});  // already canonical
  b.node("both", "Maximum", {"kept", "scaled"});                   // no constant: stays
  b.node("one_minus", "Sub", {b.scalar("one", 1.0f), "both"});
  b.node("out", "Relu", {"one_minus"});
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("canonicalize_operands", &after, {"out"});
  EXPECT_EQ(r.changed, 2);
  EXPECT_EQ(find_node(after, "scaled")->input(0), "x");
  EXPECT_EQ(find_node(after, "kept")->input(0), "scaled");
  EXPECT_EQ(find_node(after, "both")->input(0), "kept");
  EXPECT_EQ(find_node(after, "one_minus")->op(), "Add");
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(b.graph(), after, {"out"}), 1e-6);
}

TEST(CanonicalizeActivations, ReluRelu6AndPreluForms) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 4, 4, 3});
  b.node("relu", "Maximum", {"x", b.scalar("zero", 0.0f)});
  b.node("relu6", "Minimum", {"relu", b.scalar("six", 6.0f)});
  // PReLU as the TF.js/MXNet converters write it: max(0, y) + gamma * min(0, y)
  b.node("y", "Mul", {"relu6", b.scalar("k", -3.0f)});
  b.node("pos", "Maximum", {b.scalar("zero_a", 0.0f), "y"});
  b.node("neg", "Minimum", {b.scalar("zero_b", 0.0f), "y"});
  b.node("scaled", "Mul", {b.random_constant("gamma", {3}, 0.1f, 0.5f), "neg"});
  b.node("prelu", "AddV2", {"pos", "scaled"});
  b.node("clip", "Maximum", {"prelu", b.scalar("half", 0.5f)});  // not a Relu: stays
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("canonicalize_activations", &after, {"clip"});
  EXPECT_EQ(r.changed, 3);
  EXPECT_EQ(find_node(after, "relu6")->op(), "Relu6");
  EXPECT_EQ(find_node(after, "relu6")->input(0), "x");
  EXPECT_EQ(find_node(after, "pos")->op(), "Relu");
  EXPECT_EQ(find_node(after, "neg")->op(), "Neg");
  EXPECT_EQ(find_node(after, "prelu")->op(), "Add");
  EXPECT_EQ(count_op(after, "Minimum"), 0);
  EXPECT_EQ(count_op(after, "Maximum"), 1);
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(b.graph(), after, {"clip"}), 1e-5);
}

tf::NodeDef* fused(GraphBuilder& b, const std::string& name, const std::string& op, std::vector<std::string> inputs,
                   std::vector<std::string> post) {
  auto* n = b.node(name, op, std::move(inputs));
  for (const auto& p : post) GraphBuilder::attr(n, "fused_ops").mutable_list()->add_s(p);
  GraphBuilder::attr(n, "num_args").set_i(static_cast<int>(n->input_size()) - 2);
  if (op != "_FusedMatMul") {
    GraphBuilder::set_ints(n, "strides", {1, 1, 1, 1});
    GraphBuilder::attr(n, "padding").set_s("SAME");
    GraphBuilder::attr(n, "data_format").set_s("NHWC");
  }
  GraphBuilder::attr(n, "epsilon").set_f(0.001f);
  return n;
}

TEST(UnfuseOps, FusedConvDepthwiseAndMatMulBackIntoTheirParts) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 5, 5, 2});
  fused(b, "c1", "_FusedConv2D", {"x", b.random_constant("w1", {3, 3, 2, 4}), b.random_constant("b1", {4})}, {"BiasAdd", "Relu6"});
  fused(b, "c2", "FusedDepthwiseConv2dNative", {"c1", b.random_constant("w2", {3, 3, 4, 1}), b.random_constant("g", {4}, 0.5f, 1.5f),
                                                 b.random_constant("be", {4}), b.random_constant("m", {4}), b.random_constant("v", {4}, 0.5f, 2)},
        {"FusedBatchNorm", "Relu"});
  b.node("flat", "Reshape", {"c2", b.ints("flat/shape", {1, 100})});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tshape").set_type(tf::DT_INT32);
  fused(b, "fc", "_FusedMatMul", {"flat", b.random_constant("w3", {100, 3}), b.random_constant("b3", {3})}, {"BiasAdd", "Tanh"});
  fused(b, "odd", "_FusedMatMul", {"flat", b.random_constant("w4", {100, 3}), b.random_constant("b4", {3})}, {"BiasAdd", "Gelu"});
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("unfuse_ops", &after, {"fc"});
  EXPECT_EQ(r.changed, 3);
  EXPECT_TRUE(said(r, "odd", "no standard equivalent"));
  EXPECT_EQ(count_op(after, "_FusedConv2D") + count_op(after, "FusedDepthwiseConv2dNative"), 0);
  EXPECT_EQ(count_op(after, "_FusedMatMul"), 1);  // the Gelu one
  EXPECT_EQ(find_node(after, "c1")->op(), "Relu6");
  EXPECT_EQ(find_node(after, "c2")->op(), "Relu");
  EXPECT_EQ(find_node(after, "fc")->op(), "Tanh");
  EXPECT_EQ(count_op(after, "FusedBatchNormV3"), 1);
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(b.graph(), after, {"fc"}), 1e-5);
}

TEST(FuseBiasAdd, PerChannelAddsBecomeBiasAddOthersStay) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 4, 4, 2});
  b.conv("c1", "Conv2D", "x", b.random_constant("w1", {3, 3, 2, 3}));
  b.node("a1", "AddV2", {"c1", b.random_constant("b1", {3})});
  b.conv("c2", "Conv2D", "a1", b.random_constant("w2", {1, 1, 3, 3}));
  b.node("a2", "Add", {b.random_constant("b2", {1, 1, 1, 3}), "c2"});  // constant first, rank 4
  b.conv("c3", "Conv2D", "a2", b.random_constant("w3", {1, 1, 3, 3}));
  b.node("a3", "AddV2", {"c3", b.random_constant("b3", {4, 4, 3})});  // not per-channel
  b.placeholder("img", tf::DT_FLOAT, {1, 3, 4, 4});
  auto* nchw = b.conv("c4", "Conv2D", "img", b.random_constant("w4", {1, 1, 3, 2}));
  GraphBuilder::attr(nchw, "data_format").set_s("NCHW");
  b.node("a4", "AddV2", {"c4", b.random_constant("b4", {2, 1, 1})});
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("fuse_bias_add", &after, {"a3", "a4"});
  EXPECT_EQ(r.changed, 3);
  EXPECT_TRUE(said(r, "a3", "not one value per output channel"));
  EXPECT_EQ(find_node(after, "a1")->op(), "BiasAdd");
  EXPECT_EQ(find_node(after, "a2")->op(), "BiasAdd");
  EXPECT_EQ(find_node(after, "a3")->op(), "AddV2");
  EXPECT_EQ(find_node(after, "a4")->attr().at("data_format").s(), "NCHW");
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(b.graph(), after, {"a3", "a4"}), 1e-5);
}

TEST(MergeDuplicateNodes, IdenticalNodesMergeRandomOnesAndOutputsDoNot) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {3});
  b.scalar("two_a", 2.0f);
  b.scalar("two_b", 2.0f);
  b.node("m1", "Mul", {"x", "two_a"});
  b.node("m2", "Mul", {"x", "two_b"});  // equal once two_b merges into two_a
  b.node("sum", "AddV2", {"m1", "m2"});
  b.node("shape", "Shape", {"x"});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "out_type").set_type(tf::DT_INT32);
  for (const char* r : {"r1", "r2"}) {
    auto* n = b.node(r, "RandomUniform", {"shape"}, tf::DT_INT32);
    GraphBuilder::attr(n, "dtype").set_type(tf::DT_FLOAT);
  }
  b.node("noise", "AddV2", {"r1", "r2"});
  b.node("out", "AddV2", {"sum", "noise"});
  b.node("out2", "Mul", {"x", "two_a"});  // a duplicate of m1, but an output
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("merge_duplicate_nodes", &after, {"out", "out2"});
  EXPECT_EQ(r.changed, 2);  // two_b, m2
  EXPECT_EQ(find_node(after, "m2"), nullptr);
  EXPECT_EQ(find_node(after, "sum")->input(1), "m1");
  EXPECT_EQ(count_op(after, "RandomUniform"), 2);
  EXPECT_NE(find_node(after, "out2"), nullptr);
  EXPECT_TRUE(graph::validate_graph(after).empty());
}

TEST(FlattenAtrousConv, SpaceToBatchSandwichBecomesDilatedConv) {
  // tf.nn.atrous_conv2d(x, w, rate=2, padding="SAME") on 8x8 with a 3x3 filter: effective
  // extent 5, SAME padding 2+2, no remainder.
  auto build = [](std::vector<std::int32_t> pads) {
    GraphBuilder b;
    b.placeholder("x", tf::DT_FLOAT, {1, 8, 8, 2});
    b.node("s2b", "SpaceToBatchND", {"x", b.ints("block", {2, 2}), b.ints("pads", pads, {2, 2})});
    GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tblock_shape").set_type(tf::DT_INT32);
    GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tpaddings").set_type(tf::DT_INT32);
    b.conv("conv", "Conv2D", "s2b", b.random_constant("w", {3, 3, 2, 4}), 1, "VALID");
    b.node("b2s", "BatchToSpaceND", {"conv", "block", b.ints("crops", {0, 0, 0, 0}, {2, 2})});
    GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tblock_shape").set_type(tf::DT_INT32);
    GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tcrops").set_type(tf::DT_INT32);
    b.node("out", "Relu", {"b2s"});
    return b.graph();
  };
  tf::GraphDef same = build({2, 2, 2, 2}), after = same;
  PassReport r = run_pass("flatten_atrous_conv", &after, {"out"});
  EXPECT_EQ(r.changed, 1);
  EXPECT_EQ(count_op(after, "SpaceToBatchND") + count_op(after, "BatchToSpaceND"), 0);
  const tf::NodeDef* conv = find_node(after, "b2s");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->op(), "Conv2D");
  EXPECT_EQ(conv->attr().at("padding").s(), "SAME");
  EXPECT_EQ(conv->attr().at("dilations").list().i(1), 2);
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(same, after, {"out"}), 1e-5);
  // Lopsided padding is neither SAME nor VALID: left alone.
  tf::GraphDef odd = build({1, 3, 2, 2});
  PassReport r2 = run_pass("flatten_atrous_conv", &odd, {"out"});
  EXPECT_EQ(r2.changed, 0);
  EXPECT_TRUE(said(r2, "b2s", "neither SAME nor VALID"));
}

TEST(UnpackToSplit, StaticRnnTimeStepsBecomeSplit) {
  GraphBuilder b;
  b.placeholder("X", tf::DT_FLOAT, {2, 12});
  b.node("r", "Reshape", {"X", b.ints("r/shape", {2, 3, 4})});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tshape").set_type(tf::DT_INT32);
  auto* u = b.node("steps", "Unpack", {"r"});
  GraphBuilder::attr(u, "num").set_i(3);
  GraphBuilder::attr(u, "axis").set_i(1);
  b.node("s01", "AddV2", {"steps", "steps:1"});
  b.node("out", "Mul", {"s01", "steps:2"});
  // Unpack along axis 0 of a 3-D reshape: Split plus a Reshape per piece.
  b.node("r2", "Reshape", {"X", b.ints("r2/shape", {2, 3, 4})});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tshape").set_type(tf::DT_INT32);
  auto* u2 = b.node("rows", "Unpack", {"r2"});
  GraphBuilder::attr(u2, "num").set_i(2);
  b.node("out2", "Sub", {"rows", "rows:1"});
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("unpack_to_split", &after, {"out", "out2"});
  EXPECT_EQ(r.changed, 2);
  EXPECT_EQ(count_op(after, "Unpack"), 0);
  EXPECT_EQ(find_node(after, "steps/split")->input(1), "X");  // the 3-D reshape is skipped
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(b.graph(), after, {"out", "out2"}), 1e-6);
  // Unknown shape: left alone.
  GraphBuilder u3;
  u3.placeholder("X", tf::DT_FLOAT, {-1, 3});
  auto* n = u3.node("steps", "Unpack", {"X"});
  GraphBuilder::attr(n, "num").set_i(3);
  GraphBuilder::attr(n, "axis").set_i(1);
  tf::GraphDef g3 = u3.graph();
  PassReport r3 = run_pass("unpack_to_split", &g3, {"steps"});
  EXPECT_EQ(r3.changed, 0);
}

TEST(FoldConstants, ShapesOfStaticTensorsFold) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 6});
  b.node("m", "MatMul", {"x", b.random_constant("w", {6, 3})});
  auto* shape = b.node("shape", "Shape", {"m"});
  GraphBuilder::attr(shape, "out_type").set_type(tf::DT_INT32);
  b.node("r", "Reshape", {"m", "shape"});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tshape").set_type(tf::DT_INT32);
  b.placeholder("y", tf::DT_FLOAT, {-1, 6});  // unknown batch: its shape stays a Shape op
  auto* shape_y = b.node("shape_y", "Shape", {"y"});
  GraphBuilder::attr(shape_y, "out_type").set_type(tf::DT_INT32);
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("fold_constants", &after, {"r", "shape_y"});
  EXPECT_EQ(find_node(after, "shape")->op(), "Const");
  EXPECT_EQ(find_node(after, "shape_y")->op(), "Shape");
  EXPECT_EQ(max_difference(b.graph(), after, {"r"}), 0);
}

TEST(SmallPasses, RemoveDeviceStripAttrsAddDefaults) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 3, 3, 1});
  auto* c = b.node("c", "Conv2D", {"x", b.random_constant("w", {1, 1, 1, 1})});
  GraphBuilder::set_ints(c, "strides", {1, 1, 1, 1});
  GraphBuilder::attr(c, "padding").set_s("SAME");
  c->set_device("/device:GPU:0");
  GraphBuilder::attr(c, "_class").mutable_list()->add_s("loc:@w");
  GraphBuilder::attr(c, "_output_shapes").mutable_list()->add_shape();
  tf::GraphDef g = b.graph();
  EXPECT_EQ(run_pass("remove_device", &g, {"c"}).changed, 1);
  EXPECT_TRUE(find_node(g, "c")->device().empty());
  EXPECT_EQ(run_pass("strip_attrs", &g, {"c"}).changed, 2);
  EXPECT_FALSE(find_node(g, "c")->attr().count("_class"));
  EXPECT_GE(run_pass("add_default_attributes", &g, {"c"}).changed, 2);  // dilations, data_format, ...
  EXPECT_TRUE(find_node(g, "c")->attr().count("dilations"));
  EXPECT_EQ(run_pass("add_default_attributes", &g, {"c"}).changed, 0);
}

TEST(RoundWeights, RoundsLargeConstantsToFewLevels) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 64});
  b.node("y", "MatMul", {"x", b.random_constant("w", {64, 32})});
  tf::GraphDef g = b.graph();
  PassReport r = run_pass("round_weights", &g, {"y"}, {{"num_steps", "16"}});
  EXPECT_EQ(r.changed, 1);
  Tensor w = tensor_from_proto(find_node(g, "w")->attr().at("value").tensor(), "w");
  std::set<float> levels;
  for (std::int64_t i = 0; i < w.num_elements(); ++i) levels.insert(static_cast<float>(element_as_double(w, i)));
  EXPECT_LE(levels.size(), 16u);
  EXPECT_GT(max_difference(b.graph(), g, {"y"}), 1e-3);  // it does change the numbers
}

// The built-in proof: a pipeline that changes the answer is refused, nothing is written.
TEST(OptimizeCli, RefusesToWriteWhenTheNumbersChange) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 64});
  b.node("y", "MatMul", {"x", b.random_constant("w", {64, 32})});
  std::string dir = test::temp_dir();
  io::save_graph(b.graph(), dir + "/in.pb");
  auto r = test::run_cli({"optimize", dir + "/in.pb", "-o", dir + "/out.pb", "--transforms", "round_weights(num_steps=4)"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("computes different outputs"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.pb"));
  // Within a loose tolerance it is accepted.
  auto ok = test::run_cli({"optimize", dir + "/in.pb", "-o", dir + "/out.pb", "--transforms", "round_weights(num_steps=4096)", "--atol", "0.05"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_TRUE(std::filesystem::exists(dir + "/out.pb"));
  for (const char* bad : {"round_weights(num_steps=1)", "round_weights(num_steps=x)", "fold_constants(max_bytes=-1)"}) {
    auto u = test::run_cli({"optimize", dir + "/in.pb", "-o", dir + "/bad.pb", "--transforms", bad});
    EXPECT_EQ(u.exit_code, 2) << bad << ": " << u.err;
  }
}

TEST(CheckCli, ListsRejectedNodesWithTheirFix) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 4, 4, 3});
  b.node("read", "Identity", {b.random_constant("w", {1, 1, 3, 3})});
  b.conv("c", "Conv2D", "x", "read");
  b.batch_norm("bn/FusedBatchNorm", "FusedBatchNorm", "c", 3);
  b.node("m", "Mul", {b.random_constant("g", {3}), "bn/FusedBatchNorm"});
  b.node("mx", "Maximum", {"m", b.scalar("zero", 0.0f)});
  std::string dir = test::temp_dir();
  io::save_graph(b.graph(), dir + "/g.pb");
  auto r = test::run_cli({"check", dir + "/g.pb", "--target", "opencv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("m (Mul): constant operand first"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: canonicalize_operands"), std::string::npos);
  EXPECT_NE(r.out.find("mx (Maximum)"), std::string::npos);
  EXPECT_NE(r.out.find("canonicalize_activations"), std::string::npos);
  // optimize --target opencv then check: clean.
  ASSERT_EQ(test::run_cli({"optimize", dir + "/g.pb", "-o", dir + "/o.pb", "--target", "opencv", "--outputs", "mx"}).exit_code, 0);
  auto clean = test::run_cli({"check", dir + "/o.pb", "--target", "opencv"});
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_EQ(test::run_cli({"check", dir + "/o.pb", "--target", "coreml"}).exit_code, 2);
  EXPECT_EQ(test::run_cli({"check", dir + "/g.pb"}).exit_code, 0);  // generic accepts it
}


TEST(UnshareConstants, ConcatGetsItsOwnCopy) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 2});
  b.random_constant("h0", {1, 2});
  b.node("gate", "Mul", {"x", "h0"});
  auto* c = b.node("cat", "ConcatV2", {"x", "h0", b.ints("axis", {1}, true)});
  GraphBuilder::attr(c, "N").set_i(2);
  GraphBuilder::attr(c, "Tidx").set_type(tf::DT_INT32);
  auto* lonely = b.node("lonely", "ConcatV2", {"x", b.random_constant("own", {1, 2}), "axis"});
  GraphBuilder::attr(lonely, "N").set_i(2);
  GraphBuilder::attr(lonely, "Tidx").set_type(tf::DT_INT32);
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("unshare_constants", &after, {"gate", "cat", "lonely"});
  EXPECT_EQ(r.changed, 3);  // h0 and axis for cat, axis for lonely; "own" has one reader
  EXPECT_EQ(find_node(after, "cat")->input(1), "h0/for_cat");
  EXPECT_EQ(find_node(after, "gate")->input(1), "h0");
  EXPECT_EQ(find_node(after, "lonely")->input(1), "own");
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_EQ(max_difference(b.graph(), after, {"gate", "cat"}), 0);
}

TEST(MatMulBiasAsAdd, OnlyAfterMatMul) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 4, 4, 2});
  b.conv("c", "Conv2D", "x", b.random_constant("w", {1, 1, 2, 3}));
  b.node("cb", "BiasAdd", {"c", b.random_constant("cbias", {3})});
  b.node("flat", "Reshape", {"cb", b.ints("shape", {1, 48})});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "Tshape").set_type(tf::DT_INT32);
  b.node("fc", "MatMul", {"flat", b.random_constant("w2", {48, 5})});
  b.node("fcb", "BiasAdd", {"fc", b.random_constant("b2", {5})});
  tf::GraphDef after = b.graph();
  EXPECT_EQ(run_pass("matmul_bias_as_add", &after, {"fcb"}).changed, 1);
  EXPECT_EQ(find_node(after, "fcb")->op(), "AddV2");
  EXPECT_EQ(find_node(after, "cb")->op(), "BiasAdd");
  EXPECT_LT(max_difference(b.graph(), after, {"fcb"}), 1e-6);
}

TEST(FoldConstants, TimesZeroAndPlusZeroSimplifyForStaticShapes) {
  // The first step of a static RNN: gate * zero_state + candidate.
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 3});
  b.constant("h0", Tensor{tf::DT_FLOAT, {1, 3}, std::string(12, '\0'), {}});
  b.node("gate", "Sigmoid", {"x"});
  b.node("kept", "Mul", {"gate", "h0"});
  b.node("h1", "AddV2", {"kept", b.node("cand", "Tanh", {"x"})->name()});
  b.node("out", "Relu", {"h1"});
  b.placeholder("y", tf::DT_FLOAT, {-1, 3});  // unknown shape: nothing simplifies
  b.node("ky", "Mul", {"y", "h0"});
  tf::GraphDef after = b.graph();
  run_pass("fold_constants", &after, {"out", "ky"});
  EXPECT_EQ(find_node(after, "kept"), nullptr);  // folded to zeros, then h1 = cand
  EXPECT_EQ(find_node(after, "h1")->op(), "Identity");
  EXPECT_EQ(find_node(after, "h1")->input(0), "cand");
  EXPECT_EQ(find_node(after, "ky")->op(), "Mul");
  EXPECT_EQ(max_difference(b.graph(), after, {"out"}), 0);
}


TEST(StripUnusedNodes, SetsInputTypeAndShape) {
  auto p = parse_pipeline("strip_unused_nodes(type=float32, shape=\"1,4\") fold_constants");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].args.at("shape"), "1,4");
  GraphBuilder b;
  b.placeholder("x", tf::DT_HALF, {-1, -1});
  b.node("shape", "Shape", {"x"}, tf::DT_FLOAT);
  GraphBuilder::attr(b.graph().mutable_node(1), "out_type").set_type(tf::DT_INT32);
  b.node("unused", "Neg", {"x"});
  tf::GraphDef g = b.graph();
  PassContext ctx;
  ctx.outputs = {"shape"};
  run_pipeline(&g, {p[0]}, ctx);
  EXPECT_EQ(find_node(g, "unused"), nullptr);
  ASSERT_NE(find_node(g, "x"), nullptr);
  EXPECT_EQ(find_node(g, "x")->attr().at("dtype").type(), tf::DT_FLOAT);
  EXPECT_EQ(find_node(g, "x")->attr().at("shape").shape().dim(1).size(), 4);
  run_pipeline(&g, {p[1]}, ctx);
  EXPECT_EQ(find_node(g, "shape")->op(), "Const");  // the shape is static now
  for (const char* bad : {"strip_unused_nodes(shape=\"1,x\")", "strip_unused_nodes(type=quaternion)"}) {
    tf::GraphDef again = b.graph();
    try {
      run_pipeline(&again, parse_pipeline(bad), ctx);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage) << bad;
    }
  }
  EXPECT_THROW(parse_pipeline("strip_unused_nodes(shape=\"1,4)"), Error);
}

}  // namespace
}  // namespace tffreeze::passes
