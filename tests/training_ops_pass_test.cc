// strip_training_ops: each dropout form, constant-predicate conds, PlaceholderWithDefault and
// bookkeeping ops go; look-alikes, non-constant predicates and graph outputs stay.
#include "common/error.h"
#include "graph/validate.h"
#include "io/model.h"
#include "pass_support.h"
#include "support.h"

namespace tffreeze::passes {
namespace {

using namespace test_support;
using graph::GraphBuilder;

// A random [N, 4] tensor like x, built the way tf.random_uniform(tf.shape(x)) is.
std::string random_like(GraphBuilder& b, const std::string& scope, const std::string& x) {
  auto* shape = b.node(scope + "/Shape", "Shape", {x});
  GraphBuilder::attr(shape, "out_type").set_type(tf::DT_INT32);
  auto* r = b.node(scope + "/random_uniform/RandomUniform", "RandomUniform", {scope + "/Shape"}, tf::DT_INT32);
  GraphBuilder::attr(r, "dtype").set_type(tf::DT_FLOAT);
  b.node(scope + "/random_uniform/mul", "Mul", {r->name(), b.scalar(scope + "/random_uniform/range", 1.0f)});
  b.node(scope + "/random_uniform", "Add", {scope + "/random_uniform/mul", b.scalar(scope + "/random_uniform/min", 0.0f)});
  return scope + "/random_uniform";
}

// Three dropouts in a row, one per form TensorFlow wrote, with keep_prob 1 / rate 0 so the
// original is deterministic and comparable.
tf::GraphDef dropout_graph() {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 4});
  // tf.nn.dropout(keep_prob) in TF 1: x / keep_prob * floor(keep_prob + U)
  b.scalar("keep_prob", 1.0f);
  b.node("d1/add", "Add", {"keep_prob", random_like(b, "d1", "x")});
  b.node("d1/Floor", "Floor", {"d1/add"});
  b.node("d1/div", "RealDiv", {"x", "keep_prob"});
  b.node("d1/mul", "Mul", {"d1/div", "d1/Floor"});
  b.node("h1", "Relu", {"d1/mul"});
  // tf.nn.dropout(rate=) in TF 1.13+/Keras: x * (1 / (1 - rate)) * cast(U >= rate)
  b.node("d2/GreaterEqual", "GreaterEqual", {random_like(b, "d2", "h1"), b.scalar("d2/rate", 0.0f)});
  auto* cast = b.node("d2/Cast", "Cast", {"d2/GreaterEqual"}, tf::DT_INVALID);
  GraphBuilder::attr(cast, "SrcT").set_type(tf::DT_BOOL);
  GraphBuilder::attr(cast, "DstT").set_type(tf::DT_FLOAT);
  b.node("d2/mul", "Mul", {"h1", b.scalar("d2/scale", 1.0f)});
  b.node("d2/mul_1", "Mul", {"d2/Cast", "d2/mul"});  // mask first
  b.node("h2", "Tanh", {"d2/mul_1"});
  // TF 2.x: select(U >= rate, x * scale, zeros)
  b.node("d3/GreaterEqual", "GreaterEqual", {random_like(b, "d3", "h2"), b.scalar("d3/rate", 0.0f)});
  b.node("d3/mul", "Mul", {"h2", b.scalar("d3/scale", 1.0f)});
  b.node("d3/SelectV2", "SelectV2", {"d3/GreaterEqual", "d3/mul", b.scalar("d3/zeros", 0.0f)});
  b.node("out", "Neg", {"d3/SelectV2"});
  // Look-alike: a Floor that is no random mask must stay.
  b.node("keep/Floor", "Floor", {"x"});
  b.node("keep/mul", "Mul", {"x", "keep/Floor"});
  return b.graph();
}

TEST(StripTrainingOps, EveryDropoutFormBecomesIdentity) {
  tf::GraphDef before = dropout_graph(), after = before;
  PassReport r = run_pass("strip_training_ops", &after, {"out", "keep/mul"});
  EXPECT_EQ(count_op(after, "RandomUniform"), 0);
  EXPECT_EQ(count_op(after, "SelectV2"), 0);
  EXPECT_EQ(count_op(after, "GreaterEqual"), 0);
  EXPECT_EQ(count_op(after, "Floor"), 1);  // the look-alike
  EXPECT_NE(find_node(after, "keep/mul"), nullptr);
  EXPECT_EQ(find_node(after, "h1")->input(0), "x");
  EXPECT_GE(r.changed, 3);
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(before, after, {"out", "keep/mul"}), 1e-6);
}

TEST(StripTrainingOps, DropoutThatIsAnOutputKeepsItsName) {
  tf::GraphDef g = dropout_graph();
  PassReport r = run_pass("strip_training_ops", &g, {"d1/mul"});
  const tf::NodeDef* out = find_node(g, "d1/mul");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->op(), "Identity");
  EXPECT_EQ(out->input(0), "x");
  EXPECT_EQ(count_op(g, "RandomUniform"), 0);
}

// A v1 cond as tf.cond writes it: Switch on the predicate, a pivot Identity per branch whose
// constants hang on it by control edges, and a Merge.
tf::GraphDef cond_graph(bool constant_predicate) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {3});
  if (constant_predicate) {
    Tensor f{tf::DT_BOOL, {}, std::string(1, '\0'), {}};
    b.constant("is_training", f);
  } else {
    b.placeholder("is_training", tf::DT_BOOL, {});
  }
  b.node("cond/Switch", "Switch", {"is_training", "is_training"}, tf::DT_BOOL);
  b.node("cond/switch_t", "Identity", {"cond/Switch:1"}, tf::DT_BOOL);
  b.node("cond/switch_f", "Identity", {"cond/Switch"}, tf::DT_BOOL);
  b.node("cond/x", "Switch", {"x", "is_training"});
  b.scalar("cond/two", 2.0f);
  b.graph().mutable_node(b.graph().node_size() - 1)->add_input("^cond/switch_t");
  b.node("cond/train", "Mul", {"cond/x:1", "cond/two"});
  b.node("cond/infer", "Neg", {"cond/x"});
  b.node("cond/Merge", "Merge", {"cond/train", "cond/infer"});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "N").set_i(2);
  b.node("out", "Relu", {"cond/Merge"});
  return b.graph();
}

TEST(StripTrainingOps, ConstantPredicateCondKeepsTheLiveBranch) {
  tf::GraphDef before = cond_graph(true), after = before;
  PassReport r = run_pass("strip_training_ops", &after, {"out"});
  EXPECT_EQ(count_op(after, "Switch"), 0);
  EXPECT_EQ(count_op(after, "Merge"), 0);
  EXPECT_EQ(find_node(after, "cond/train"), nullptr);  // the dead branch is gone
  EXPECT_EQ(find_node(after, "out")->input(0), "cond/infer");
  EXPECT_EQ(find_node(after, "cond/infer")->input(0), "x");
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_EQ(max_difference(before, after, {"out"}), 0);
}

TEST(StripTrainingOps, NonConstantPredicateIsLeftAloneWithTheReason) {
  tf::GraphDef before = cond_graph(false), g = before;
  PassReport r = run_pass("strip_training_ops", &g, {"out"});
  EXPECT_EQ(r.changed, 0);
  EXPECT_EQ(count_op(g, "Switch"), 2);
  EXPECT_EQ(count_op(g, "Merge"), 1);
  EXPECT_NE(find_node(g, "cond/train"), nullptr);
  EXPECT_TRUE(said(r, "cond/Switch", "is not a constant")) << (r.refused.empty() ? "" : r.refused[0]);
}

TEST(StripTrainingOps, PlaceholderWithDefault) {
  auto build = [] {
    GraphBuilder b;
    b.node("rate", "PlaceholderWithDefault", {b.scalar("rate/default", 0.5f)}, tf::DT_INVALID);
    GraphBuilder::attr(b.graph().mutable_node(1), "dtype").set_type(tf::DT_FLOAT);
    b.node("image", "PlaceholderWithDefault", {b.random_constant("image/default", {2, 2})}, tf::DT_INVALID);
    GraphBuilder::attr(b.graph().mutable_node(3), "dtype").set_type(tf::DT_FLOAT);
    GraphBuilder::set_shape(b.graph().mutable_node(3), "shape", {-1, 2});
    b.node("out", "Mul", {"image", "rate"});
    return b.graph();
  };
  tf::GraphDef g = build();
  run_pass("strip_training_ops", &g, {"out"});
  EXPECT_EQ(find_node(g, "rate"), nullptr);  // a scalar flag: its default is used
  EXPECT_EQ(find_node(g, "out")->input(1), "rate/default");
  ASSERT_NE(find_node(g, "image"), nullptr);  // a data input becomes a Placeholder
  EXPECT_EQ(find_node(g, "image")->op(), "Placeholder");
  EXPECT_EQ(find_node(g, "image")->attr().at("shape").shape().dim(0).size(), -1);
  tf::GraphDef all = build();
  run_pass("strip_training_ops", &all, {"out"}, {{"with_default", "placeholder"}});
  EXPECT_EQ(count_op(all, "Placeholder"), 2);
  tf::GraphDef defaults = build();
  run_pass("strip_training_ops", &defaults, {"out"}, {{"with_default", "default"}});
  EXPECT_EQ(count_op(defaults, "Placeholder") + count_op(defaults, "PlaceholderWithDefault"), 0);
  tf::GraphDef bad = build();
  try {
    run_pass("strip_training_ops", &bad, {"out"}, {{"with_default", "maybe"}});
    ADD_FAILURE() << "accepted with_default=maybe";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
  }
}

TEST(StripTrainingOps, BookkeepingGoesAndControlEdgesThatOnlyOrderedItDrop) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {2});
  auto* all_finite = b.node("check/IsFinite", "IsFinite", {"x"});
  (void)all_finite;
  b.node("check/All", "All", {"check/IsFinite", b.ints("check/axes", {0})}, tf::DT_INVALID);
  auto* assert_op = b.node("check/Assert", "Assert", {"check/All", "x"}, tf::DT_INVALID);
  GraphBuilder::attr(assert_op, "T").mutable_list()->add_type(tf::DT_FLOAT);
  b.node("numerics", "CheckNumerics", {"x", "^check/Assert"});
  GraphBuilder::attr(b.graph().mutable_node(b.graph().node_size() - 1), "message").set_s("x");
  b.node("stop", "StopGradient", {"numerics"});
  b.node("summary", "ScalarSummary", {b.ints("tag", {0}), "x"});
  b.node("deps", "NoOp", {"^summary"}, tf::DT_INVALID);
  b.node("out", "Square", {"stop", "^deps"});
  tf::GraphDef g = b.graph();
  run_pass("strip_training_ops", &g, {"out"});
  for (const char* gone : {"check/Assert", "numerics", "stop", "summary", "deps"}) EXPECT_EQ(find_node(g, gone), nullptr) << gone;
  const tf::NodeDef* out = find_node(g, "out");
  ASSERT_EQ(out->input_size(), 1);
  EXPECT_EQ(out->input(0), "x");
  EXPECT_TRUE(graph::validate_graph(g).empty());
}

// The real thing: tf2onnx's GRU and LSTM with keep_prob dropout. After strip_training_ops no
// RandomUniform/Floor remains, and the result equals the original run with keep_prob = 1.
TEST(StripTrainingOps, Tf2OnnxGruAndLstmLoseTheirDropout) {
  for (const char* name : {"gru", "lstm"}) {
    REQUIRE_FIXTURE(path, std::string("tensorflow-onnx/tests/models/") + name + "/frozen.pb");
    std::string dir = test::temp_dir();
    auto r = test::run_cli({"optimize", path, "-o", dir + "/opt.pb", "--outputs", "output", "--shape", "X=[2,784]", "--transforms",
                            "strip_training_ops fold_constants"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("verified output"), std::string::npos);
    tf::GraphDef g = io::load_model(dir + "/opt.pb").graph();
    EXPECT_EQ(count_op(g, "RandomUniform"), 0) << name;
    EXPECT_EQ(count_op(g, "Floor"), 0) << name;
    EXPECT_EQ(find_node(g, "keep_prob"), nullptr) << name;
  }
}

}  // namespace
}  // namespace tffreeze::passes
