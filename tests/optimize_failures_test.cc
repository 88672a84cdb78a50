// Real-model failures of `optimize` and their guarantees: fresh names for every node a pass adds,
// --shape fixing a placeholder for every pass, exit 5 for a pass that breaks a graph (never the
// user's file to blame), refusals that name every op the proof cannot run and the way out, and
// output formats the writer does not know refused up front.
#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "graph/validate.h"
#include "io/model.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "support.h"

namespace tffreeze {
namespace {

// tf2onnx's static GRU and LSTM: `optimize --target opencv` ended with "duplicate node name
// 'model/Reshape/shape/1/for_model/Reshape/shape'" (a Pack reading one constant twice) and exit 3.
TEST(OptimizeFailures, TargetOpencvOnTf2onnxRnnsWritesAValidGraph) {
  for (const char* name : {"gru", "lstm"}) {
    REQUIRE_FIXTURE(path, std::string("tensorflow-onnx/tests/models/") + name + "/frozen.pb");
    const std::string dir = test::temp_dir();
    auto r = test::run_cli({"optimize", path, "--target", "opencv", "--outputs", "output", "-o", dir + "/o.pb"});
    if (std::string(name) == "gru") {  // its input has an unknown rank: the proof says what it needs
      EXPECT_EQ(r.exit_code, 4) << r.err;
      EXPECT_NE(r.err.find("(inputs of unknown shape: X; give them with --shape NAME=[...])"), std::string::npos) << r.err;
      r = test::run_cli({"optimize", path, "--target", "opencv", "--outputs", "output", "--shape", "X=[1,784]", "-o", dir + "/o.pb"});
    }
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    if (r.exit_code == 0) EXPECT_EQ(graph::validate_graph(io::load_model(dir + "/o.pb").graph()), std::vector<std::string>{});
  }
}

// --shape fixes the input's shape in the graph, so the shape-dependent passes fire: the batch
// size folds, Unpack becomes Split, and the written graph has the fixed placeholder.
TEST(OptimizeFailures, ShapeFixesThePlaceholderForEveryPass) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/lstm/frozen.pb");
  const std::string dir = test::temp_dir();
  auto r = test::run_cli({"optimize", path, "--target", "opencv", "--outputs", "output", "--shape", "X=[1,784]", "-o", dir + "/o.pb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  io::Model m = io::load_model(dir + "/o.pb");
  int unpack = 0, shape_ops = 0;
  for (const auto& n : m.graph().node()) {
    unpack += n.op() == "Unpack";
    shape_ops += n.op() == "Shape";
    if (n.name() != "X") continue;
    ASSERT_EQ(n.attr().at("shape").shape().dim_size(), 2);
    EXPECT_EQ(n.attr().at("shape").shape().dim(0).size(), 1);
    EXPECT_EQ(n.attr().at("shape").shape().dim(1).size(), 784);
  }
  EXPECT_EQ(unpack, 0);
  EXPECT_EQ(shape_ops, 0);
  EXPECT_EQ(test::run_cli({"check", dir + "/o.pb", "--target", "opencv"}).exit_code, 0);
  // A shape that contradicts the placeholder's is a usage error, and names the input.
  auto bad = test::run_cli({"optimize", path, "--outputs", "output", "--shape", "X=[1,783]", "-o", dir + "/bad.pb"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--shape X=[1,783]"), std::string::npos) << bad.err;
}

tf::GraphDef pack_reading_one_constant_twice() {
  tf::GraphDef g;
  test::add_const(&g, "c", {1.5f}, {});
  test::add_placeholder(&g, "x", {});
  auto* pack = test::add_node(&g, "p", "Pack", {"c", "c", "x"});
  (*pack->mutable_attr())["N"].set_i(3);
  (*pack->mutable_attr())["axis"].set_i(0);
  return g;
}

TEST(OptimizeFailures, UnshareConstantsGivesEveryCopyAFreshName) {
  tf::GraphDef g = pack_reading_one_constant_twice();
  tf::GraphDef before = g;
  passes::PassContext ctx;
  ctx.outputs = {"p"};
  auto steps = passes::run_pipeline(&g, passes::parse_pipeline("unshare_constants"), ctx);
  EXPECT_EQ(steps[0].report.changed, 2);
  EXPECT_EQ(graph::validate_graph(g), std::vector<std::string>{});
  const auto& p = g.node(2);
  EXPECT_NE(p.input(0), p.input(1));
  EXPECT_NE(p.input(0), "c");
  Tensor x{tf::DT_FLOAT, {}, std::string(4, '\0'), {}};
  auto a = runtime::Executor(before).run({{"x", x}}, {"p"})[0];
  auto b = runtime::Executor(g).run({{"x", x}}, {"p"})[0];
  EXPECT_EQ(a.bytes, b.bytes);
  // Where it must not fire: a constant read once.
  tf::GraphDef once;
  test::add_const(&once, "c", {1.5f}, {});
  auto* pack = test::add_node(&once, "p", "Pack", {"c"});
  (*pack->mutable_attr())["N"].set_i(1);
  EXPECT_EQ(passes::run_pipeline(&once, passes::parse_pipeline("unshare_constants"), ctx)[0].report.changed, 0);
}

// A pass that breaks the graph is a bug of tffreeze: exit 5, naming the pass and the node.
passes::PassReport duplicating_pass(tf::GraphDef* graph, const passes::PassContext&) {
  *graph->add_node() = graph->node(0);
  return {1, {}};
}
passes::PassReport harmless_pass(tf::GraphDef*, const passes::PassContext&) { return {}; }

TEST(OptimizeFailures, APassThatBreaksTheGraphIsAnInternalError) {
  passes::PassRegistry registry;
  registry.add("duplicating_pass", duplicating_pass, "adds a copy of the first node under its name");
  registry.add("harmless_pass", harmless_pass, "changes nothing");
  tf::GraphDef g = pack_reading_one_constant_twice();
  passes::PassContext ctx;
  ctx.outputs = {"p"};
  try {
    passes::run_pipeline(&g, {{"harmless_pass", {}}, {"duplicating_pass", {}}}, ctx, registry);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInternal);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("internal error: pass 'duplicating_pass' produced an invalid graph"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'c'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("please report"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
  // A problem the input already had is not the pass's.
  tf::GraphDef broken = pack_reading_one_constant_twice();
  broken.mutable_node(2)->add_input("missing");
  EXPECT_NO_THROW(passes::run_pipeline(&broken, {{"harmless_pass", {}}}, ctx, registry));
}

// ...and at the command line such an input is the user's: exit 3, not 5.
TEST(OptimizeFailures, AnInvalidInputIsBadInputNotInternal) {
  tf::GraphDef broken = pack_reading_one_constant_twice();
  broken.mutable_node(2)->add_input("missing");
  const std::string dir = test::temp_dir();
  io::save_graph(broken, dir + "/broken.pbtxt");
  auto r = test::run_cli({"optimize", dir + "/broken.pbtxt", "--outputs", "p", "-o", dir + "/o.pb"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("broken.pbtxt: the graph is invalid"), std::string::npos) << r.err;
}

// Ops the executor cannot run: every one named at once, with the way out; nothing written. With
// --no-verify the graph is written, unproven.
TEST(OptimizeFailures, RefusalNamesEveryOpWithoutKernelAndTheWayOut) {
  tf::GraphDef g;
  test::add_placeholder(&g, "x", {2});
  test::add_node(&g, "a", "MysteryOpA", {"x"});
  test::add_node(&g, "b", "MysteryOpB", {"a"});
  test::add_node(&g, "b2", "MysteryOpB", {"b"});
  test::add_node(&g, "y", "Relu", {"b2"});
  const std::string dir = test::temp_dir();
  io::save_graph(g, dir + "/g.pbtxt");
  auto r = test::run_cli({"optimize", dir + "/g.pbtxt", "--outputs", "y", "-o", dir + "/o.pb"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("no kernel for MysteryOpA (1 node: 'a'), MysteryOpB (2 nodes, e.g. 'b')"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--no-verify writes it unproven"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/o.pb"));
  auto unproven = test::run_cli({"optimize", dir + "/g.pbtxt", "--outputs", "y", "--no-verify", "-o", dir + "/o.pb"});
  EXPECT_EQ(unproven.exit_code, 0) << unproven.err;
  EXPECT_TRUE(std::filesystem::exists(dir + "/o.pb"));
  // A user can ask beforehand: inspect names the model's ops without a kernel, ops lists all kernels.
  auto inspect = test::run_cli({"inspect", dir + "/g.pbtxt", "--json"});
  ASSERT_EQ(inspect.exit_code, 0);
  auto summary = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(summary["ops_without_kernel"], nlohmann::json({{"MysteryOpA", 1}, {"MysteryOpB", 2}}));
  EXPECT_NE(test::run_cli({"inspect", dir + "/g.pbtxt"}).out.find("executor:  no kernel for MysteryOpA (1) MysteryOpB (2)"), std::string::npos);
  auto ops = test::run_cli({"ops"});
  EXPECT_EQ(ops.exit_code, 0);
  EXPECT_NE(ops.out.find("\nRelu\n"), std::string::npos);
  EXPECT_EQ(ops.out.find("MysteryOpA"), std::string::npos);
}

// A graph must not be written under a name that says another format.
TEST(OptimizeFailures, OutputExtensionsTheWriterDoesNotKnowAreRefused) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/fc-layers/frozen.pb");
  const std::string dir = test::temp_dir();
  for (const std::vector<std::string>& args : {std::vector<std::string>{"convert", path, dir + "/model.tflite"},
                                               {"freeze", path, "-o", dir + "/model.uff"},
                                               {"optimize", path, "-o", dir + "/model.h5"},
                                               {"convert", path, dir + "/model"}}) {
    auto r = test::run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("known: .pb"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(args.back()));
  }
  EXPECT_EQ(test::run_cli({"convert", path, dir + "/model.pb"}).exit_code, 0);
}

// check says whether its verdict was measured against the runtime or comes from a published list.
TEST(OptimizeFailures, CheckSaysHowItsVerdictWasEstablished) {
  REQUIRE_FIXTURE(path, "tensorflow-onnx/tests/models/fc-layers/frozen.pb");
  auto opencv = test::run_cli({"check", path, "--target", "opencv"});
  EXPECT_NE(opencv.out.find("measured against OpenCV 4.6"), std::string::npos) << opencv.out;
  for (const char* target : {"tflite", "tensorrt"}) {
    auto r = test::run_cli({"check", path, "--target", target});
    EXPECT_NE(r.out.find("published"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not measured"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace tffreeze
