// TF 2 SavedModels written by real TensorFlow (2.0 to 2.14): signatures flattened into one
// graph, captured variables frozen through the object graphs, and the numbers the fixtures
// state (MANIFEST.md) computed by our executor.
#include <set>

#include "common/dtype.h"
#include "common/error.h"
#include "freeze/lookup_tables.h"
#include "freeze_support.h"
#include "io/checkpoint/checkpoint.h"
#include "io/npy.h"
#include "runtime/executor.h"

namespace tffreeze {
namespace {

using test::as_doubles;
using test::freeze_path;
using test::node_named;
using test::values_tensor;

const std::string kServing = "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/";
const std::string kTfjs = "tensorflow-tfjs/tfjs-node/test_objects/saved_model/";
const std::string kJava = "tensorflow-java/tensorflow-core/tensorflow-core-api/src/test/resources/saved_model_using_python/model";
const std::string kKeras = "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/";

Tensor floats(std::vector<std::int64_t> shape, std::vector<float> v) { return values_tensor(tf::DT_FLOAT, std::move(shape), v); }

// What "function-free and frozen" means: no call, no variable, no function library.
void expect_flat_and_frozen(const tf::GraphDef& g, const std::string& what) {
  static const std::set<std::string> kGone = {"StatefulPartitionedCall", "PartitionedCall", "VarHandleOp", "ReadVariableOp",
                                              "AssignVariableOp", "DisableCopyOnRead", "VarIsInitializedOp", "NoOp",
                                              "If", "StatelessIf", "ResourceGather", "VariableShape"};
  for (const auto& n : g.node()) {
    EXPECT_FALSE(kGone.count(n.op())) << what << ": '" << n.name() << "' is a " << n.op();
    for (const auto& in : n.input()) EXPECT_NE(in[0], '^') << what << ": '" << n.name() << "' keeps control input " << in;
  }
  EXPECT_EQ(g.library().function_size(), 0) << what;
}

std::vector<Tensor> run(const tf::GraphDef& g, const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& fetches) {
  return runtime::Executor(g).run(feeds, fetches);
}

TEST(Tf2Freeze, HalfPlusTwoServingDefault) {
  REQUIRE_FIXTURE(dir, kServing + "saved_model_half_plus_two_tf2_cpu/00000123");
  freeze::FreezeResult r = freeze_path(dir);
  expect_flat_and_frozen(r.graph, "half_plus_two_tf2_cpu");
  EXPECT_EQ(r.report.inputs, std::vector<std::string>{"x"});
  EXPECT_EQ(r.report.outputs, std::vector<std::string>{"y"});
  ASSERT_EQ(r.report.variables.size(), 2u);
  for (const auto& v : r.report.variables) {
    EXPECT_EQ(v.checkpoint_key, v.name + "/.ATTRIBUTES/VARIABLE_VALUE");  // mapped through the object graphs
  }
  for (float x : {0.0f, 1.0f, -3.5f, 1000.0f}) {
    auto y = run(r.graph, {{"x", floats({1}, {x})}}, {"y"});
    ASSERT_EQ(y[0].shape, std::vector<std::int64_t>{1});
    EXPECT_FLOAT_EQ(y[0].get<float>(0), 0.5f * x + 2.0f) << x;
  }
  // x is a PlaceholderWithDefault whose default ([0]) the frozen graph keeps: y() = 2.
  EXPECT_FLOAT_EQ(run(r.graph, {}, {"y"})[0].get<float>(0), 2.0f);
}

TEST(Tf2Freeze, HalfPlusTwoOtherSignatures) {
  REQUIRE_FIXTURE(dir, kServing + "saved_model_half_plus_two_tf2_cpu/00000123");
  freeze::FreezeOptions options;
  options.signature = "regress_x2_to_y3";  // y3 = a*x2 + c = 0.5*x2 + 3
  freeze::FreezeResult r = freeze_path(dir, options);
  expect_flat_and_frozen(r.graph, "regress_x2_to_y3");
  EXPECT_EQ(r.report.inputs, std::vector<std::string>{"inputs"});
  EXPECT_EQ(r.report.outputs, std::vector<std::string>{"outputs"});
  EXPECT_FLOAT_EQ(run(r.graph, {{"inputs", floats({1}, {4.0f})}}, {"outputs"})[0].get<float>(0), 5.0f);
  // Raw tensor names (no signature): the call's output keeps its name after inlining.
  freeze::FreezeOptions raw;
  raw.outputs = {"StatefulPartitionedCall_5:0"};
  freeze::FreezeResult by_name = freeze_path(dir, raw);
  expect_flat_and_frozen(by_name.graph, "--outputs StatefulPartitionedCall_5:0");
  EXPECT_FLOAT_EQ(run(by_name.graph, {{"serving_default_x", floats({1}, {4.0f})}}, {"StatefulPartitionedCall_5:0"})[0].get<float>(0), 4.0f);
}

// tfjs-node's test models and the outputs its tests expect (MANIFEST.md).
TEST(Tf2Freeze, TfjsNodeModels) {
  struct Case {
    std::string model, signature;
    std::map<std::string, Tensor> feeds;
    std::vector<std::pair<std::string, std::vector<double>>> expected;
    tf::DataType output_dtype;
  };
  const std::vector<Case> cases = {
      {"times_three_float", "", {{"x", floats({3}, {1, 2, 3})}}, {{"output_0", {3, 6, 9}}}, tf::DT_FLOAT},
      {"times_two_int", "", {{"x", values_tensor<std::int32_t>(tf::DT_INT32, {3}, {1, 2, 3})}}, {{"output_0", {2, 4, 6}}}, tf::DT_INT32},
      {"int64_multiply", "", {{"x", values_tensor<std::int64_t>(tf::DT_INT64, {2}, {3, 4})}}, {{"output_0", {18, 24}}}, tf::DT_INT64},
      {"uint8_multiply", "", {{"x", values_tensor<std::uint8_t>(tf::DT_UINT8, {1}, {3})}}, {{"output_0", {18}}}, tf::DT_INT32},
      {"module_with_multiple_signatures", "", {{"x", floats({2}, {1, 5})}}, {{"output_0", {3, 15}}}, tf::DT_FLOAT},
      {"module_with_multiple_signatures", "timestwo", {{"x", floats({2}, {1, 5})}}, {{"output_0", {2, 10}}}, tf::DT_FLOAT},
      {"model_single_input_multi_output", "", {{"x", values_tensor<std::int32_t>(tf::DT_INT32, {3}, {1, 2, 3})}},
       {{"output_0", {2, 4, 6}}, {"output_1", {1, 2, 3}}}, tf::DT_INT32},
      {"model_multi_output", "",
       {{"x", values_tensor<std::int32_t>(tf::DT_INT32, {2}, {1, 7})}, {"y", values_tensor<std::int32_t>(tf::DT_INT32, {2}, {5, 6})}},
       {{"output_0", {2, 14}}, {"output_1", {5, 6}}}, tf::DT_INT32},
  };
  for (const auto& c : cases) {
    REQUIRE_FIXTURE(dir, kTfjs + c.model);
    SCOPED_TRACE(c.model + " " + c.signature);
    freeze::FreezeOptions options;
    options.signature = c.signature;
    freeze::FreezeResult r = freeze_path(dir, options);
    expect_flat_and_frozen(r.graph, c.model);
    std::vector<std::string> fetches;
    for (const auto& [name, values] : c.expected) fetches.push_back(name);
    EXPECT_EQ(r.report.outputs, fetches);
    std::vector<Tensor> got;
    try {
      got = run(r.graph, c.feeds, fetches);
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(as_doubles(got[k]), c.expected[k].second) << fetches[k];
      if (k == 0) EXPECT_EQ(got[k].dtype, c.output_dtype) << dtype_name(got[k].dtype);
    }
  }
}

// tensorflow-java's Keras-model SavedModel: captured constants (SavedConstant) and a variable.
TEST(Tf2Freeze, TensorflowJavaEverySignature) {
  REQUIRE_FIXTURE(dir, kJava);
  auto freeze_signature = [&](const std::string& key) {
    freeze::FreezeOptions options;
    options.signature = key;
    freeze::FreezeResult r = freeze_path(dir, options);
    expect_flat_and_frozen(r.graph, key);
    return r;
  };
  {
    auto r = freeze_signature("add");  // a + b
    auto out = run(r.graph, {{"a", floats({2}, {1, 2})}, {"b", floats({2}, {10, 20})}}, {"output_0"});
    EXPECT_EQ(as_doubles(out[0]), (std::vector<double>{11, 22}));
  }
  const std::vector<std::pair<std::string, std::vector<std::int64_t>>> consts = {
      {"get_const_scalar", {}}, {"get_const_vector", {3}}, {"get_const_matrix", {2, 3}}};
  for (const auto& [key, shape] : consts) {
    auto r = freeze_signature(key);  // x + captured zeros of this shape
    std::vector<float> x(static_cast<std::size_t>(shape.empty() ? 1 : shape.size() == 1 ? shape[0] : shape[0] * shape[1]));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.5f + static_cast<float>(i);
    auto out = run(r.graph, {{"input", floats(shape, x)}}, {"output_0"});
    EXPECT_EQ(out[0].shape, shape) << key;
    EXPECT_EQ(as_doubles(out[0]), as_doubles(floats(shape, x))) << key;
    bool captured_const = false;  // the SavedConstant is a Const of that shape now
    for (const auto& n : r.graph.node())
      if (n.op() == "Const" && dims_of(n.attr().at("value").tensor().tensor_shape()) == shape) captured_const = true;
    EXPECT_TRUE(captured_const) << key;
  }
  {
    auto r = freeze_signature("get_variable");
    ASSERT_EQ(r.report.variables.size(), 1u);
    EXPECT_EQ(r.report.inputs, std::vector<std::string>{"dummy"});  // kept though nothing reads it
    auto out = run(r.graph, {{"dummy", floats({}, {0})}}, {"output_0"});
    EXPECT_EQ(as_doubles(out[0]), std::vector<double>{2.0});
  }
}

TEST(Tf2Freeze, RustRegressionTrainIsRefusedGettersFreeze) {
  REQUIRE_FIXTURE(dir, "tensorflow-rust/examples/regression_savedmodel");
  test::CliResult train = test::run_cli({"freeze", dir, "--signature", "train", "-o", test::temp_dir() + "/train.pb"});
  EXPECT_EQ(train.exit_code, 4) << train.err;
  EXPECT_NE(train.err.find("signature 'train' changes state"), std::string::npos) << train.err;
  EXPECT_NE(train.err.find("ResourceApplyGradientDescent"), std::string::npos) << train.err;
  EXPECT_EQ(std::count(train.err.begin(), train.err.end(), '\n'), 1) << train.err;
  auto checkpoint = io::checkpoint::open_checkpoint(dir + "/variables/variables");
  for (const char* key : {"w", "b"}) {
    freeze::FreezeOptions options;
    options.signature = key;
    freeze::FreezeResult r = freeze_path(dir, options);
    expect_flat_and_frozen(r.graph, key);
    ASSERT_EQ(r.report.variables.size(), 1u);
    const std::string ckpt_key = r.report.variables[0].checkpoint_key;
    EXPECT_NE(ckpt_key.find("/.ATTRIBUTES/VARIABLE_VALUE"), std::string::npos) << ckpt_key;
    Tensor stored = checkpoint->read(ckpt_key);
    EXPECT_EQ(as_doubles(run(r.graph, {}, {"output"})[0]), as_doubles(stored)) << key;
  }
}

TEST(Tf2Freeze, KerasDenseWeightsEqualTheNpyFiles) {
  REQUIRE_FIXTURE(dir, kKeras + "simple_model_from_auto_compile");
  freeze::FreezeResult r = freeze_path(dir);
  expect_flat_and_frozen(r.graph, "simple_model_from_auto_compile");
  for (const auto& n : r.graph.node()) EXPECT_NE(n.op(), "PrintV2") << "the function's print is bookkeeping";
  std::map<std::string, Tensor> by_key;
  for (const auto& v : r.report.variables) by_key[v.checkpoint_key] = test::const_value(r.graph, v.name);
  const std::map<std::string, std::string> npy = {{"bias0.npy", "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE"},
                                                  {"kernel1.npy", "layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE"}};
  for (const auto& [file, key] : npy) {
    ASSERT_TRUE(by_key.count(key)) << key;
    Tensor expected = io::read_npy(dir + "/" + file);
    EXPECT_EQ(by_key[key].shape, expected.shape) << file;
    EXPECT_EQ(by_key[key].bytes, expected.bytes) << file;
  }
  // Softmax rows sum to 1 on any input; the TF.js oracle test checks the values themselves.
  const tf::NodeDef* input = node_named(r.graph, r.report.inputs.at(0));
  ASSERT_NE(input, nullptr);
  std::vector<std::int64_t> shape = dims_of(input->attr().at("shape").shape());
  shape[0] = 2;
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 255) / 255.0f;
  Tensor y = run(r.graph, {{r.report.inputs[0], floats(shape, x)}}, r.report.outputs)[0];
  ASSERT_EQ(y.shape.size(), 2u);
  for (std::int64_t row = 0; row < 2; ++row) {
    double sum = 0;
    for (std::int64_t k = 0; k < y.shape[1]; ++k) sum += y.get<float>(row * y.shape[1] + k);
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(Tf2Freeze, KerasLstmTakesTheCpuLoopNotCudnn) {
  REQUIRE_FIXTURE(dir, kKeras + "lstm_from_sequential");
  freeze::FreezeResult r = freeze_path(dir);
  int loops = 0;
  for (const auto& n : r.graph.node()) {
    EXPECT_NE(n.op(), "CudnnRNN");
    EXPECT_NE(n.op(), "StatefulPartitionedCall");
    EXPECT_NE(n.op(), "VarHandleOp");
    loops += n.op() == "StatelessWhile";
  }
  EXPECT_EQ(loops, 1);
  ASSERT_GT(r.graph.library().function_size(), 0);  // the loop's cond and body
  for (const auto& f : r.graph.library().function()) {
    for (const auto& n : f.node_def()) {
      EXPECT_NE(n.op(), "CudnnRNN") << f.signature().name();
      EXPECT_NE(n.op(), "ReadVariableOp") << f.signature().name();
    }
    auto device = f.attr().find("api_preferred_device");
    if (device != f.attr().end()) EXPECT_EQ(device->second.s(), "CPU");
  }
  EXPECT_EQ(r.report.variables.size(), 5u);  // kernel, recurrent kernel, bias; dense kernel, bias
  std::vector<float> x(2 * 5 * 3);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) / 7.0f - 0.3f;
  Tensor y = run(r.graph, {{"input_1", floats({2, 5, 3}, x)}}, {"dense"})[0];
  EXPECT_EQ(y.shape, (std::vector<std::int64_t>{2, 1}));
  EXPECT_NE(y.get<float>(0), y.get<float>(1));  // the sequences differ, so must the outputs
}

// For runtimes without loops the LSTM's loop (5 time steps, a static dimension of the input) is
// unrolled and its TensorLists become slices and a Pack; optimize proves the result equal.
TEST(Tf2Freeze, KerasLstmUnrollsForTheTfliteTarget) {
  REQUIRE_FIXTURE(dir, kKeras + "lstm_from_sequential");
  const std::string out = test::temp_dir() + "/lstm.pb";
  test::CliResult r = test::run_cli({"freeze", dir, "--optimize", "--target", "tflite", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("unroll_loops: 1 change(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verified dense: max abs difference"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("would reject"), std::string::npos) << r.out;
  tf::GraphDef g = io::load_model(out).graph();
  EXPECT_EQ(g.library().function_size(), 0);
  for (const auto& n : g.node()) {
    EXPECT_NE(n.op(), "StatelessWhile");
    EXPECT_EQ(n.op().rfind("TensorList", 0), std::string::npos) << n.name();
  }
  test::CliResult check = test::run_cli({"check", out, "--target", "tflite"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
}

TEST(Tf2Freeze, KerasConv1DLeakModel) {
  REQUIRE_FIXTURE(dir, "scisharp-tensorflow-net/tools/TensorFlowNET.Benchmarks/Leak/TestModel/saved_model");
  freeze::FreezeResult r = freeze_path(dir);
  expect_flat_and_frozen(r.graph, "leak model");
  ASSERT_EQ(r.report.outputs.size(), 3u);
  const tf::NodeDef* input = node_named(r.graph, r.report.inputs.at(0));
  ASSERT_NE(input, nullptr);
  std::vector<std::int64_t> shape = dims_of(input->attr().at("shape").shape());
  for (auto& d : shape)
    if (d < 0) d = 3;
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 13) % 17) - 8.0f;
  auto out = run(r.graph, {{r.report.inputs[0], floats(shape, x)}}, r.report.outputs);
  for (const auto& t : out) {
    ASSERT_EQ(t.shape.size(), 2u);
    EXPECT_EQ(t.shape[1], 192);
  }
}

// The "hash table" of this tf.Transform model is a placeholder resource (its _create_resource
// returns an unused Placeholder) that serving_default never touches: the signature freezes,
// and no resource or table op is left.
TEST(Tf2Freeze, TfxKerasModelWithItsTransformResource) {
  REQUIRE_FIXTURE(dir, "tensorflow-tfx/tfx/components/testdata/trainer/keras/Format-Serving");
  freeze::FreezeResult r = freeze_path(dir);
  expect_flat_and_frozen(r.graph, "tfx keras");
  EXPECT_EQ(r.report.inputs, std::vector<std::string>{"examples"});
  EXPECT_EQ(r.report.variables.size(), 6u);
  bool parses = false;
  for (const auto& n : r.graph.node()) {
    EXPECT_EQ(n.op().find("Table"), std::string::npos) << n.name();
    parses |= n.op() == "ParseExampleV2";
  }
  EXPECT_TRUE(parses);
}

// run, verify and optimize take the SavedModel itself: its signature is frozen in memory first.
TEST(Tf2Freeze, ExecutingCommandsTakeTheSavedModelItself) {
  REQUIRE_FIXTURE(dir, kServing + "saved_model_half_plus_two_tf2_cpu/00000123");
  const std::string tmp = test::temp_dir();
  io::write_npy(floats({1}, {6}), tmp + "/x.npy");
  test::CliResult r = test::run_cli({"run", dir, "-i", "x=" + tmp + "/x.npy", "--out-dir", tmp});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(as_doubles(io::read_npy(tmp + "/y.npy")), std::vector<double>{5.0});
  ASSERT_EQ(test::run_cli({"freeze", dir, "-o", tmp + "/frozen.pb"}).exit_code, 0);
  test::CliResult v = test::run_cli({"verify", dir, tmp + "/frozen.pb"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  test::CliResult o = test::run_cli({"optimize", dir, "-o", tmp + "/small.pb"});
  EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("verified y"), std::string::npos) << o.out;
}

// How TF 2 keeps an asset's path (what a vocabulary table's initializer reads): a string
// variable that the init op assigns from the placeholder asset_file_def names.
TEST(Tf2Freeze, AssetPathsResolveThroughTheirVariable) {
  REQUIRE_FIXTURE(dir, kServing + "saved_model_half_plus_two_tf2_cpu/00000123");
  io::Model model = io::load_model(dir);
  EXPECT_EQ(freeze::asset_file_for(model, "Variable"), dir + "/assets/foo.txt");
  EXPECT_EQ(freeze::asset_file_for(model, "asset_path_initializer:0"), dir + "/assets/foo.txt");
  EXPECT_EQ(freeze::asset_file_for(model, "a"), "");  // a float variable names no file
}

TEST(Tf2Freeze, InspectShowsWhatEachSignatureUses) {
  REQUIRE_FIXTURE(dir, "tensorflow-rust/examples/regression_savedmodel");
  test::CliResult r = test::run_cli({"inspect", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("signature train"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in  x = train_x:0  float32 [-1]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("changes state (trains or assigns): freeze refuses it"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uses 1 variables: w"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("__inference_get_w_"), std::string::npos) << r.out;
}

TEST(Tf2Freeze, CliWritesAFlatGraphNamedBySignatureKeys) {
  REQUIRE_FIXTURE(dir, kServing + "saved_model_half_plus_two_tf2_cpu/00000123");
  const std::string out = test::temp_dir() + "/hp2.pb";
  test::CliResult r = test::run_cli({"freeze", dir, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("inputs:  x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outputs: y"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flattened 2 function calls"), std::string::npos) << r.out;
  test::CliResult v = test::run_cli({"validate", out});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace tffreeze
