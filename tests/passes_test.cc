// Graph transforms: each fires where it must, leaves alone (saying why) where it must not, and
// the numbers do not change.
#include <cstring>
#include <functional>
#include <random>

#include "common/error.h"
#include "graph/validate.h"
#include "io/model.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "runtime/verify.h"
#include "support.h"

namespace tffreeze::passes {
namespace {

struct Builder {
  tf::GraphDef g;
  std::mt19937 rng{17};
  tf::NodeDef* op(const std::string& name, const std::string& op, std::vector<std::string> inputs) {
    auto* n = g.add_node();
    n->set_name(name);
    n->set_op(op);
    for (auto& i : inputs) n->add_input(i);
    (*n->mutable_attr())["T"].set_type(tf::DT_FLOAT);
    return n;
  }
  std::string constant(const std::string& name, std::vector<std::int64_t> shape, float lo = -1, float hi = 1) {
    std::uniform_real_distribution<float> u(lo, hi);
    Tensor t{tf::DT_FLOAT, shape, {}, {}};
    t.bytes.resize(static_cast<std::size_t>(t.num_elements()) * 4);
    for (std::int64_t i = 0; i < t.num_elements(); ++i) {
      float v = u(rng);
      std::memcpy(t.bytes.data() + 4 * i, &v, 4);
    }
    auto* n = g.add_node();
    n->set_name(name);
    n->set_op("Const");
    (*n->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
    tensor_to_proto(t, (*n->mutable_attr())["value"].mutable_tensor());
    return name;
  }
  void placeholder(const std::string& name, std::vector<std::int64_t> shape) {
    auto* n = g.add_node();
    n->set_name(name);
    n->set_op("Placeholder");
    (*n->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
    for (auto d : shape) (*n->mutable_attr())["shape"].mutable_shape()->add_dim()->set_size(d);
  }
  tf::NodeDef* conv(const std::string& name, const std::string& op, const std::string& x, const std::string& w) {
    auto* c = this->op(name, op, {x, w});
    for (int s : {1, 1, 1, 1}) (*c->mutable_attr())["strides"].mutable_list()->add_i(s);
    (*c->mutable_attr())["padding"].set_s("SAME");
    return c;
  }
  tf::NodeDef* batch_norm(const std::string& name, const std::string& op, const std::string& x, int channels) {
    auto* bn = this->op(name, op, {x, constant(name + "/gamma", {channels}, 0.5f, 1.5f), constant(name + "/beta", {channels}),
                                   constant(name + "/mean", {channels}), constant(name + "/var", {channels}, 0.5f, 2)});
    (*bn->mutable_attr())["epsilon"].set_f(0.001f);
    (*bn->mutable_attr())["is_training"].set_b(false);
    if (op != "FusedBatchNorm") (*bn->mutable_attr())["U"].set_type(tf::DT_FLOAT);
    return bn;
  }
};

PassReport run_pass(const std::string& name, tf::GraphDef* g, std::vector<std::string> outputs, std::map<std::string, std::string> args = {}) {
  PassContext ctx;
  ctx.outputs = std::move(outputs);
  ctx.args = std::move(args);
  return PassRegistry::global().find(name)->run(g, ctx);
}

// Runs both graphs on the same random inputs; the largest difference over the outputs.
double max_difference(const tf::GraphDef& a, const tf::GraphDef& b, const std::vector<std::string>& outputs) {
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(a, outputs), {}, 3);
  auto ra = runtime::Executor(a).run(feeds, outputs), rb = runtime::Executor(b).run(feeds, outputs);
  double worst = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) worst = std::max(worst, runtime::compare_tensors(ra[i], rb[i], 0, 0).max_abs);
  return worst;
}

int count_op(const tf::GraphDef& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.node()) n += node.op() == op;
  return n;
}

// Conv2D -> BiasAdd -> FusedBatchNormV3 -> Relu6 and DepthwiseConv2dNative -> BiasAdd ->
// FusedBatchNorm, weights behind "/read" identities: the MobileNet block users write.
tf::GraphDef mobilenet_block() {
  Builder b;
  b.placeholder("x", {1, 6, 6, 3});
  b.op("w/read", "Identity", {b.constant("w", {3, 3, 3, 4})});
  b.conv("conv", "Conv2D", "x", "w/read");
  b.op("conv/bias", "BiasAdd", {"conv", b.constant("conv/b", {4})});
  b.batch_norm("bn1", "FusedBatchNormV3", "conv/bias", 4);
  b.op("relu6", "Relu6", {"bn1"});
  b.conv("dw", "DepthwiseConv2dNative", "relu6", b.constant("dw/w", {3, 3, 4, 2}));
  b.op("dw/bias", "BiasAdd", {"dw", b.constant("dw/b", {8})});
  b.batch_norm("bn2", "FusedBatchNorm", "dw/bias", 8);
  b.op("out", "Relu", {"bn2"});
  return b.g;
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
  b.placeholder("x", {2, 5});
  b.op("mm", "MatMul", {"x", b.constant("w", {5, 3})});
  b.batch_norm("bn", "FusedBatchNormV3", "mm", 3);
  b.placeholder("img", {1, 2, 5, 5});
  auto* c = b.conv("c", "Conv2D", "img", b.constant("cw", {3, 3, 2, 4}));
  (*c->mutable_attr())["data_format"].set_s("NCHW");
  auto* bn = b.batch_norm("cbn", "FusedBatchNorm", "c", 4);
  (*bn->mutable_attr())["data_format"].set_s("NCHW");
  tf::GraphDef after = b.g;
  PassReport r = run_pass("fold_batch_norms", &after, {"bn", "cbn"});
  EXPECT_EQ(r.changed, 2);
  EXPECT_LT(max_difference(b.g, after, {"bn", "cbn"}), 1e-5);
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
  b.placeholder("x", {2});
  b.op("init", "NoOp", {});
  b.op("id1", "Identity", {"x", "^init"});
  b.op("id2", "Identity", {"id1"});
  b.op("neg", "Neg", {"id2"});
  b.op("out", "Identity", {"neg"});
  tf::GraphDef after = b.g;
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
  EXPECT_EQ(max_difference(b.g, after, {"out"}), 0);
}

TEST(FoldConstants, FoldsPureSubgraphsOnly) {
  Builder b;
  b.placeholder("x", {3});
  b.op("sum", "AddV2", {b.constant("a", {3}), b.constant("c", {3})});
  b.op("scaled", "Mul", {"sum", b.constant("k", {})});
  b.op("out", "AddV2", {"x", "scaled"});
  auto* shape = b.g.add_node();
  shape->set_name("shape");
  shape->set_op("Const");
  (*shape->mutable_attr())["dtype"].set_type(tf::DT_INT32);
  auto* st = (*shape->mutable_attr())["value"].mutable_tensor();
  st->set_dtype(tf::DT_INT32);
  st->mutable_tensor_shape()->add_dim()->set_size(1);
  st->add_int_val(3);
  auto* rnd = b.op("noise", "RandomUniform", {"shape"});
  (*rnd->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  (*rnd->mutable_attr())["T"].set_type(tf::DT_INT32);
  b.op("noisy", "AddV2", {"out", "noise"});
  tf::GraphDef after = b.g;
  PassReport r = run_pass("fold_constants", &after, {"noisy"});
  EXPECT_EQ(r.changed, 2);  // sum, scaled; never the random op
  EXPECT_EQ(count_op(after, "RandomUniform"), 1);
  EXPECT_EQ(count_op(after, "Mul"), 0);
  EXPECT_EQ(max_difference(b.g, after, {"noisy"}), 0);
  // A fold that would blow up the file is refused.
  Builder big;
  auto* dims = big.g.add_node();
  *dims = *shape;
  dims->set_name("dims");
  (*dims->mutable_attr())["value"].mutable_tensor()->set_int_val(0, 1000000);
  big.op("fill", "Fill", {"dims", big.constant("v", {})});
  tf::GraphDef g2 = big.g;
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
  b.placeholder("x", {2, 5});
  b.op("mm", "MatMul", {"x", b.constant("w", {5, 3})});
  b.op("biased", "Add", {"mm", b.constant("b", {3})});
  b.op("bn/add", "AddV2", {b.constant("var", {3}, 0.5f, 2), b.constant("eps", {})});
  b.op("bn/Rsqrt", "Rsqrt", {"bn/add"});
  b.op("bn/mul", "Mul", {"bn/Rsqrt", b.constant("gamma", {3})});
  if (const_first) b.op("bn/mul_1", "Mul", {"bn/mul", "biased"});  // Mul(Const, x)
  else b.op("bn/mul_1", "Mul", {"biased", "bn/mul"});
  b.op("bn/mul_2", "Mul", {b.constant("mean", {3}), "bn/mul"});
  b.op("bn/sub", "Sub", {b.constant("beta", {3}), "bn/mul_2"});
  b.op("bn/add_1", "AddV2", {"bn/mul_1", "bn/sub"});
  b.op("out", "Relu", {"bn/add_1"});
  return b.g;
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
  b.placeholder("x", {2, 5});
  b.op("mm", "MatMul", {"x", b.constant("w", {5, 3})});
  b.op("scaled", "Mul", {"mm", b.constant("s", {2, 3})});
  b.op("mm2", "MatMul", {"x", b.constant("w2", {5, 3})});
  b.op("scaled2", "Mul", {"mm2", b.constant("s2", {3})});
  b.op("peek", "Relu", {"mm2"});
  tf::GraphDef after = b.g;
  PassReport r = run_pass("fold_batch_norms", &after, {"scaled", "scaled2", "peek"});
  EXPECT_EQ(r.changed, 0);
  EXPECT_EQ(count_op(after, "Mul"), 2);
}

}  // namespace
}  // namespace tffreeze::passes
