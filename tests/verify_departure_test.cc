// When two graphs disagree, verify and optimize's proof name the first tensor, in the candidate's
// execution order, that departs from the reference's tensor of the same name: where a transform
// went wrong. Found where it must be, past renamed tensors, and nowhere for equal graphs.
#include "graph/builder.h"
#include "io/proto_io.h"
#include "runtime/verify.h"
#include "support.h"

namespace tffreeze {
namespace {

using graph::GraphBuilder;

// x -> a = relu(x) -> b = a * factor -> c = b + 1 -> out = tanh(c); `b_name` names the product.
tf::GraphDef chain(float factor, const std::string& b_name = "b") {
  GraphBuilder g;
  g.placeholder("x", tf::DT_FLOAT, {3, 5});
  g.node("a", "Relu", {"x"});
  g.node(b_name, "Mul", {"a", g.scalar("factor", factor)});
  g.node("c", "AddV2", {b_name, g.scalar("one", 1)});
  g.node("out", "Tanh", {"c"});
  return g.graph();
}

std::optional<runtime::Departure> departure(const tf::GraphDef& reference, const tf::GraphDef& candidate) {
  auto feeds = runtime::random_feeds(runtime::needed_placeholders(reference, {"out"}), {}, 1);
  return runtime::first_departure(reference, candidate, {"out"}, feeds, 1e-5, 1e-5);
}

TEST(FirstDeparture, NamesTheFirstTensorThatDiffers) {
  auto first = departure(chain(2), chain(3));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->tensor, "b");
  EXPECT_EQ(first->op, "Mul");
  EXPECT_GT(first->difference.max_abs, 0);
}

TEST(FirstDeparture, SkipsTensorsWithoutACounterpart) {
  auto first = departure(chain(2), chain(3, "renamed"));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->tensor, "c");
  EXPECT_EQ(first->op, "AddV2");
}

TEST(FirstDeparture, NoneForEqualGraphs) { EXPECT_FALSE(departure(chain(2), chain(2)).has_value()); }

TEST(FirstDeparture, VerifyCommandSaysWhereTheGraphsPart) {
  const std::string dir = test::temp_dir();
  test::write_bytes(dir + "/reference.pbtxt", io::to_text(chain(2)));
  test::write_bytes(dir + "/candidate.pbtxt", io::to_text(chain(3)));
  auto r = test::run_cli({"verify", dir + "/reference.pbtxt", dir + "/candidate.pbtxt", "--output", "out"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("first departing tensor: b (Mul)"), std::string::npos) << r.out;
  auto same = test::run_cli({"verify", dir + "/reference.pbtxt", dir + "/reference.pbtxt", "--output", "out"});
  EXPECT_EQ(same.exit_code, 0);
  EXPECT_EQ(same.out.find("departing"), std::string::npos) << same.out;
}

}  // namespace
}  // namespace tffreeze
