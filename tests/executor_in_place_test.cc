// The executor computes in place: an element-wise node writes into its input's buffer when no
// one reads that input afterwards, and never when someone does (a fetch, a second reader, a
// node reading it twice, a constant). Buffers are followed by address through the observer.
// Element-wise and reduction kernels split their work over the OpenMP threads with the same
// bits as on one thread.
#include <omp.h>

#include <map>

#include "graph/builder.h"
#include "runtime/executor.h"
#include "runtime/verify.h"
#include "support.h"

namespace tffreeze {
namespace {

using graph::GraphBuilder;

// Runs `graph`, returning the outputs and the buffer address of every node's output 0.
std::vector<Tensor> run_watching(const tf::GraphDef& graph, const std::vector<std::string>& fetches, std::map<std::string, const void*>* buffers) {
  runtime::Executor executor(graph);
  executor.set_observer([&](const tf::NodeDef& node, int k, const Tensor& t) {
    if (k == 0) (*buffers)[node.name()] = t.bytes.data();
  });
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(graph, fetches), {}, 3);
  return executor.run(feeds, fetches);
}

// x -> scaled -> relu -> biased -> sigmoid, 64 KiB per tensor.
GraphBuilder chain() {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {4, 64, 64});
  b.node("scaled", "Mul", {"x", b.scalar("two", 2)});
  b.node("relu", "Relu", {"scaled"});
  b.node("biased", "BiasAdd", {"relu", b.random_constant("bias", {64})});
  b.node("sigmoid", "Sigmoid", {"biased"});
  return b;
}

TEST(ExecutorInPlace, ElementwiseChainUsesOneBuffer) {
  GraphBuilder b = chain();
  std::map<std::string, const void*> at;
  auto out = run_watching(b.graph(), {"sigmoid"}, &at);
  EXPECT_EQ(at["relu"], at["scaled"]);
  EXPECT_EQ(at["biased"], at["scaled"]);
  EXPECT_EQ(at["sigmoid"], at["scaled"]);
  EXPECT_NE(at["scaled"], at["x"]) << "a fed input is the caller's: never overwritten";
  // The values are those of the same graph run with every intermediate fetched (nothing reused).
  std::map<std::string, const void*> unused;
  auto all = run_watching(b.graph(), {"sigmoid", "scaled", "relu", "biased"}, &unused);
  EXPECT_TRUE(runtime::compare_tensors(out[0], all[0], 0, 0).within_tolerance);
}

TEST(ExecutorInPlace, ReadValuesAreNeverOverwritten) {
  GraphBuilder b = chain();
  b.node("relu_again", "Tanh", {"relu"});  // a second reader of relu
  b.node("square", "Mul", {"sigmoid", "sigmoid"});  // one node reading a value twice
  std::map<std::string, const void*> at;
  auto out = run_watching(b.graph(), {"square", "relu_again", "scaled"}, &at);
  EXPECT_NE(at["relu"], at["scaled"]) << "scaled is fetched";
  EXPECT_FALSE(at["biased"] == at["relu"] && at["relu_again"] == at["relu"]) << "only relu's last reader may take its buffer";
  EXPECT_NE(at["square"], at["sigmoid"]) << "square reads sigmoid twice";
  // Every value is what a run that can reuse nothing gives (every intermediate fetched).
  std::map<std::string, const void*> unused;
  auto all = run_watching(b.graph(), {"square", "relu_again", "scaled", "relu", "biased", "sigmoid"}, &unused);
  for (std::size_t k = 0; k < out.size(); ++k) EXPECT_TRUE(out[k] == all[k]) << "output " << k;
}

TEST(ExecutorInPlace, ConstantsAreNotOverwritten) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {64, 64});
  const std::string w = b.random_constant("w", {64, 64});
  b.node("first", "Add", {w, "x"});
  b.node("second", "Add", {w, "first"});
  runtime::Executor executor(b.graph());
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(b.graph(), {"second"}), {}, 3);
  auto once = executor.run(feeds, {"second"});
  auto twice = executor.run(feeds, {"second"});  // the constant is cached across runs
  EXPECT_TRUE(runtime::compare_tensors(once[0], twice[0], 0, 0).within_tolerance);
}

// A graph whose weights come first, as exported graphs list them: each is decoded just before
// its first reader runs, not all of them at the start.
TEST(ExecutorConstants, DecodedJustBeforeTheirReader) {
  GraphBuilder b;
  const std::string w1 = b.random_constant("w1", {16, 16}), w2 = b.random_constant("w2", {16, 16});
  b.placeholder("x", tf::DT_FLOAT, {16, 16});
  b.node("a", "MatMul", {"x", w1});
  b.node("b", "MatMul", {"a", w2});
  runtime::Executor executor(b.graph());
  std::vector<std::string> seen;
  executor.set_observer([&](const tf::NodeDef& node, int, const Tensor&) { seen.push_back(node.name()); });
  executor.run(runtime::random_feeds(runtime::needed_placeholders(b.graph(), {"b"}), {}, 3), {"b"});
  EXPECT_EQ(seen, (std::vector<std::string>{"x", w1, "a", w2, "b"}));
}

// Not kept (the proof's single run), a constant is released after its last reader like any
// value: that reader may even take its buffer. Every run decodes it afresh, to the same values.
TEST(ExecutorConstants, NotKeptTheyAreReleasedAfterTheirLastReader) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {64, 64});
  const std::string w = b.random_constant("w", {64, 64});
  b.node("sum", "AddV2", {w, "x"});
  b.node("out", "Tanh", {"sum"});
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(b.graph(), {"out"}), {}, 3);
  std::map<std::string, const void*> at;
  runtime::Executor executor(b.graph());
  executor.set_keep_constants(false);
  executor.set_observer([&](const tf::NodeDef& node, int k, const Tensor& t) {
    if (k == 0) at[node.name()] = t.bytes.data();
  });
  auto once = executor.run(feeds, {"out"});
  EXPECT_EQ(at["sum"], at[w]) << "the constant's only reader took its buffer: nothing else held it";
  auto twice = executor.run(feeds, {"out"});
  runtime::Executor kept(b.graph());
  auto reference = kept.run(feeds, {"out"});
  EXPECT_TRUE(once[0] == reference[0]);
  EXPECT_TRUE(twice[0] == reference[0]);
}

// Large enough for every kernel below to split its loop over the threads.
TEST(ExecutorThreads, SameBitsOnOneAndTwoThreads) {
  GraphBuilder b;
  b.placeholder("x", tf::DT_FLOAT, {8, 128, 128});
  b.node("scaled", "Mul", {"x", b.scalar("three", 3)});
  b.node("channel", "AddV2", {"scaled", b.random_constant("per_channel", {128})});  // broadcast along the last axis
  b.node("rows", "Mul", {b.random_constant("per_row", {128, 1}), "channel"});        // a general broadcast
  b.node("biased", "BiasAdd", {"rows", b.random_constant("bias", {128})});
  b.node("relu6", "Relu6", {"biased"});
  b.node("sigmoid", "Sigmoid", {"relu6"});
  b.node("sum", "Sum", {"sigmoid", b.ints("axis1", {1})});
  b.node("mean", "Mean", {"channel", b.ints("axes", {0, 2})});
  b.node("max", "Max", {"rows", b.ints("axis2", {2})});
  const std::vector<std::string> fetches = {"sigmoid", "sum", "mean", "max"};
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(b.graph(), fetches), {}, 5);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  auto one = runtime::Executor(b.graph()).run(feeds, fetches);
  omp_set_num_threads(2);
  auto two = runtime::Executor(b.graph()).run(feeds, fetches);
  omp_set_num_threads(threads);
  for (std::size_t k = 0; k < fetches.size(); ++k) EXPECT_TRUE(one[k] == two[k]) << fetches[k];
}

}  // namespace
}  // namespace tffreeze
