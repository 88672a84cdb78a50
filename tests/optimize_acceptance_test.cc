// The optimizer on real TensorFlow graphs, end to end through the CLI: training graphs frozen
// and stripped to their inference core, with the numbers proven unchanged.
#include "io/checkpoint/random_checkpoint.h"
#include "io/model.h"
#include "pass_support.h"
#include "support.h"

namespace tffreeze::passes {
namespace {

using namespace test_support;

// SciSharp's VDCNN training graph: 16 FusedBatchNorm inside is_training conds, dropout-free
// Conv2D+BiasAdd blocks, Adam slots. It ships without weights: a generated checkpoint stands
// in. freeze --set is_training=false --optimize must leave no Switch, Merge or batch norm.
TEST(OptimizeAcceptance, VdCnnFreezesToAPlainConvNet) {
  REQUIRE_FIXTURE(meta, "scisharp-tensorflow-net/graph/vd_cnn.meta");
  const std::string dir = test::temp_dir();
  io::Model model = io::load_model(meta);
  int before_bn = count_op(model.graph(), "FusedBatchNorm"), before_switch = count_op(model.graph(), "Switch");
  EXPECT_EQ(before_bn, 16);
  EXPECT_EQ(before_switch, 108);
  EXPECT_GT(io::checkpoint::write_random_checkpoint(model.graph(), dir + "/vd.ckpt", 7), 100);
  auto r = test::run_cli({"freeze", meta, "-c", dir + "/vd.ckpt", "--outputs", "fc-3/dense/BiasAdd", "--set", "is_training=false",
                          "--optimize", "-o", dir + "/vd.pb", "--report", dir + "/report.json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verified fc-3/dense/BiasAdd"), std::string::npos) << r.out;
  tf::GraphDef g = io::load_model(dir + "/vd.pb").graph();
  for (const char* op : {"Switch", "Merge", "FusedBatchNorm", "FusedBatchNormV3", "RandomUniform", "Floor", "Identity",
                         "VariableV2", "Assign", "Placeholder"}) {
    if (std::string(op) == "Placeholder") {
      std::string names;
      for (const auto& n : g.node())
        if (n.op() == op) names += n.name() + " ";
      EXPECT_EQ(count_op(g, op), 1) << names;  // only x
      continue;
    }
    EXPECT_EQ(count_op(g, op), 0) << op;
  }
  EXPECT_EQ(count_op(g, "Conv2D"), 5);  // conv-0 and one per conv block, each with its batch norm folded in
  EXPECT_GE(count_op(g, "BiasAdd"), 5);
  std::cout << "[ info ] vd_cnn: " << model.graph().node_size() << " nodes -> " << g.node_size() << " after freeze --optimize\n";
}

// freeze --optimize in one step on a keyword spotter: the same result as freeze, then optimize.
TEST(OptimizeAcceptance, FreezeOptimizeInOneStep) {
  REQUIRE_FIXTURE(path, "arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb");
  const std::string dir = test::temp_dir();
  auto one = test::run_cli({"freeze", path, "--outputs", "labels_softmax", "--replace-input", "Reshape_1=float32[1,49,10,1]",
                            "--optimize", "--target", "opencv", "-o", dir + "/one.pb"});
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  ASSERT_EQ(test::run_cli({"freeze", path, "--outputs", "labels_softmax", "--replace-input", "Reshape_1=float32[1,49,10,1]", "-o",
                           dir + "/cut.pb"}).exit_code, 0);
  ASSERT_EQ(test::run_cli({"optimize", dir + "/cut.pb", "--target", "opencv", "-o", dir + "/two.pb"}).exit_code, 0);
  EXPECT_EQ(test::read_bytes(dir + "/one.pb"), test::read_bytes(dir + "/two.pb"));
  EXPECT_EQ(test::run_cli({"check", dir + "/one.pb", "--target", "opencv"}).exit_code, 0);
  // Usage errors come before any work, and nothing is written.
  auto bad = test::run_cli({"freeze", path, "--optimize", "--target", "onnx", "-o", dir + "/bad.pb"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown target 'onnx'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace tffreeze::passes
