// Nested v1 while loops (a loop's frame inside another loop's frame, as tf.while_loop inside
// tf.while_loop writes them) in the executor: the inner loop re-enters on every outer
// iteration, with a trip count that depends on the outer loop's variable, and constants reach
// it through a chain of is_constant Enters.
#include <algorithm>
#include <functional>

#include "common/error.h"
#include "freeze/inline_functions.h"
#include "freeze_support.h"
#include "function_builders.h"
#include "runtime/executor.h"

namespace tffreeze {
namespace {

using test::fn_node;
using test::function;

using Term = std::function<std::string(const std::string& k, const std::string& one)>;

tf::NodeDef* float_const(tf::GraphDef* g, const std::string& name, float v, const std::string& control = "") {
  auto* n = test::add_const(g, name, {v}, {});
  if (!control.empty()) n->add_input("^" + control);
  return n;
}

void enter(tf::GraphDef* g, const std::string& name, const std::string& input, const std::string& frame, bool constant) {
  auto* n = test::add_node(g, name, "Enter", {input});
  (*n->mutable_attr())["frame_name"].set_s(frame);
  (*n->mutable_attr())["is_constant"].set_b(constant);
}

// Adds the loop `frame`, acc = sum of term(k, one) over k in [0, limit), as tf.while_loop
// writes it; limit, zero and one are tensors of the enclosing frame. Returns acc's Exit.
std::string add_sum_loop(tf::GraphDef* g, const std::string& frame, const std::string& limit, const std::string& zero, const std::string& one,
                         const Term& term) {
  const std::string p = frame + "/";
  enter(g, p + "enter_k", zero, frame, false);
  enter(g, p + "enter_acc", zero, frame, false);
  enter(g, p + "limit", limit, frame, true);
  enter(g, p + "one", one, frame, true);
  test::add_node(g, p + "merge_k", "Merge", {p + "enter_k", p + "next_k"});
  test::add_node(g, p + "merge_acc", "Merge", {p + "enter_acc", p + "next_acc"});
  test::add_node(g, p + "less", "Less", {p + "merge_k", p + "limit"});
  test::add_node(g, p + "cond", "LoopCond", {p + "less"});
  test::add_node(g, p + "switch_k", "Switch", {p + "merge_k", p + "cond"});
  test::add_node(g, p + "switch_acc", "Switch", {p + "merge_acc", p + "cond"});
  test::add_node(g, p + "exit_acc", "Exit", {p + "switch_acc"});
  test::add_node(g, p + "k", "Identity", {p + "switch_k:1"});
  test::add_node(g, p + "acc", "Identity", {p + "switch_acc:1"});
  const std::string t = term(p + "k", p + "one");
  test::add_node(g, p + "acc_next", "AddV2", {p + "acc", t});
  test::add_node(g, p + "k_next", "AddV2", {p + "k", p + "one"});
  test::add_node(g, p + "next_k", "NextIteration", {p + "k_next"});
  test::add_node(g, p + "next_acc", "NextIteration", {p + "acc_next"});
  return p + "exit_acc";
}

// A loop of `depth` nested loops: level d sums level d + 1 over k_d in [0, k_{d-1}), the
// innermost sums scale * k (scale entered from outside through every frame).
std::string add_nest(tf::GraphDef* g, int level, int depth, const std::string& limit, const std::string& zero, const std::string& one,
                     const std::string& scale) {
  const std::string frame = "loop" + std::to_string(level);
  return add_sum_loop(g, frame, limit, zero, one, [&](const std::string& k, const std::string& inner_one) {
    const std::string in_scale = frame + "/scale";
    enter(g, in_scale, scale, frame, true);  // a constant Enter of the enclosing frame's constant Enter
    if (level + 1 == depth) return test::add_node(g, frame + "/term", "Mul", {k, in_scale})->name();
    const std::string inner_zero = float_const(g, frame + "/zero", 0, k)->name();  // in the frame by its control edge
    return add_nest(g, level + 1, depth, k, inner_zero, inner_one, in_scale);
  });
}

tf::GraphDef nested_sums(int depth, bool reversed) {
  tf::GraphDef g;
  test::add_placeholder(&g, "n", {});
  float_const(&g, "zero", 0);
  float_const(&g, "one", 1);
  float_const(&g, "scale", 3);
  test::add_node(&g, "out", "Identity", {add_nest(&g, 0, depth, "n", "zero", "one", "scale")});
  // The node order of a GraphDef carries no meaning: frames must come out the same either way.
  if (reversed) std::reverse(g.mutable_node()->begin(), g.mutable_node()->end());
  return g;
}

double run_sum(const tf::GraphDef& g, float n) {
  const auto out = runtime::Executor(g).run({{"n", test::values_tensor<float>(tf::DT_FLOAT, {}, {n})}}, {"out"});
  return test::as_doubles(out.at(0)).at(0);
}

double binomial(int n, int k) {
  double r = 1;
  for (int i = 0; i < k; ++i) r = r * (n - i) / (i + 1);
  return n < k ? 0 : r;
}

// sum_{a<n} sum_{b<a} 3b = 3 * C(n, 3), and one level deeper 3 * C(n, 4): the inner loops run
// zero times in the first outer iterations and re-enter on every one.
TEST(NestedLoops, InnerLoopsReenterOnEveryOuterIteration) {
  for (bool reversed : {false, true}) {
    const tf::GraphDef two = nested_sums(2, reversed), three = nested_sums(3, reversed);
    for (int n : {0, 1, 2, 3, 5, 7}) {
      EXPECT_EQ(run_sum(two, static_cast<float>(n)), 3 * binomial(n, 3)) << "two levels, n = " << n << (reversed ? ", reversed" : "");
      EXPECT_EQ(run_sum(three, static_cast<float>(n)), 3 * binomial(n, 4)) << "three levels, n = " << n << (reversed ? ", reversed" : "");
    }
  }
}

// ---- A StatelessWhile in a StatelessWhile's body, lowered by --lower-loops to nested frames ----



tf::NodeDef* typed(tf::NodeDef* n) {
  (*n->mutable_attr())["T"].set_type(tf::DT_FLOAT);
  return n;
}

tf::NodeDef* fn_const(tf::FunctionDef* f, const std::string& name, float v) {
  auto* n = fn_node(f, name, "Const", {});
  (*n->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  tensor_to_proto(test::values_tensor<float>(tf::DT_FLOAT, {}, {v}), (*n->mutable_attr())["value"].mutable_tensor());
  return n;
}

void set_while_attrs(tf::NodeDef* loop, const std::string& prefix) {
  (*loop->mutable_attr())["cond"].mutable_func()->set_name(prefix + "_cond");
  (*loop->mutable_attr())["body"].mutable_func()->set_name(prefix + "_body");
  for (int k = 0; k < 3; ++k) (*loop->mutable_attr())["T"].mutable_list()->add_type(tf::DT_FLOAT);
}

// The cond function of a loop over (k, limit, acc): k < limit.
void cond_function(tf::GraphDef* g, const std::string& prefix) {
  auto* cond = function(g, prefix + "_cond", {"k", "limit", "acc"}, {"go"});
  typed(fn_node(cond, "less", "Less", {"k", "limit"}));
  (*cond->mutable_ret())["go"] = "less:z:0";
}

// outer: acc += inner(i) for i in [0, n); inner(i): the sum of j in [0, i).
tf::GraphDef functional_nested_sum() {
  tf::GraphDef g;
  cond_function(&g, "inner");
  cond_function(&g, "outer");
  auto* inner = function(&g, "inner_body", {"k", "limit", "acc"}, {"k_next", "limit_next", "acc_next"});
  fn_const(inner, "one", 1);
  typed(fn_node(inner, "sum", "AddV2", {"acc", "k"}));
  typed(fn_node(inner, "inc", "AddV2", {"k", "one:output:0"}));
  auto* outer = function(&g, "outer_body", {"k", "limit", "acc"}, {"k_next", "limit_next", "acc_next"});
  fn_const(outer, "one", 1);
  fn_const(outer, "zero", 0);
  set_while_attrs(fn_node(outer, "loop", "StatelessWhile", {"zero:output:0", "k", "zero:output:0"}), "inner");
  typed(fn_node(outer, "sum", "AddV2", {"acc", "loop:output:2"}));
  typed(fn_node(outer, "inc", "AddV2", {"k", "one:output:0"}));
  for (auto* body : {inner, outer}) {
    (*body->mutable_ret())["k_next"] = "inc:z:0";
    (*body->mutable_ret())["limit_next"] = "limit";
    (*body->mutable_ret())["acc_next"] = "sum:z:0";
  }
  test::add_placeholder(&g, "n", {});
  float_const(&g, "zero", 0);
  set_while_attrs(test::add_node(&g, "loop", "StatelessWhile", {"zero", "n", "zero"}), "outer");
  test::add_node(&g, "out", "Identity", {"loop:2"});
  return g;
}

TEST(NestedLoops, LoweredNestedWhilesMatchTheFunctionalOnes) {
  const tf::GraphDef kept = functional_nested_sum();
  tf::GraphDef lowered = kept;
  freeze::InlineOptions options;
  options.lower_loops = true;
  freeze::InlineReport report;
  freeze::inline_functions(&lowered, options, &report);
  EXPECT_EQ(report.loops_lowered, 2);
  int loop_conds = 0;
  for (const auto& node : lowered.node()) loop_conds += node.op() == "LoopCond";
  EXPECT_EQ(loop_conds, 2);
  for (int n : {0, 1, 2, 4, 6}) {
    EXPECT_EQ(run_sum(kept, static_cast<float>(n)), binomial(n, 3)) << n;
    EXPECT_EQ(run_sum(lowered, static_cast<float>(n)), binomial(n, 3)) << n;
  }
}

// A node reading the insides of two loops side by side belongs to neither: refused as bad input.
TEST(NestedLoops, ANodeReadingTwoLoopsSideBySideIsRefused) {
  tf::GraphDef g;
  test::add_placeholder(&g, "n", {});
  float_const(&g, "zero", 0);
  float_const(&g, "one", 1);
  auto identity = [](const std::string& k, const std::string&) { return k; };
  const std::string a = add_sum_loop(&g, "a", "n", "zero", "one", identity);
  const std::string b = add_sum_loop(&g, "b", "n", "zero", "one", identity);
  test::add_node(&g, "both", "AddV2", {a, b});  // fine: both Exits are outside the loops
  EXPECT_EQ(test::as_doubles(runtime::Executor(g).run({{"n", test::values_tensor<float>(tf::DT_FLOAT, {}, {4})}}, {"both"})[0]),
            std::vector<double>{12});
  test::add_node(&g, "tangle", "AddV2", {"a/k", "b/k"});
  try {
    runtime::Executor bad(g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("two loops side by side"), std::string::npos) << e.what();
  }
}


void int32_const(tf::GraphDef* g, const std::string& name, std::int32_t v) {
  auto* n = g->add_node();
  n->set_name(name);
  n->set_op("Const");
  (*n->mutable_attr())["dtype"].set_type(tf::DT_INT32);
  tensor_to_proto(test::values_tensor<std::int32_t>(tf::DT_INT32, {}, {v}), (*n->mutable_attr())["value"].mutable_tensor());
}

// tf.while_loop accumulating into a TensorArray(size=0, dynamic_size=True): every write past
// the end grows the array; after the loop it holds one element per iteration. A fixed-size
// array refuses the same writes.
tf::GraphDef dynamic_array_loop(bool dynamic) {
  tf::GraphDef g;
  test::add_placeholder(&g, "n", {});
  float_const(&g, "zero", 0);
  float_const(&g, "one", 1);
  float_const(&g, "three", 3);
  int32_const(&g, "size", 0);
  auto* ta = test::add_node(&g, "ta", "TensorArrayV3", {"size"});
  (*ta->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  (*ta->mutable_attr())["dynamic_size"].set_b(dynamic);
  enter(&g, "w/handle", "ta", "w", true);
  enter(&g, "w/enter_flow", "ta:1", "w", false);
  test::add_node(&g, "w/merge_flow", "Merge", {"w/enter_flow", "w/next_flow"});
  const std::string acc = add_sum_loop(&g, "w", "n", "zero", "one", [&](const std::string& k, const std::string&) {
    // The flow rides along the loop that add_sum_loop builds: its own Switch/Exit on w/cond.
    test::add_node(&g, "w/switch_flow", "Switch", {"w/merge_flow", "w/cond"});
    test::add_node(&g, "w/exit_flow", "Exit", {"w/switch_flow"});
    enter(&g, "w/three", "three", "w", true);
    test::add_node(&g, "w/value", "Mul", {k, "w/three"});
    auto* index = test::add_node(&g, "w/index", "Cast", {k});
    (*index->mutable_attr())["SrcT"].set_type(tf::DT_FLOAT);
    (*index->mutable_attr())["DstT"].set_type(tf::DT_INT32);
    test::add_node(&g, "w/write", "TensorArrayWriteV3", {"w/handle", "w/index", "w/value", "w/switch_flow:1"});
    test::add_node(&g, "w/next_flow", "NextIteration", {"w/write"});
    return k;
  });
  (void)acc;
  test::add_node(&g, "count", "TensorArraySizeV3", {"ta", "w/exit_flow"});
  int32_const(&g, "first", 0);
  int32_const(&g, "step", 1);
  auto* range = test::add_node(&g, "indices", "Range", {"first", "count", "step"});
  (*range->mutable_attr())["Tidx"].set_type(tf::DT_INT32);
  auto* gather = test::add_node(&g, "out", "TensorArrayGatherV3", {"ta", "indices", "w/exit_flow"});
  (*gather->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  return g;
}

TEST(NestedLoops, DynamicSizeTensorArrayGrowsWithTheLoop) {
  const tf::GraphDef g = dynamic_array_loop(true);
  // (n = 0 gathers nothing of an unknown element shape, which TensorFlow refuses too.)
  for (int n : {1, 4}) {
    auto out = runtime::Executor(g).run({{"n", test::values_tensor<float>(tf::DT_FLOAT, {}, {static_cast<float>(n)})}}, {"out", "count"});
    std::vector<double> want;
    for (int k = 0; k < n; ++k) want.push_back(3.0 * k);
    EXPECT_EQ(test::as_doubles(out[0]), want) << n;
    EXPECT_EQ(test::as_doubles(out[1]), std::vector<double>{static_cast<double>(n)});
  }
  try {
    runtime::Executor(dynamic_array_loop(false)).run({{"n", test::values_tensor<float>(tf::DT_FLOAT, {}, {2})}}, {"out"});
    FAIL() << "a fixed-size array took a write past its end";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
  }
}

}  // namespace
}  // namespace tffreeze
