// TF 1 freezing against what TensorFlow itself produced and what the fixtures state.
#include <cstring>
#include <filesystem>

#include "common/dtype.h"
#include "common/error.h"
#include "freeze/freeze.h"
#include "graph/validate.h"
#include "io/checkpoint/bundle_writer.h"
#include "io/checkpoint/random_checkpoint.h"
#include "io/model.h"
#include "freeze_support.h"
#include "support.h"

namespace tffreeze::freeze {
namespace {

const std::string kServing = "tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/";

using test::const_value;
using test::freeze_path;
using test::node_named;

float scalar_const(const tf::GraphDef& g, const std::string& name) {
  Tensor t = const_value(g, name);
  return t.num_elements() == 1 && t.dtype == tf::DT_FLOAT ? t.get<float>(0) : -12345.0f;
}

// The graph with Identity nodes removed (consumers rewired to the Identity's input), as a
// sorted list of "name op inputs" lines, and its constants by name.
struct Shape {
  std::vector<std::string> lines;
  std::map<std::string, Tensor> constants;
};
Shape shape_of(const tf::GraphDef& g) {
  std::map<std::string, std::string> through;
  for (const auto& n : g.node())
    if (n.op() == "Identity" && n.input_size() >= 1) through[n.name()] = n.input(0);
  auto resolve = [&](std::string in) {
    for (int hops = 0; hops < 16 && through.count(in); ++hops) in = through[in];
    return in;
  };
  Shape s;
  for (const auto& n : g.node()) {
    if (n.op() == "Identity") continue;
    std::string line = n.name() + " " + n.op();
    for (const auto& in : n.input()) line += " " + resolve(in);
    s.lines.push_back(line);
    if (n.op() == "Const") s.constants[n.name()] = tensor_from_proto(n.attr().at("value").tensor(), n.name());
  }
  std::sort(s.lines.begin(), s.lines.end());
  return s;
}

TEST(Freeze, RegressionEqualsTensorFlowsOwnFrozenGraph) {
  REQUIRE_FIXTURE(meta, "tensorflow-onnx/tests/models/regression/checkpoint/model.meta");
  REQUIRE_FIXTURE(saved, "tensorflow-onnx/tests/models/regression/saved_model");
  REQUIRE_FIXTURE(frozen, "tensorflow-onnx/tests/models/regression/graphdef/frozen.pb");
  Shape expected = shape_of(io::load_model(frozen).graph());
  ASSERT_EQ(expected.constants.size(), 2u);
  FreezeOptions options;
  options.outputs = {"pred"};
  FreezeResult from_meta = freeze_path(meta, options);  // checkpoint found beside the .meta
  Shape got = shape_of(from_meta.graph);
  EXPECT_EQ(got.lines, expected.lines);
  EXPECT_EQ(got.constants, expected.constants);
  EXPECT_EQ(from_meta.report.variables.size(), 2u);
  // The SavedModel: outputs from its signature, variables from variables/.
  FreezeResult from_saved = freeze_path(saved);
  Shape saved_shape = shape_of(from_saved.graph);
  EXPECT_EQ(saved_shape.lines, expected.lines);
  EXPECT_EQ(saved_shape.constants, expected.constants);
}

TEST(Freeze, CaicloudReproducesCombinedModel) {
  const std::string dir = "unlicensed/caicloud-tensorflow-tutorial/1.0.0rc2/Chapter05/Saved_model/";
  REQUIRE_FIXTURE(meta, dir + "model.ckpt.meta");
  REQUIRE_FIXTURE(combined, dir + "combined_model.pb");
  FreezeOptions options;
  options.outputs = {"add"};
  FreezeResult r = freeze_path(meta, options);
  Shape got = shape_of(r.graph), expected = shape_of(io::load_model(combined).graph());
  EXPECT_EQ(got.lines, expected.lines);
  EXPECT_EQ(got.constants, expected.constants);
  EXPECT_EQ(scalar_const(r.graph, "v1"), 1.0f);
  EXPECT_EQ(scalar_const(r.graph, "v2"), 2.0f);
}

TEST(Freeze, MovingAveragesTakeTheShadowValues) {
  REQUIRE_FIXTURE(model2, "unlicensed/caicloud-tensorflow-tutorial/1.0.0rc2/Chapter05/Saved_model/model2.ckpt.meta");
  FreezeOptions raw;
  raw.outputs = {"v"};
  FreezeResult plain = freeze_path(model2, raw);
  EXPECT_EQ(scalar_const(plain.graph, "v"), 10.0f);
  bool hinted = false;
  for (const auto& n : plain.report.notes) hinted |= n.find("--use-moving-averages") != std::string::npos;
  EXPECT_TRUE(hinted);
  FreezeOptions ema = raw;
  ema.use_moving_averages = true;
  FreezeResult averaged = freeze_path(model2, ema);
  EXPECT_EQ(scalar_const(averaged.graph, "v"), 0.099999905f);
  ASSERT_EQ(averaged.report.variables.size(), 1u);
  EXPECT_TRUE(averaged.report.variables[0].moving_average);

  REQUIRE_FIXTURE(p3, "unlicensed/yuezxl-learn_backup/python/project/tensorflow/data/test/model/persistant-3-model.ckpt.meta");
  EXPECT_EQ(scalar_const(freeze_path(p3, raw).graph, "v"), 10.0f);
  EXPECT_NEAR(scalar_const(freeze_path(p3, ema).graph, "v"), 2.08f, 1e-6);

  // A name other than the default, as ExponentialMovingAverage(name=...) would produce: none.
  FreezeOptions other = ema;
  other.moving_average_name = "MyAverage";
  try {
    freeze_path(model2, other);
    FAIL() << "expected exit 4";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("no variable has a 'MyAverage' shadow"), std::string::npos) << e.what();
  }
}

TEST(Freeze, MnistLayersWithAndWithoutAverages) {
  REQUIRE_FIXTURE(meta, "unlicensed/caicloud-tensorflow-tutorial/1.4.0/Chapter05/MNIST_model/mnist_model-29001.meta");
  io::Model model = io::load_model(meta);
  auto ckpt = io::checkpoint::open_checkpoint(default_checkpoint_for(model));
  FreezeOptions options;
  options.outputs = {"layer2/add"};
  FreezeResult plain = freeze_model(model, ckpt.get(), options);
  options.use_moving_averages = true;
  FreezeResult averaged = freeze_model(model, ckpt.get(), options);
  for (const char* v : {"layer1/weights", "layer1/biases", "layer2/weights", "layer2/biases"}) {
    EXPECT_EQ(const_value(plain.graph, v), ckpt->read(v)) << v;
    EXPECT_EQ(const_value(averaged.graph, v), ckpt->read(std::string(v) + "/ExponentialMovingAverage")) << v;
  }
  EXPECT_EQ(averaged.report.variables.size(), 4u);
  EXPECT_TRUE(averaged.report.variables_without_average.empty());
  EXPECT_EQ(averaged.report.inputs, (std::vector<std::string>{"x-input"}));
}

TEST(Freeze, EveryHalfPlusTwoVariant) {
  struct Case {
    std::string path;
    std::vector<std::string> outputs;
    std::map<std::string, float> constants;
  };
  const std::map<std::string, float> ab = {{"a", 0.5f}, {"b", 2.0f}};
  std::vector<Case> cases = {
      {"tensorflow-serving/tensorflow_serving/session_bundle/testdata/half_plus_two/00000123/export.meta", {}, ab},  // V1
      {kServing + "bad_half_plus_two/00000123/export.meta", {}, {{"Variable", 0.5f}, {"Variable_1", 2.0f}}},  // LEGACY V1
  };
  for (const char* dir : {"saved_model_half_plus_two_2_versions", "saved_model_half_plus_two_cpu",
                          "saved_model_half_plus_two_cpu_with_saved_model_config", "saved_model_half_plus_two_gpu",
                          "saved_model_half_plus_two_gpu_trt", "saved_model_half_plus_two_mkl", "saved_model_half_plus_two_mlmd"}) {
    cases.push_back({kServing + dir + "/00000123", {}, ab});
    cases.push_back({kServing + dir + "/00000123", {"y2"}, {{"a", 0.5f}, {"c", 3.0f}}});
  }
  for (const auto& c : cases) {
    REQUIRE_FIXTURE(path, c.path);
    SCOPED_TRACE(path + (c.outputs.empty() ? "" : " --outputs y2"));
    FreezeOptions options;
    options.outputs = c.outputs;
    FreezeResult r = freeze_path(path, options);
    for (const auto& [name, value] : c.constants) EXPECT_EQ(scalar_const(r.graph, name), value) << name;
    for (const auto& n : r.graph.node()) {
      EXPECT_NE(n.op(), "VariableV2");
      EXPECT_NE(n.op(), "VarHandleOp");
      EXPECT_NE(n.op(), "ReadVariableOp");
      for (const auto& [k, v] : n.attr()) EXPECT_FALSE(v.value_case() == tf::AttrValue::kType && is_ref_type(v.type())) << n.name();
    }
  }
}

TEST(Freeze, StatefulOutputsAreRefused) {
  REQUIRE_FIXTURE(counter, kServing + "saved_model_counter/00000123");
  try {
    freeze_path(counter);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("a state change"), std::string::npos) << e.what();
  }
}

TEST(Freeze, WordCnnWithIsTrainingSetAndAGeneratedCheckpoint) {
  REQUIRE_FIXTURE(meta, "scisharp-tensorflow-net/graph/word_cnn_untrained.meta");
  io::Model model = io::load_model(meta);
  // The fixture has no checkpoint: write one (seeded random values) with our writer.
  const std::string prefix = test::temp_dir() + "/word_cnn.ckpt";
  io::checkpoint::write_random_checkpoint(model.graph(), prefix, 1, [](const std::string& name) {
    return name.find("Adam") == std::string::npos && name.find("beta") == std::string::npos;
  });
  auto ckpt = io::checkpoint::open_checkpoint(prefix);
  FreezeOptions options;
  options.outputs = {"output/ArgMax"};
  options.set_values = {{"is_training", "false"}};
  FreezeResult r = freeze_model(model, ckpt.get(), options);
  EXPECT_TRUE(graph::validate_graph(r.graph).empty());
  for (const auto& n : r.graph.node()) {
    EXPECT_FALSE(n.op().rfind("Apply", 0) == 0) << n.name();
    EXPECT_NE(n.op(), "SaveV2");
    EXPECT_NE(n.op(), "RestoreV2");
    EXPECT_NE(n.op(), "VariableV2");
    EXPECT_NE(n.name().rfind("save/", 0), 0u) << n.name();
  }
  const tf::NodeDef* flag = node_named(r.graph, "is_training");
  ASSERT_NE(flag, nullptr);  // the dropout's cond needs it
  EXPECT_EQ(flag->op(), "Const");
  EXPECT_FALSE(r.report.training_ops.count("training_flags"));
  EXPECT_FALSE(r.report.training_ops.count("optimizer"));
  EXPECT_FALSE(r.report.training_ops.count("saver"));
  // The dropout itself is still there (dead under is_training=false), with its remedy named.
  ASSERT_TRUE(r.report.training_ops.count("dropout"));
  EXPECT_NE(r.report.training_hints.at("dropout").find("strip_training_ops"), std::string::npos);
  EXPECT_EQ(r.report.inputs, (std::vector<std::string>{"x"}));
  EXPECT_LT(r.report.nodes_after, r.report.nodes_before / 2);
}

TEST(Freeze, QueueInputsBecomePlaceholders) {
  REQUIRE_FIXTURE(q1, "openvino/models_pbtxt/model_with_queue_ops.pbtxt");
  FreezeOptions a;
  a.outputs = {"sub"};
  a.replace_inputs = {"batch_join:0=float32[-1,224,224,3]", "batch_join:1=float32[-1,224,224,3]"};  // any order works
  FreezeResult r1 = freeze_path(q1, a);
  EXPECT_EQ(r1.report.inputs, (std::vector<std::string>{"batch_join", "batch_join_1"}));
  for (const auto& n : r1.graph.node()) EXPECT_EQ(n.op().find("Queue"), std::string::npos) << n.name();
  EXPECT_TRUE(r1.report.training_ops.empty());
  REQUIRE_FIXTURE(q2, "openvino/models_pbtxt/model_with_queue_ops2.pbtxt");
  FreezeOptions b;
  b.outputs = {"sub"};
  b.replace_inputs = {"fifo_queue_Dequeue:1=float32[1,224,224,3]"};
  FreezeResult r2 = freeze_path(q2, b);
  const tf::NodeDef* input = node_named(r2.graph, "fifo_queue_Dequeue_1");
  ASSERT_NE(input, nullptr);
  EXPECT_EQ(input->op(), "Placeholder");
  EXPECT_EQ(shape_string(input->attr().at("shape").shape()), "[1,224,224,3]");
  EXPECT_EQ(r2.graph.node_size(), 3);  // placeholder, img_mean, sub
}

TEST(Freeze, ClearErrors) {
  REQUIRE_FIXTURE(meta, "tensorflow-onnx/tests/models/regression/checkpoint/model.meta");
  auto expect_error = [&](const std::function<void()>& f, ExitCode code, const std::string& fragment) {
    try {
      f();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  };
  FreezeOptions missing_output;
  missing_output.outputs = {"nope"};
  expect_error([&] { freeze_path(meta, missing_output); }, ExitCode::kBadInput, "output 'nope' is not a node of the graph");
  // A checkpoint without W, and one where W has the wrong shape.
  const std::string dir = test::temp_dir();
  {
    io::checkpoint::BundleWriter w(dir + "/no_w");
    w.add("b", Tensor{tf::DT_FLOAT, {}, std::string(4, '\0'), {}});
    w.finish();
    io::checkpoint::BundleWriter v(dir + "/bad_shape");
    v.add("W", Tensor{tf::DT_FLOAT, {2}, std::string(8, '\0'), {}});
    v.add("b", Tensor{tf::DT_FLOAT, {}, std::string(4, '\0'), {}});
    v.finish();
  }
  FreezeOptions pred;
  pred.outputs = {"pred"};
  expect_error([&] { freeze_path(meta, pred, dir + "/no_w"); }, ExitCode::kBadInput, "no tensor 'W' for variable 'W'");
  expect_error([&] { freeze_path(meta, pred, dir + "/bad_shape"); }, ExitCode::kBadInput,
               "shape mismatch for variable 'W': the graph says [], checkpoint tensor 'W' is [2]");
  FreezeOptions bad_set = pred;
  bad_set.set_values = {{"X", "abc"}};
  expect_error([&] { freeze_path(meta, bad_set); }, ExitCode::kUsage, "not a number");
  REQUIRE_FIXTURE(example1, "scisharp-tensorflow-net/test/TensorFlowNET.UnitTest/Utilities/models/example1");
  auto r = test::run_cli({"freeze", example1, "-o", dir + "/out.pb"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("SavedModel has variables but no variables/ directory"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.pb"));
}

TEST(FreezeCli, WritesAValidGraphAndAReport) {
  REQUIRE_FIXTURE(meta, "tensorflow-onnx/tests/models/regression/checkpoint/model.meta");
  const std::string dir = test::temp_dir();
  auto r = test::run_cli({"freeze", meta, "--outputs", "pred", "-o", dir + "/frozen.pb", "--report", dir + "/report.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("froze 2 variables"), std::string::npos) << r.out;
  EXPECT_EQ(test::run_cli({"validate", dir + "/frozen.pb"}).exit_code, 0);
  std::string report = test::read_bytes(dir + "/report.json");
  EXPECT_NE(report.find("\"checkpoint_key\": \"W\""), std::string::npos) << report;
  auto self = test::run_cli({"freeze", meta, "--outputs", "pred", "-o", meta});
  EXPECT_EQ(self.exit_code, 2);  // never overwrites an input
}

}  // namespace
}  // namespace tffreeze::freeze

namespace tffreeze::freeze {
namespace {

tf::NodeDef* add(tf::GraphDef* g, const std::string& name, const std::string& op, std::vector<std::string> inputs = {}) {
  auto* n = g->add_node();
  n->set_name(name);
  n->set_op(op);
  for (auto& i : inputs) n->add_input(i);
  return n;
}

void string_const(tf::GraphDef* g, const std::string& name, std::vector<std::string> values) {
  auto* n = add(g, name, "Const");
  (*n->mutable_attr())["dtype"].set_type(tf::DT_STRING);
  auto* t = (*n->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tf::DT_STRING);
  t->mutable_tensor_shape()->add_dim()->set_size(static_cast<long long>(values.size()));
  for (auto& v : values) t->add_string_val(v);
}

tf::NodeDef* variable(tf::GraphDef* g, const std::string& name, const std::string& op, std::vector<long long> shape) {
  auto* v = add(g, name, op);
  (*v->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  for (auto d : shape) (*v->mutable_attr())["shape"].mutable_shape()->add_dim()->set_size(d);
  return v;
}

void write_checkpoint(const std::string& prefix, const std::vector<std::pair<std::string, Tensor>>& tensors) {
  io::checkpoint::BundleWriter writer(prefix);
  for (const auto& [name, t] : tensors) writer.add(name, t);
  writer.finish();
}

Tensor iota(std::vector<std::int64_t> shape) {
  Tensor t{tf::DT_FLOAT, shape, {}, {}};
  t.bytes.resize(static_cast<std::size_t>(t.num_elements()) * 4);
  for (std::int64_t i = 0; i < t.num_elements(); ++i) {
    float f = static_cast<float>(i);
    std::memcpy(t.bytes.data() + 4 * i, &f, 4);
  }
  return t;
}

TEST(Freeze, PartitionedVariableTakesItsSliceOfTheCheckpointTensor) {
  // w [4,3] saved whole; the graph holds it as two partitions restored with slice specs, the
  // way tf.compat.v1 partitioned variables are saved.
  tf::GraphDef g;
  variable(&g, "w/part_0", "VariableV2", {2, 3});
  variable(&g, "w/part_1", "VariableV2", {2, 3});
  string_const(&g, "save/Const", {"model"});
  string_const(&g, "save/RestoreV2/tensor_names", {"w", "w"});
  string_const(&g, "save/RestoreV2/shape_and_slices", {"4 3 0,2:-", "4 3 2,2:-"});
  auto* restore = add(&g, "save/RestoreV2", "RestoreV2", {"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"});
  (*restore->mutable_attr())["dtypes"].mutable_list()->add_type(tf::DT_FLOAT);
  (*restore->mutable_attr())["dtypes"].mutable_list()->add_type(tf::DT_FLOAT);
  (*add(&g, "save/Assign", "Assign", {"w/part_0", "save/RestoreV2"})->mutable_attr())["T"].set_type(tf::DT_FLOAT);
  (*add(&g, "save/Assign_1", "Assign", {"w/part_1", "save/RestoreV2:1"})->mutable_attr())["T"].set_type(tf::DT_FLOAT);
  auto* axis = add(&g, "axis", "Const");
  (*axis->mutable_attr())["dtype"].set_type(tf::DT_INT32);
  (*axis->mutable_attr())["value"].mutable_tensor()->set_dtype(tf::DT_INT32);
  (*axis->mutable_attr())["value"].mutable_tensor()->add_int_val(0);
  auto* concat = add(&g, "w/concat", "ConcatV2", {"w/part_0", "w/part_1", "axis"});
  (*concat->mutable_attr())["T"].set_type(tf::DT_FLOAT);
  (*concat->mutable_attr())["N"].set_i(2);
  const std::string prefix = test::temp_dir() + "/ckpt";
  write_checkpoint(prefix, {{"w", iota({4, 3})}});
  io::Model model;
  model.path = "partitioned";
  *model.mutable_graph() = g;
  auto ckpt = io::checkpoint::open_checkpoint(prefix);
  FreezeOptions options;
  options.outputs = {"w/concat"};
  FreezeResult r = freeze_model(model, ckpt.get(), options);
  Tensor whole = iota({4, 3});
  Tensor first = const_value(r.graph, "w/part_0"), second = const_value(r.graph, "w/part_1");
  EXPECT_EQ(first.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(first.bytes, whole.bytes.substr(0, 24));
  EXPECT_EQ(second.bytes, whole.bytes.substr(24));
  EXPECT_EQ(r.report.variables[0].checkpoint_key, "w");
}

TEST(Freeze, ResourceVariableReadersBecomePlainOps) {
  tf::GraphDef g;
  auto* handle = variable(&g, "emb", "VarHandleOp", {4, 3});
  (*handle->mutable_attr())["shared_name"].set_s("embedding");  // the checkpoint key
  auto* ids = add(&g, "ids", "Const");
  (*ids->mutable_attr())["dtype"].set_type(tf::DT_INT32);
  auto* idt = (*ids->mutable_attr())["value"].mutable_tensor();
  idt->set_dtype(tf::DT_INT32);
  idt->mutable_tensor_shape()->add_dim()->set_size(2);
  idt->add_int_val(3);
  idt->add_int_val(1);
  auto* gather = add(&g, "lookup", "ResourceGather", {"emb", "ids"});
  (*gather->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  (*gather->mutable_attr())["Tindices"].set_type(tf::DT_INT32);
  auto* read = add(&g, "emb/Read", "ReadVariableOp", {"emb"});
  (*read->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  auto* shape = add(&g, "emb/Shape", "VariableShape", {"emb"});
  (*shape->mutable_attr())["out_type"].set_type(tf::DT_INT32);
  const std::string prefix = test::temp_dir() + "/ckpt";
  write_checkpoint(prefix, {{"embedding", iota({4, 3})}});
  io::Model model;
  model.path = "resource";
  *model.mutable_graph() = g;
  auto ckpt = io::checkpoint::open_checkpoint(prefix);
  FreezeOptions options;
  options.outputs = {"lookup", "emb/Read", "emb/Shape"};
  FreezeResult r = freeze_model(model, ckpt.get(), options);
  EXPECT_EQ(const_value(r.graph, "emb"), iota({4, 3}));
  EXPECT_EQ(node_named(r.graph, "lookup")->op(), "GatherV2");
  EXPECT_EQ(node_named(r.graph, "lookup")->input(2), "lookup/axis");
  EXPECT_EQ(node_named(r.graph, "emb/Read")->op(), "Identity");
  EXPECT_EQ(node_named(r.graph, "emb/Shape")->op(), "Shape");
  EXPECT_EQ(node_named(r.graph, "emb/Shape")->attr().at("T").type(), tf::DT_FLOAT);
  EXPECT_TRUE(graph::validate_graph(r.graph).empty());
}

}  // namespace
}  // namespace tffreeze::freeze
