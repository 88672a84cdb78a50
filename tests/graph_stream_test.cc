// Freezing straight from the checkpoint's mapping into the output (graph/mapped_constants.h,
// io/graph_stream.h): the streamed file has the very bytes of the graph frozen in memory and
// serialized, on real TensorFlow checkpoints and on a generated one through the CLI; a corrupt
// weight is caught by its checksum and leaves nothing behind.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "freeze_support.h"
#include "graph/mapped_constants.h"
#include "io/graph_stream.h"
#include "io/proto_io.h"
#include "passes/pass.h"
#include "runtime/verify.h"
#include "targets/targets.h"

namespace tffreeze {
namespace {

namespace fs = std::filesystem;

// Freezes `model_path` both ways; expects the streamed file to equal the serialized graph.
void expect_streamed_equals_serialized(const std::string& model_path, freeze::FreezeOptions options = {}) {
  io::Model model = io::load_model(model_path);
  std::shared_ptr<const io::checkpoint::Checkpoint> ckpt = io::checkpoint::open_checkpoint(freeze::default_checkpoint_for(model));
  auto source = graph::MappedSource::open(ckpt);
  options.mapped_source = source;
  freeze::FreezeResult mapped = freeze::freeze_model(model, ckpt.get(), options);
  ASSERT_TRUE(graph::has_mapped_constants(mapped.graph)) << model_path << ": nothing was mapped, nothing is tested";
  EXPECT_TRUE(graph::validate_graph(mapped.graph).empty());
  const std::string out = test::temp_dir() + "/streamed.pb";
  io::write_graph_streaming(mapped.graph, out);
  EXPECT_EQ(graph::serialized_size(mapped.graph), test::read_bytes(out).size()) << model_path;
  options.mapped_source = nullptr;
  freeze::FreezeResult plain = freeze::freeze_model(model, ckpt.get(), options);
  EXPECT_FALSE(graph::has_mapped_constants(plain.graph));
  const std::string streamed = test::read_bytes(out), serialized = io::to_binary(plain.graph);
  EXPECT_EQ(streamed.size(), serialized.size()) << model_path;
  EXPECT_TRUE(streamed == serialized) << model_path << ": the streamed file differs from the serialized graph";
  // Materialized in memory, the mapped graph is the plain one too.
  graph::materialize_mapped_constants(&mapped.graph);
  EXPECT_TRUE(io::to_binary(mapped.graph) == serialized) << model_path;
}

TEST(GraphStream, RealCheckpointsStreamTheSerializedBytes) {
  REQUIRE_FIXTURE(mnist, "unlicensed/caicloud-tensorflow-tutorial/1.4.0/Chapter05/MNIST_model/mnist_model-29001.meta");
  REQUIRE_FIXTURE(keras_lstm, "scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/lstm_from_sequential");
  expect_streamed_equals_serialized(mnist);
  freeze::FreezeOptions ema;
  ema.use_moving_averages = true;
  expect_streamed_equals_serialized(mnist, ema);
  expect_streamed_equals_serialized(keras_lstm);  // TF 2: variables found through the object graph
}

struct Generated {
  std::string dir;
  std::vector<std::string> args;  // freeze.args
};

Generated generate_mobilenet() {
  Generated g{test::temp_dir() + "/mobilenet", {}};
  auto r = test::run_process({TFFREEZE_MODELGEN_BIN, "mobilenet_v1", "--out", g.dir, "--width-multiplier", "0.25", "--classes", "10", "--image-size", "32"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(test::read_bytes(g.dir + "/freeze.args"));
  for (std::string a; in >> a;) g.args.push_back(a);
  return g;
}

// freeze ARGS -o OUT (freeze.args names the checkpoint).
std::vector<std::string> freeze_args(const Generated& g, const std::string& out) {
  std::vector<std::string> args = {"freeze", g.dir + "/model.ckpt.meta"};
  args.insert(args.end(), g.args.begin(), g.args.end());
  args.insert(args.end(), {"-o", out});
  return args;
}

// The CLI streams a .pb and writes a .pbtxt from memory: the same graph, to the byte.
TEST(GraphStream, CliFreezeOfAGeneratedCheckpoint) {
  Generated g = generate_mobilenet();
  const std::string pb = test::temp_dir() + "/frozen.pb", text = test::temp_dir() + "/frozen.pbtxt";
  auto r = test::run_cli(freeze_args(g, pb));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_cli(freeze_args(g, text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  tf::GraphDef from_text;
  std::string why;
  ASSERT_TRUE(io::parse_text(test::read_bytes(text), &from_text, &why)) << why;
  EXPECT_TRUE(test::read_bytes(pb) == io::to_binary(from_text));
  EXPECT_GT(fs::file_size(pb), 100000u);
}

// freeze --optimize into a .pb keeps the weights no pass changes in the checkpoint's mapping and
// streams them; into a .pbtxt every value is read. Both hold the same graph, to the byte, and
// the report's size is the file's.
TEST(GraphStream, CliFreezeOptimizeStreamsWhatNoPassChanged) {
  Generated g = generate_mobilenet();
  const std::string pb = test::temp_dir() + "/optimized.pb", text = test::temp_dir() + "/optimized.pbtxt";
  const std::string report = test::temp_dir() + "/optimized.json";
  auto args = freeze_args(g, pb);
  args.insert(args.end(), {"--optimize", "--target", "opencv", "--report", report});
  auto r = test::run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  args = freeze_args(g, text);
  args.insert(args.end(), {"--optimize", "--target", "opencv"});
  r = test::run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  tf::GraphDef from_text;
  std::string why;
  ASSERT_TRUE(io::parse_text(test::read_bytes(text), &from_text, &why)) << why;
  EXPECT_TRUE(test::read_bytes(pb) == io::to_binary(from_text));
  const auto json = nlohmann::json::parse(test::read_bytes(report));
  EXPECT_EQ(json["optimize"]["bytes_after"].get<std::uint64_t>(), fs::file_size(pb));
  EXPECT_EQ(json["optimize"]["verification"].size(), 1u) << "the proof ran";
}

// In memory: after the opencv pipeline the folded weights are values of their own, the
// classifier's weights are still mapped, and the graph reads and runs as the materialized one.
TEST(GraphStream, PassesReplaceOnlyTheWeightsTheyChange) {
  Generated g = generate_mobilenet();
  io::Model model = io::load_model(g.dir + "/model.ckpt.meta");
  std::shared_ptr<const io::checkpoint::Checkpoint> ckpt = io::checkpoint::open_checkpoint(g.dir + "/model.ckpt");
  freeze::FreezeOptions options;
  options.outputs = {"MobilenetV1/Predictions/Softmax"};
  options.replace_inputs = {"input_batch=float32[1,32,32,3]"};
  options.set_values = {{"is_training", "false"}};
  options.use_moving_averages = true;
  options.mapped_source = graph::MappedSource::open(ckpt);
  tf::GraphDef graph = freeze::freeze_model(model, ckpt.get(), options).graph;
  passes::PassContext ctx;
  ctx.outputs = options.outputs;
  passes::run_pipeline(&graph, passes::parse_pipeline(targets::find_target("opencv").pipeline), ctx);
  int mapped = 0, computed = 0;
  for (const auto& n : graph.node()) {
    if (n.op() != "Const" || n.attr().at("value").tensor().tensor_shape().dim_size() < 2) continue;
    (graph::is_mapped_const(n) ? mapped : computed) += 1;
  }
  EXPECT_GT(mapped, 0) << "no weight stayed in the mapping";
  EXPECT_GT(computed, 0) << "no weight was folded";
  tf::GraphDef materialized = graph;
  graph::materialize_mapped_constants(&materialized);
  EXPECT_FALSE(graph::has_mapped_constants(materialized));
  EXPECT_EQ(graph::serialized_size(graph), materialized.ByteSizeLong());
  auto diffs = runtime::compare_graphs(materialized, graph, ctx.outputs, {}, {}, 1, 7, 0, 0);
  EXPECT_TRUE(diffs.begin()->second.within_tolerance && diffs.begin()->second.max_abs == 0);
}

// A file cannot name a source: the attr is dropped as it is read, and the Const without its
// content is what `validate` reports (exit 1), not a closed source (exit 5).
TEST(GraphStream, AFileCannotReferToAMappedSource) {
  const std::string path = test::temp_dir() + "/hostile.pbtxt";
  std::ofstream(path) << "node { name: 'w' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
                         " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 4 } } } } }"
                         " attr { key: '_tffreeze_mapped_value' value { s: '1:w' } } }";
  tf::GraphDef graph = io::load_model(path).graph();
  EXPECT_FALSE(graph::has_mapped_constants(graph));
  auto r = test::run_cli({"validate", path});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("no values"), std::string::npos) << r.out;
}

// A graph used after its source closed is our bug: exit 5, not a crash; validation says so.
TEST(GraphStream, AClosedSourceIsAnInternalError) {
  Generated g = generate_mobilenet();
  std::shared_ptr<const io::checkpoint::Checkpoint> ckpt = io::checkpoint::open_checkpoint(g.dir + "/model.ckpt");
  const io::checkpoint::Entry* largest = nullptr;
  for (const auto& e : ckpt->entries())
    if (!largest || e.bytes > largest->bytes) largest = &e;
  ASSERT_TRUE(largest);
  auto source = graph::MappedSource::open(ckpt);
  tf::NodeDef w = graph::make_mapped_const("w", largest->dtype, largest->shape, *source, largest->name);
  EXPECT_EQ(graph::constant_value(w), ckpt->read(largest->name));
  tf::GraphDef one;
  *one.add_node() = w;
  EXPECT_TRUE(graph::validate_graph(one).empty());
  source.reset();
  // A graph built outside the loaders (the fuzz targets parse bytes themselves) is invalid, not
  // a crash waiting to happen.
  auto problems = graph::validate_graph(one);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("no checkpoint open"), std::string::npos) << problems[0];
  try {
    graph::constant_value(w);
    ADD_FAILURE() << "read a closed source";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInternal) << e.what();
  }
}

// Where in the data file the largest frozen weight's bytes are (its middle).
std::streamoff middle_of_largest_frozen_weight(const Generated& g) {
  const std::string report = test::temp_dir() + "/report.json";
  auto args = freeze_args(g, test::temp_dir() + "/clean.pb");
  args.insert(args.end(), {"--report", report});
  auto r = test::run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string key;
  std::int64_t largest = 0;
  const auto frozen = nlohmann::json::parse(test::read_bytes(report));
  for (const auto& v : frozen["variables"]) {
    if (v["bytes"].get<std::int64_t>() <= largest) continue;
    largest = v["bytes"].get<std::int64_t>();
    key = v["checkpoint_key"].get<std::string>() + (v["moving_average"].get<bool>() ? "/ExponentialMovingAverage" : "");
  }
  auto ckpt = io::checkpoint::open_checkpoint(g.dir + "/model.ckpt");
  const auto* entry = ckpt->find(key);
  EXPECT_TRUE(entry && entry->offset >= 0) << key;
  return entry ? static_cast<std::streamoff>(entry->offset + entry->bytes / 2) : 0;
}

TEST(GraphStream, CorruptWeightFailsAndLeavesNothing) {
  Generated g = generate_mobilenet();
  const std::string data = g.dir + "/model.ckpt.data-00000-of-00001";
  const std::streamoff middle = middle_of_largest_frozen_weight(g);
  std::fstream f(data, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(middle);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  f.seekp(middle);
  f.write(&c, 1);
  f.close();
  const std::string out_dir = test::temp_dir() + "/out";
  fs::create_directories(out_dir);
  auto r = test::run_cli(freeze_args(g, out_dir + "/frozen.pb"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(out_dir)) << "a failed freeze left a file behind";
}

}  // namespace
}  // namespace tffreeze
