// Graph transforms: each fires where it must, leaves alone (saying why) where it must not, and
// the numbers do not change.
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "common/error.h"
#include "graph/builder.h"
#include "graph/validate.h"
#include "io/model.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "runtime/verify.h"
#include "pass_support.h"
#include "support.h"

namespace tffreeze::passes {
namespace {

using Builder = graph::GraphBuilder;

using namespace test_support;

// Conv2D -> BiasAdd -> FusedBatchNormV3 -> Relu6 and DepthwiseConv2dNative -> BiasAdd ->
// FusedBatchNorm, weights behind "/read" identities: the MobileNet block users write.
tf::GraphDef mobilenet_block() {
  Builder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 6, 6, 3});
  b.node("w/read", "Identity", {b.random_constant("w", {3, 3, 3, 4})});
  b.conv("conv", "Conv2D", "x", "w/read");
  b.node("conv/bias", "BiasAdd", {"conv", b.random_constant("conv/b", {4})});
  b.batch_norm("bn1", "FusedBatchNormV3", "conv/bias", 4);
  b.node("relu6", "Relu6", {"bn1"});
  b.conv("dw", "DepthwiseConv2dNative", "relu6", b.random_constant("dw/w", {3, 3, 4, 2}));
  b.node("dw/bias", "BiasAdd", {"dw", b.random_constant("dw/b", {8})});
  b.batch_norm("bn2", "FusedBatchNorm", "dw/bias", 8);
  b.node("out", "Relu", {"bn2"});
  return b.graph();
}

TEST(FoldBatchNorms, FoldsAcrossBiasAddForConvAndDepthwise) {
  tf::GraphDef before = mobilenet_block();
  tf::GraphDef after = before;
  PassReport r = run_pass("fold_batch_norms", &after, {"out"});
  EXPECT_EQ(r.changed, 2);
  EXPECT_TRUE(r.refused.empty());
  EXPECT_EQ(count_op(after, "FusedBatchNorm") + count_op(after, "FusedBatchNormV3"), 0);
  EXPECT_EQ(count_op(after, "BiasAdd"), 2);  // each conv keeps one bias
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(before, after, {"out"}), 1e-5);
}

TEST(FoldBatchNorms, FoldsMatMulAndNchwConvWithoutBias) {
  Builder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 5});
  b.node("mm", "MatMul", {"x", b.random_constant("w", {5, 3})});
  b.batch_norm("bn", "FusedBatchNormV3", "mm", 3);
  b.placeholder("img", tf::DT_FLOAT, {1, 2, 5, 5});
  auto* c = b.conv("c", "Conv2D", "img", b.random_constant("cw", {3, 3, 2, 4}));
  (*c->mutable_attr())["data_format"].set_s("NCHW");
  auto* bn = b.batch_norm("cbn", "FusedBatchNorm", "c", 4);
  (*bn->mutable_attr())["data_format"].set_s("NCHW");
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("fold_batch_norms", &after, {"bn", "cbn"});
  EXPECT_EQ(r.changed, 2);
  EXPECT_LT(max_difference(b.graph(), after, {"bn", "cbn"}), 1e-5);
}

TEST(FoldBatchNorms, GlobalNormalizationAndTransposedConvolution) {
  Builder b;
  b.placeholder("x", tf::DT_FLOAT, {1, 4, 4, 2});
  b.conv("c", "Conv2D", "x", b.random_constant("w", {3, 3, 2, 3}));
  auto* g = b.node("gbn", "BatchNormWithGlobalNormalization",
                   {"c", b.random_constant("m", {3}), b.random_constant("v", {3}, 0.5f, 2), b.random_constant("beta", {3}),
                    b.random_constant("gamma", {3}, 0.5f, 1.5f)});
  Builder::attr(g, "variance_epsilon").set_f(0.001f);
  Builder::attr(g, "scale_after_normalization").set_b(true);
  // conv2d_transpose to 8x8x4 from 4x4x3: filter [3, 3, out=4, in=3]
  auto* d = b.node("deconv", "Conv2DBackpropInput", {b.ints("sizes", {1, 8, 8, 4}), b.random_constant("dw", {3, 3, 4, 3}), "gbn"});
  Builder::set_ints(d, "strides", {1, 2, 2, 1});
  Builder::attr(d, "padding").set_s("SAME");
  b.batch_norm("dbn", "FusedBatchNormV3", "deconv", 4);
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("fold_batch_norms", &after, {"dbn"});
  EXPECT_EQ(r.changed, 2) << (r.refused.empty() ? "" : r.refused[0]);
  EXPECT_EQ(count_op(after, "BatchNormWithGlobalNormalization") + count_op(after, "FusedBatchNormV3"), 0);
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_LT(max_difference(b.graph(), after, {"dbn"}), 1e-4);
}

TEST(FoldBatchNorms, LeavesAloneAndSaysWhy) {
  struct Case {
    std::string why;
    std::function<void(tf::GraphDef*)> spoil;
    std::vector<std::string> outputs = {"out"};
  };
  std::vector<Case> cases = {
      {"has other consumers", [](tf::GraphDef* g) {
         auto* n = g->add_node();  // a second reader of the conv output
         n->set_name("peek");
         n->set_op("Relu");
         n->add_input("conv");
         (*n->mutable_attr())["T"].set_type(tf::DT_FLOAT);
       }, {"out", "peek"}},
      {"shared with other nodes", [](tf::GraphDef* g) {
         auto* n = g->add_node();
         n->set_name("also_w");
         n->set_op("Identity");
         n->add_input("w");
         (*n->mutable_attr())["T"].set_type(tf::DT_FLOAT);
       }, {"out", "also_w"}},
      {"training mode", [](tf::GraphDef* g) {
         for (auto& n : *g->mutable_node())
           if (n.name() == "bn1") (*n.mutable_attr())["is_training"].set_b(true);
       }},
      {"batch mean/variance outputs are used", [](tf::GraphDef* g) {
         auto* n = g->add_node();
         n->set_name("stat");
         n->set_op("Identity");
         n->add_input("bn1:1");
         (*n->mutable_attr())["T"].set_type(tf::DT_FLOAT);
       }, {"out", "stat"}},
      {"is an output of the graph", [](tf::GraphDef*) {}, {"out", "conv/bias"}},
  };
  for (const auto& c : cases) {
    tf::GraphDef g = mobilenet_block();
    c.spoil(&g);
    tf::GraphDef after = g;
    PassReport r = run_pass("fold_batch_norms", &after, c.outputs);
    EXPECT_EQ(r.changed, 1) << c.why;  // bn2 still folds; bn1 does not
    bool said = false;
    for (const auto& s : r.refused) said |= s.find("node 'bn1'") != std::string::npos && s.find(c.why) != std::string::npos;
    EXPECT_TRUE(said) << c.why << ": " << (r.refused.empty() ? "(nothing refused)" : r.refused[0]);
    EXPECT_LT(max_difference(g, after, c.outputs), 1e-5) << c.why;
  }
}

TEST(RemoveNodes, BypassesIdentitiesButKeepsOutputsAndControls) {
  Builder b;
  b.placeholder("x", tf::DT_FLOAT, {2});
  b.node("init", "NoOp", {});
  b.node("id1", "Identity", {"x", "^init"});
  b.node("id2", "Identity", {"id1"});
  b.node("neg", "Neg", {"id2"});
  b.node("out", "Identity", {"neg"});
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("remove_nodes", &after, {"out"});
  EXPECT_EQ(r.changed, 2);
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_NE(r.refused[0].find("node 'out'"), std::string::npos);
  const tf::NodeDef* neg = nullptr;
  for (const auto& n : after.node())
    if (n.name() == "neg") neg = &n;
  ASSERT_NE(neg, nullptr);
  EXPECT_EQ(neg->input(0), "x");
  ASSERT_EQ(neg->input_size(), 2);
  EXPECT_EQ(neg->input(1), "^init");  // the bypassed node's control dependency carries over
  EXPECT_TRUE(graph::validate_graph(after).empty());
  EXPECT_EQ(max_difference(b.graph(), after, {"out"}), 0);
}

TEST(FoldConstants, FoldsPureSubgraphsOnly) {
  Builder b;
  b.placeholder("x", tf::DT_FLOAT, {3});
  b.node("sum", "AddV2", {b.random_constant("a", {3}), b.random_constant("c", {3})});
  b.node("scaled", "Mul", {"sum", b.random_constant("k", {})});
  b.node("out", "AddV2", {"x", "scaled"});
  auto* shape = b.graph().add_node();
  shape->set_name("shape");
  shape->set_op("Const");
  (*shape->mutable_attr())["dtype"].set_type(tf::DT_INT32);
  auto* st = (*shape->mutable_attr())["value"].mutable_tensor();
  st->set_dtype(tf::DT_INT32);
  st->mutable_tensor_shape()->add_dim()->set_size(1);
  st->add_int_val(3);
  auto* rnd = b.node("noise", "RandomUniform", {"shape"});
  (*rnd->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  (*rnd->mutable_attr())["T"].set_type(tf::DT_INT32);
  b.node("noisy", "AddV2", {"out", "noise"});
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("fold_constants", &after, {"noisy"});
  EXPECT_EQ(r.changed, 2);  // sum, scaled; never the random op
  EXPECT_EQ(count_op(after, "RandomUniform"), 1);
  EXPECT_EQ(count_op(after, "Mul"), 0);
  EXPECT_EQ(max_difference(b.graph(), after, {"noisy"}), 0);
  // A fold that would blow up the file is refused.
  Builder big;
  auto* dims = big.graph().add_node();
  *dims = *shape;
  dims->set_name("dims");
  (*dims->mutable_attr())["value"].mutable_tensor()->set_int_val(0, 1000000);
  big.node("fill", "Fill", {"dims", big.random_constant("v", {})});
  tf::GraphDef g2 = big.graph();
  PassReport r2 = run_pass("fold_constants", &g2, {"fill"}, {{"max_bytes", "1000"}});
  EXPECT_EQ(r2.changed, 0);
  ASSERT_EQ(r2.refused.size(), 1u);
  EXPECT_NE(r2.refused[0].find("would exceed max_bytes=1000"), std::string::npos);
}

TEST(Pipeline, ParsesAndRejectsWithUsageErrors) {
  auto p = parse_pipeline("  strip_unused_nodes fold_constants(max_bytes=100)  remove_nodes(op=Identity|CheckNumerics, x=1) ");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[1].args.at("max_bytes"), "100");
  EXPECT_EQ(p[2].args.at("op"), "Identity|CheckNumerics");
  for (const char* bad : {"", "fold_constants(", "fold_constants(x)", "nonsense_pass", "fold_constants(=1)", "(x=1)"}) {
    try {
      parse_pipeline(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage) << bad;
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
  auto r = test::run_cli({"optimize", "x.pb", "-o", "y.pb", "--transforms", "fold_everything"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown pass 'fold_everything'"), std::string::npos) << r.err;
}

TEST(OptimizeCli, KeywordSpottersLoseEveryBatchNormAndIdentity) {
  for (const char* model : {"DS_CNN/DS_CNN_S.pb", "CNN/CNN_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + model);
    std::string dir = test::temp_dir();
    ASSERT_EQ(test::run_cli({"freeze", path, "--outputs", "labels_softmax", "--replace-input", "Reshape_1=float32[1,49,10,1]", "-o",
                             dir + "/cut.pb"}).exit_code, 0);
    auto r = test::run_cli({"optimize", dir + "/cut.pb", "-o", dir + "/opt.pb", "--report", dir + "/report.json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("verified labels_softmax"), std::string::npos);
    io::Model opt = io::load_model(dir + "/opt.pb");
    EXPECT_EQ(count_op(opt.graph(), "FusedBatchNorm"), 0) << model;
    EXPECT_EQ(count_op(opt.graph(), "Identity"), 0) << model;
    EXPECT_LT(opt.graph().node_size(), io::load_model(dir + "/cut.pb").graph().node_size());
    // The report: per pass, what changed and the graph's nodes and bytes before and after.
    auto report = nlohmann::json::parse(test::read_bytes(dir + "/report.json"));
    ASSERT_FALSE(report["passes"].empty());
    EXPECT_EQ(report["passes"][0]["bytes_before"], report["bytes_before"]);
    EXPECT_EQ(report["passes"].back()["bytes_after"], report["bytes_after"]);
    EXPECT_EQ(report["passes"].back()["nodes_after"], report["nodes_after"]);
    EXPECT_LT(report["bytes_after"].get<std::size_t>(), report["bytes_before"].get<std::size_t>());
  }
}

}  // namespace
}  // namespace tffreeze::passes

namespace tffreeze::passes {
namespace {

// A batch norm written out as tf.nn.batch_normalization does after a dense layer:
// (x @ W + b) * (gamma * rsqrt(var + eps)) + (beta - mean * gamma * rsqrt(var + eps)).
tf::GraphDef decomposed_bn(bool const_first) {
  Builder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 5});
  b.node("mm", "MatMul", {"x", b.random_constant("w", {5, 3})});
  b.node("biased", "Add", {"mm", b.random_constant("b", {3})});
  b.node("bn/add", "AddV2", {b.random_constant("var", {3}, 0.5f, 2), b.random_constant("eps", {})});
  b.node("bn/Rsqrt", "Rsqrt", {"bn/add"});
  b.node("bn/mul", "Mul", {"bn/Rsqrt", b.random_constant("gamma", {3})});
  if (const_first) b.node("bn/mul_1", "Mul", {"bn/mul", "biased"});  // Mul(Const, x)
  else b.node("bn/mul_1", "Mul", {"biased", "bn/mul"});
  b.node("bn/mul_2", "Mul", {b.random_constant("mean", {3}), "bn/mul"});
  b.node("bn/sub", "Sub", {b.random_constant("beta", {3}), "bn/mul_2"});
  b.node("bn/add_1", "AddV2", {"bn/mul_1", "bn/sub"});
  b.node("out", "Relu", {"bn/add_1"});
  return b.graph();
}

TEST(FoldBatchNorms, DecomposedFormFoldsAfterConstantFolding) {
  for (bool const_first : {false, true}) {
    tf::GraphDef before = decomposed_bn(const_first), after = before;
    PassContext ctx;
    ctx.outputs = {"out"};
    run_pipeline(&after, parse_pipeline("fold_constants fold_batch_norms"), ctx);
    EXPECT_EQ(count_op(after, "Mul"), 0) << const_first;
    EXPECT_EQ(count_op(after, "Rsqrt"), 0);
    EXPECT_EQ(count_op(after, "AddV2") + count_op(after, "Add"), 0);
    EXPECT_EQ(count_op(after, "BiasAdd"), 1);
    EXPECT_TRUE(graph::validate_graph(after).empty());
    EXPECT_LT(max_difference(before, after, {"out"}), 1e-5);
  }
}

TEST(FoldBatchNorms, DecomposedFormLeftAloneWhenNotPerChannel) {
  // A full-shape multiplier is not a per-channel scale; a second reader of the MatMul blocks it.
  Builder b;
  b.placeholder("x", tf::DT_FLOAT, {2, 5});
  b.node("mm", "MatMul", {"x", b.random_constant("w", {5, 3})});
  b.node("scaled", "Mul", {"mm", b.random_constant("s", {2, 3})});
  b.node("mm2", "MatMul", {"x", b.random_constant("w2", {5, 3})});
  b.node("scaled2", "Mul", {"mm2", b.random_constant("s2", {3})});
  b.node("peek", "Relu", {"mm2"});
  tf::GraphDef after = b.graph();
  PassReport r = run_pass("fold_batch_norms", &after, {"scaled", "scaled2", "peek"});
  EXPECT_EQ(r.changed, 0);
  EXPECT_EQ(count_op(after, "Mul"), 2);
}

}  // namespace
}  // namespace tffreeze::passes
