// The model generator: first proven against graphs real TensorFlow wrote (the batch-norm cond
// of tf.layers, the Saver), then its three models end to end through freeze --optimize.
#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "io/checkpoint/checkpoint.h"
#include "io/model.h"
#include "modelgen/models.h"
#include "pass_support.h"
#include "support.h"

namespace tffreeze::modelgen {
namespace {

using passes::test_support::count_op;

// Node name, op and inputs under `scope`, with the tensors that come from outside named by
// their role (the BN parameters, the predicate, the data).
std::set<std::string> scope_structure(const tf::GraphDef& g, const std::string& scope) {
  auto role = [&](const std::string& in) -> std::string {
    const std::string ctrl = in.rfind('^', 0) == 0 ? "^" : "";
    const std::string name = ctrl.empty() ? in : in.substr(1);
    for (const char* suffix : {"gamma/read", "beta/read", "moving_mean/read", "moving_variance/read", "moving_mean", "moving_variance"})
      if (name.size() >= std::strlen(suffix) && name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
        return ctrl + "<" + suffix + ">";
    if (name == "is_training") return ctrl + "<predicate>";
    if (name.rfind(scope, 0) == 0) return ctrl + name.substr(scope.size());
    return ctrl + "<x>";
  };
  std::set<std::string> out;
  for (const auto& n : g.node()) {
    if (n.name().rfind(scope, 0) != 0) continue;
    std::string line = n.name().substr(scope.size()) + " = " + n.op() + "(";
    for (const auto& in : n.input()) line += role(in) + ",";
    if (n.attr().count("is_training")) line += n.attr().at("is_training").b() ? " training" : " inference";
    out.insert(line + ")");
  }
  return out;
}

TEST(ModelGen, BatchNormCondIsTheOneTfLayersWrites) {
  REQUIRE_FIXTURE(meta, "scisharp-tensorflow-net/graph/vd_cnn.meta");
  auto real = scope_structure(io::load_model(meta).graph(), "conv-block-1/conv-block-1/conv-0/batch_normalization/");
  ModelOptions o;
  o.width = 0.25;
  o.image_size = 64;
  GeneratedModel m = build_model("mobilenet_v1", o);
  auto ours = scope_structure(m.graph.graph(), "MobilenetV1/Conv2d_0/BatchNorm/");
  // Our scope also holds the BN's own variables; TF's puts them elsewhere. Compare the rest.
  std::set<std::string> ours_ops;
  for (const auto& line : ours)
    if (!std::regex_search(line, std::regex("^(gamma|beta|moving_mean|moving_variance)(/| =)"))) ours_ops.insert(line);
  EXPECT_EQ(ours_ops, real);
  EXPECT_GE(real.size(), 30u);
}

TEST(ModelGen, SaverIsTheOneTfTrainSaverWrites) {
  // SaverDef fields from a tf.train.Saver checkpoint (TF 1.4); save/ nodes from TF 1.13's.
  REQUIRE_FIXTURE(saver_meta, "unlicensed/caicloud-tensorflow-tutorial/1.4.0/Chapter05/MNIST_model/mnist_model-29001.meta");
  REQUIRE_FIXTURE(nodes_meta, "scisharp-tensorflow-net/graph/vd_cnn.meta");
  io::Model real = io::load_model(saver_meta), real_nodes = io::load_model(nodes_meta);
  ModelOptions o;
  o.width = 0.25;
  o.image_size = 64;
  GeneratedModel m = build_model("resnet50_v1", o);
  tf::MetaGraphDef ours = m.graph.meta_graph();
  const auto& a = real.meta.saver_def();
  const auto& b = ours.saver_def();
  EXPECT_EQ(b.filename_tensor_name(), a.filename_tensor_name());
  EXPECT_EQ(b.save_tensor_name(), a.save_tensor_name());
  EXPECT_EQ(b.restore_op_name(), a.restore_op_name());
  EXPECT_EQ(b.version(), a.version());
  EXPECT_EQ(b.max_to_keep(), a.max_to_keep());
  // The save/ nodes: the same names (numbering aside) and ops.
  auto save_nodes = [](const tf::GraphDef& g) {
    std::set<std::string> s;
    for (const auto& n : g.node())
      if (n.name().rfind("save/", 0) == 0) s.insert(std::regex_replace(n.name(), std::regex("_[0-9]+$"), "_N") + " = " + n.op());
    return s;
  };
  EXPECT_EQ(save_nodes(ours.graph_def()), save_nodes(real_nodes.graph()));
}

struct Generated {
  std::string dir, args;
};

Generated generate(const std::string& model, const std::vector<std::string>& extra = {}, const std::string& width = "0.25") {
  Generated g{test::temp_dir() + "/" + model, ""};
  std::vector<std::string> argv = {std::string(TFFREEZE_MODELGEN_BIN), model, "--out", g.dir, "--width-multiplier", width};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = test::run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  g.args = test::read_bytes(g.dir + "/freeze.args");
  return g;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TEST(ModelGen, TrainingGraphsValidateAndShowTheirTrainingOps) {
  for (const char* model : {"inception_v3", "mobilenet_v1", "resnet50_v1"}) {
    Generated g = generate(model);
    auto v = test::run_cli({"validate", g.dir + "/model.ckpt.meta"});
    EXPECT_EQ(v.exit_code, 0) << model << ": " << v.out << v.err;
    auto i = test::run_cli({"inspect", g.dir + "/model.ckpt.meta"});
    for (const char* category : {"queues (2)", "optimizer", "saver (2)", "training_flags (1): is_training", "state_updates"})
      EXPECT_NE(i.out.find(category), std::string::npos) << model << " lacks " << category;
    if (std::string(model) != "resnet50_v1") EXPECT_NE(i.out.find("dropout (2)"), std::string::npos) << model;
    // The checkpoint reads back whole, and EMA shadows differ from their variables.
    EXPECT_EQ(test::run_cli({"ckpt", "check", g.dir + "/model.ckpt"}).exit_code, 0) << model;
    auto ckpt = io::checkpoint::open_checkpoint(g.dir + "/model.ckpt");
    const std::string var = std::string(model) == "inception_v3" ? "InceptionV3/Conv2d_1a_3x3/weights"
                            : std::string(model) == "mobilenet_v1" ? "MobilenetV1/Conv2d_0/weights"
                                                                   : "conv1_conv/kernel";
    ASSERT_TRUE(ckpt->find(var)) << model;
    ASSERT_TRUE(ckpt->find(var + "/ExponentialMovingAverage")) << model;
    EXPECT_NE(ckpt->read(var).bytes, ckpt->read(var + "/ExponentialMovingAverage").bytes);
  }
  // Slim names where the issue asks for them.
  io::Model inception = io::load_model(generate("inception_v3").dir + "/model.ckpt.meta");
  for (const char* name : {"InceptionV3/Conv2d_1a_3x3/weights", "InceptionV3/Conv2d_1a_3x3/BatchNorm/beta",
                           "InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean", "InceptionV3/Mixed_5b/concat", "InceptionV3/Mixed_7c/concat",
                           "InceptionV3/AuxLogits/Conv2d_2b_1x1/BiasAdd", "InceptionV3/Logits/Dropout_1b/cond/dropout/Floor",
                           "InceptionV3/Predictions/Reshape_1", "InceptionV3/Conv2d_1a_3x3/weights/RMSProp",
                           "InceptionV3/Conv2d_1a_3x3/weights/ExponentialMovingAverage", "batch/fifo_queue"}) {
    bool found = false;
    for (const auto& n : inception.graph().node()) found |= n.name() == name;
    EXPECT_TRUE(found) << name;
  }
  auto bad = test::run_process({std::string(TFFREEZE_MODELGEN_BIN), "vgg16", "--out", test::temp_dir()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown model 'vgg16'"), std::string::npos) << bad.err;
}

TEST(ModelGen, EveryModelFreezesAndOptimizesEndToEnd) {
  for (auto [model, extra] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"inception_v3", {}}, {"mobilenet_v1", {}}, {"mobilenet_v1", {"--batch-norm", "decomposed"}}, {"resnet50_v1", {}}}) {
    Generated g = generate(model, extra);
    std::vector<std::string> argv = {"freeze", g.dir + "/model.ckpt.meta"};
    for (auto& a : split(g.args)) argv.push_back(a);
    for (const char* a : {"--optimize", "--target", "opencv", "-o"}) argv.push_back(a);
    argv.push_back(g.dir + "/frozen.pb");
    argv.push_back("--report");
    argv.push_back(g.dir + "/report.json");
    auto r = test::run_cli(argv);
    ASSERT_EQ(r.exit_code, 0) << model << ": " << r.out << r.err;
    EXPECT_NE(r.out.find("verified "), std::string::npos);
    EXPECT_NE(r.out.find("took their shadow values"), std::string::npos) << model;
    tf::GraphDef frozen = io::load_model(g.dir + "/frozen.pb").graph();
    for (const char* op : {"Switch", "Merge", "FusedBatchNorm", "FusedBatchNormV3", "RandomUniform", "Identity", "VariableV2", "Rsqrt",
                           "QueueDequeueManyV2", "Assign"})
      EXPECT_EQ(count_op(frozen, op), 0) << model << " keeps " << op;
    EXPECT_EQ(count_op(frozen, "Placeholder"), 1) << model;
    EXPECT_EQ(test::run_cli({"check", g.dir + "/frozen.pb", "--target", "opencv"}).exit_code, 0) << model;
  }
}

}  // namespace
}  // namespace tffreeze::modelgen

namespace tffreeze::modelgen {
namespace {

// --memory-limit: a freeze that needs more fails with a one-line message and exit 4, nothing
// written; with room it succeeds. A plain freeze to .pb streams the weights from the checkpoint
// into the output and fits where freezing with --optimize, which holds the weights, does not.
// (Not under AddressSanitizer, whose shadow memory the limit would count.)
TEST(MemoryLimit, RefusesCleanlyAndWritesNothing) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer build: its shadow memory counts against the limit";
#endif
  Generated g = generate("mobilenet_v1", {}, "1");
  std::vector<std::string> argv = {"--memory-limit", "16", "freeze", g.dir + "/model.ckpt.meta"};
  for (auto& a : split(g.args)) argv.push_back(a);
  argv.push_back("-o");
  argv.push_back(g.dir + "/frozen.pb");
  auto streamed = test::run_cli(argv);
  EXPECT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_GT(std::filesystem::file_size(g.dir + "/frozen.pb"), 16u << 20) << "more weights than the limit, streamed";
  std::filesystem::remove(g.dir + "/frozen.pb");
  argv.insert(argv.begin() + 4, "--optimize");
  argv.insert(argv.begin() + 5, "--no-verify");
  auto small = test::run_cli(argv);
  EXPECT_EQ(small.exit_code, 4) << small.out << small.err;
  EXPECT_NE(small.err.find("out of memory: the work needs more than --memory-limit 16 MiB"), std::string::npos) << small.err;
  EXPECT_EQ(std::count(small.err.begin(), small.err.end(), '\n'), 1);
  EXPECT_FALSE(std::filesystem::exists(g.dir + "/frozen.pb"));
  argv[1] = "1024";
  auto roomy = test::run_cli(argv);
  EXPECT_EQ(roomy.exit_code, 0) << roomy.err;
  EXPECT_TRUE(std::filesystem::exists(g.dir + "/frozen.pb"));
}

}  // namespace
}  // namespace tffreeze::modelgen
