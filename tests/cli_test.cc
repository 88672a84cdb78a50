// The tffreeze binary: exit codes, one-line errors, inspect --json, validate, convert.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/model.h"
#include "io/npy.h"
#include "io/proto_io.h"
#include "support.h"

namespace tffreeze {
namespace {

using json = nlohmann::json;
using test::run_cli;

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(Cli, VersionHelpAndUsageErrors) {
  auto v = run_cli({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("tffreeze 0."), std::string::npos);
  EXPECT_EQ(run_cli({"--help"}).exit_code, 0);
  auto none = run_cli({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(count_lines(none.err), 1) << none.err;
  EXPECT_EQ(run_cli({"inspect"}).exit_code, 2);
  EXPECT_EQ(run_cli({"inspect", "x.pb", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(run_cli({"frobnicate"}).exit_code, 2);
}

TEST(Cli, MissingFileIsOneLineExit3) {
  auto r = run_cli({"inspect", "/nonexistent/model.pb"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "tffreeze: /nonexistent/model.pb: cannot open: No such file or directory\n");
}

TEST(Cli, InspectJsonHasTheDocumentedKeys) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/fc-layers/frozen.pb");
  auto r = run_cli({"inspect", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  for (const char* key : {"format", "producer", "node_count", "ops", "inputs", "outputs", "variables", "signatures",
                          "functions", "training_ops"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["node_count"], 24);
  auto text = run_cli({"inspect", path});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("X  float32 [-1,784]  (Placeholder)"), std::string::npos) << text.out;
}

TEST(Cli, ValidateExitCodes) {
  REQUIRE_FIXTURE(good, "tensorflow-onnx/tests/models/gru/frozen.pb");
  auto ok = run_cli({"validate", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("valid (548 nodes"), std::string::npos) << ok.out;
  REQUIRE_FIXTURE(bad, "openvino/models_pbtxt/dynpart_negative_partitions.pbtxt");
  auto r = run_cli({"validate", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, bad + ": node 'dynamic_partition' (DynamicPartition): attr 'num_partitions' is -1, must be >= 1\n");
  // A hand-made broken graph: duplicate name, dangling input, cycle.
  std::string dir = test::temp_dir();
  test::write_bytes(dir + "/broken.pbtxt",
                    "node { name: 'a' op: 'Relu' input: 'b' attr { key: 'T' value { type: DT_FLOAT } } }\n"
                    "node { name: 'b' op: 'Relu' input: 'a' attr { key: 'T' value { type: DT_FLOAT } } }\n"
                    "node { name: 'b' op: 'NoOp' }\n"
                    "node { name: 'c' op: 'NoOp' input: '^ghost' }\n");
  auto broken = run_cli({"validate", dir + "/broken.pbtxt"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.out.find("duplicate node name 'b'"), std::string::npos) << broken.out;
  EXPECT_NE(broken.out.find("input '^ghost' names no node"), std::string::npos) << broken.out;
  EXPECT_NE(broken.out.find("cycle"), std::string::npos) << broken.out;
}

// An int32 tensor bound to a float input (what a fuzzer made of TensorFlow's bincount graph):
// TensorFlow's importer refuses it, and so does every command that would pass it on, as the
// user's error; the ONNX exporter used to write a model ONNX's checker rejects (exit 5).
TEST(Cli, MistypedInputIsTheUsersErrorForEveryCommand) {
  std::string dir = test::temp_dir();
  test::write_bytes(dir + "/mistyped.pbtxt",
                    "node { name: 'ids' op: 'Placeholder' attr { key: 'dtype' value { type: DT_INT32 } } }\n"
                    "node { name: 'n' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
                    " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {} int_val: 4 } } } }\n"
                    "node { name: 'sum' op: 'UnsortedSegmentSum' input: 'ids' input: 'ids' input: 'n'"
                    " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'Tindices' value { type: DT_INT32 } }"
                    " attr { key: 'Tnumsegments' value { type: DT_INT32 } } }\n");
  const std::string why = "node 'sum' (UnsortedSegmentSum): input 0 'ids' is int32; UnsortedSegmentSum takes float32 there";
  auto validated = run_cli({"validate", dir + "/mistyped.pbtxt"});
  EXPECT_EQ(validated.exit_code, 1);
  EXPECT_NE(validated.out.find(why), std::string::npos) << validated.out;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"convert", dir + "/mistyped.pbtxt", dir + "/out.onnx"},
           {"optimize", dir + "/mistyped.pbtxt", "-o", dir + "/out.pb", "--outputs", "sum"}}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 3) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.onnx"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.pb"));
}

// An error of the ONNX export's example run (here a pool wider than its input, which TensorFlow
// refuses) names the input file, like every other bad-input error.
// A MaxPool whose 5x5 window is wider than its 3x3 input: TensorFlow's "negative size" error.
void write_pool_wider_than_its_input(const std::string& path) {
  test::write_bytes(path,
                    "node { name: 'x' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } }"
                    " attr { key: 'shape' value { shape { dim { size: 1 } dim { size: 3 } dim { size: 3 } dim { size: 1 } } } } }\n"
                    "node { name: 'p' op: 'MaxPool' input: 'x' attr { key: 'T' value { type: DT_FLOAT } }"
                    " attr { key: 'ksize' value { list { i: 1 i: 5 i: 5 i: 1 } } }"
                    " attr { key: 'strides' value { list { i: 1 i: 1 i: 1 i: 1 } } } attr { key: 'padding' value { s: 'VALID' } } }\n");
}

TEST(Cli, ConvertToOnnxNamesTheFileOnAKernelError) {
  std::string dir = test::temp_dir();
  write_pool_wider_than_its_input(dir + "/pool.pbtxt");
  auto r = run_cli({"convert", dir + "/pool.pbtxt", dir + "/pool.onnx"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err, "tffreeze: " + dir + "/pool.pbtxt: node 'p' (MaxPool): computed output size would be negative: -1 "
                   "[input size 3, effective filter size 5, stride 1]\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/pool.onnx"));
}

TEST(Cli, RunNamesTheFileOnAKernelError) {
  std::string dir = test::temp_dir();
  write_pool_wider_than_its_input(dir + "/pool.pbtxt");
  io::write_npy(Tensor{tf::DT_FLOAT, {1, 3, 3, 1}, std::string(9 * 4, '\0'), {}}, dir + "/x.npy");
  auto r = run_cli({"run", dir + "/pool.pbtxt", "-i", "x=" + dir + "/x.npy"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err, "tffreeze: " + dir + "/pool.pbtxt: node 'p' (MaxPool): computed output size would be negative: -1 "
                   "[input size 3, effective filter size 5, stride 1]\n");
}

TEST(Cli, ConvertRoundTripsAndNeverOverwritesItsInput) {
  REQUIRE_FIXTURE(path, "arm-ml-kws-for-mcu/Pretrained_models/CNN/CNN_S.pb");
  std::string dir = test::temp_dir();
  ASSERT_EQ(run_cli({"convert", path, dir + "/m.pbtxt"}).exit_code, 0);
  ASSERT_EQ(run_cli({"convert", dir + "/m.pbtxt", dir + "/m.pb"}).exit_code, 0);
  EXPECT_EQ(test::read_bytes(dir + "/m.pb"), io::to_binary(io::load_model(path).graph()));
  auto stdout_text = run_cli({"convert", path, "-"});
  EXPECT_EQ(stdout_text.out, test::read_bytes(dir + "/m.pbtxt"));
  const std::string before = test::read_bytes(dir + "/m.pb");
  auto same = run_cli({"convert", dir + "/m.pb", dir + "/./m.pb"});
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_EQ(test::read_bytes(dir + "/m.pb"), before);
  auto unwritable = run_cli({"convert", path, dir + "/missing-dir/out.pb"});
  EXPECT_EQ(unwritable.exit_code, 3);
  EXPECT_EQ(count_lines(unwritable.err), 1);
}

TEST(Cli, TruncatedFixtureIsExit3NotACrash) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/fc-layers/frozen.pb");
  std::string bytes = test::read_bytes(path);
  std::string dir = test::temp_dir();
  for (std::size_t cut : {bytes.size() / 3, bytes.size() / 2, bytes.size() - 7}) {
    test::write_bytes(dir + "/frozen.pb", bytes.substr(0, cut));
    for (const char* cmd : {"inspect", "validate"}) {
      auto r = run_cli({cmd, dir + "/frozen.pb"});
      EXPECT_EQ(r.signal, 0);
      EXPECT_EQ(r.exit_code, 3) << cmd << " " << cut << ": " << r.err;
      EXPECT_EQ(count_lines(r.err), 1) << r.err;
      EXPECT_NE(r.err.find("frozen.pb: not a GraphDef: truncated protobuf at byte"), std::string::npos) << r.err;
    }
  }
}

}  // namespace
}  // namespace tffreeze

namespace tffreeze {
namespace {

TEST(CliCkpt, ListDumpDiffAndInspect) {
  REQUIRE_FIXTURE(mnist, "unlicensed/caicloud-tensorflow-tutorial/1.4.0/Chapter05/MNIST_model");
  auto list = run_cli({"ckpt", "list", mnist, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  json entries = json::parse(list.out);
  ASSERT_EQ(entries.size(), 9u);
  EXPECT_EQ(entries[3]["name"], "layer1/weights");
  EXPECT_EQ(entries[3]["dtype"], "float32");
  EXPECT_EQ(entries[3]["shape"], json::parse("[784,500]"));
  EXPECT_EQ(entries[3]["bytes"], 784 * 500 * 4);

  std::string dir = test::temp_dir();
  auto dump = run_cli({"ckpt", "dump", mnist, "layer2/biases", "-o", dir + "/b.npy"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  std::string npy = test::read_bytes(dir + "/b.npy");
  EXPECT_EQ(npy.substr(0, 6), "\x93NUMPY");
  EXPECT_NE(npy.find("'shape': (10,)"), std::string::npos);
  auto missing = run_cli({"ckpt", "dump", mnist, "nope"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("has no tensor 'nope'"), std::string::npos);

  auto same = run_cli({"ckpt", "diff", mnist, mnist});
  EXPECT_EQ(same.exit_code, 0) << same.out;
  EXPECT_NE(same.out.find("0 of 9 tensors differ"), std::string::npos);
  REQUIRE_FIXTURE(other, "unlicensed/caicloud-tensorflow-tutorial/1.0.0rc2/Chapter05/Saved_model/model2.ckpt");
  auto differ = run_cli({"ckpt", "diff", mnist, other});
  EXPECT_EQ(differ.exit_code, 1);
  EXPECT_NE(differ.out.find("only in B: v/ExponentialMovingAverage"), std::string::npos) << differ.out;

  auto inspect = run_cli({"inspect", mnist + "/mnist_model-29001.index", "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  json s = json::parse(inspect.out);
  EXPECT_EQ(s["format"], "checkpoint (V2 tensor bundle)");
  EXPECT_EQ(s["tensor_count"], 9);
}

TEST(CliCkpt, NumpyReadsWhatDumpWrites) {
  REQUIRE_FIXTURE(dir, "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/simple_model_from_auto_compile");
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
    if (test::in_ci()) FAIL() << "numpy missing (CI=true): tools/install-deps.sh installs python3-numpy";
    GTEST_SKIP() << "Debian's python3-numpy is not installed";
  }
  std::string out = test::temp_dir() + "/kernel.npy";
  auto r = run_cli({"ckpt", "dump", dir, "layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string cmd = "/usr/bin/python3 -c \"import numpy as np, sys; a = np.load('" + out + "'); b = np.load('" + dir +
                    "/kernel1.npy'); sys.exit(0 if a.dtype == b.dtype and a.shape == b.shape and (a == b).all() else 1)\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace tffreeze
