// Input parsing, the graph index, topological order and subgraph extraction.
#include "common/error.h"
#include "graph/graph_view.h"
#include "support.h"

namespace tffreeze::graph {
namespace {

using test::add_const;
using test::add_node;
using test::add_placeholder;

TEST(TensorRef, ParsesAllForms) {
  auto a = parse_input("conv/weights");
  EXPECT_EQ(a.node, "conv/weights");
  EXPECT_EQ(a.index, 0);
  EXPECT_FALSE(a.control);
  auto b = parse_input("split:2");
  EXPECT_EQ(b.node, "split");
  EXPECT_EQ(b.index, 2);
  auto c = parse_input("^init");
  EXPECT_TRUE(c.control);
  EXPECT_EQ(c.node, "init");
  auto d = parse_input("matmul:product:0");
  EXPECT_EQ(d.node, "matmul");
  EXPECT_EQ(d.arg, "product");
  EXPECT_EQ(d.index, 0);
  for (const char* bad : {"", "^", "x:", "x:-1", "x:1a", ":0", "^x:1"}) EXPECT_FALSE(parse_input(bad).valid) << bad;
  EXPECT_EQ(tensor_name("a", 0), "a");
  EXPECT_EQ(tensor_name("a", 3), "a:3");
}

tf::GraphDef diamond() {
  tf::GraphDef g;
  add_node(&g, "out", "AddV2", {"left", "right"});  // deliberately before its inputs
  add_node(&g, "left", "Relu", {"x"});
  add_node(&g, "right", "Relu", {"x", "^init"});
  add_placeholder(&g, "x", {1});
  add_node(&g, "init", "NoOp");
  add_const(&g, "unused", {1}, {1});
  return g;
}

TEST(GraphView, IndexesNodesAndConsumers) {
  tf::GraphDef g = diamond();
  GraphView v(g);
  EXPECT_EQ(v.find("x"), 3);
  EXPECT_EQ(v.find("nope"), -1);
  EXPECT_EQ(v.consumers(3).size(), 2u);
  ASSERT_EQ(v.inputs(2).size(), 2u);
  EXPECT_TRUE(v.inputs(2)[1].control());
  EXPECT_TRUE(v.dangling().empty());
  EXPECT_TRUE(v.duplicate_names().empty());
}

TEST(GraphView, TopologicalOrderPutsInputsFirst) {
  tf::GraphDef g = diamond();
  GraphView v(g);
  auto order = v.topological_order();
  ASSERT_EQ(order.size(), 6u);
  std::vector<int> pos(6);
  for (int i = 0; i < 6; ++i) pos[order[i]] = i;
  for (int i = 0; i < v.size(); ++i)
    for (const auto& e : v.inputs(i)) EXPECT_LT(pos[e.producer], pos[i]) << v.node(i).name();
}

TEST(GraphView, SortedGraphKeepsItsOrder) {
  tf::GraphDef g;
  add_placeholder(&g, "a", {1});
  add_placeholder(&g, "b", {1});
  add_node(&g, "c", "Relu", {"a"});
  add_node(&g, "d", "AddV2", {"c", "b"});
  auto order = GraphView(g).topological_order();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(GraphView, CycleIsAnErrorNamingItsNodes) {
  tf::GraphDef g;
  add_node(&g, "a", "Relu", {"b"});
  add_node(&g, "b", "Relu", {"a"});
  GraphView v(g);
  try {
    v.topological_order();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("a, b"), std::string::npos);
  }
}

TEST(GraphView, WhileLoopBackEdgeIsNotACycle) {
  tf::GraphDef g;
  add_const(&g, "init", {0}, {});
  add_node(&g, "enter", "Enter", {"init"});
  add_node(&g, "merge", "Merge", {"enter", "next"});
  add_node(&g, "body", "Relu", {"merge"});
  add_node(&g, "next", "NextIteration", {"body"});
  EXPECT_EQ(GraphView(g).topological_order().size(), 5u);
}

TEST(GraphView, NeededByFollowsDataAndControlAndStopsAtInputs) {
  tf::GraphDef g = diamond();
  GraphView v(g);
  auto keep = v.needed_by({"out:0"});
  EXPECT_TRUE(keep[v.find("init")]);
  EXPECT_FALSE(keep[v.find("unused")]);
  auto cut = v.needed_by({"out"}, {"right"});
  EXPECT_TRUE(cut[v.find("right")]);
  EXPECT_FALSE(cut[v.find("init")]);
  EXPECT_TRUE(cut[v.find("x")]);  // still needed through "left"
  EXPECT_THROW(v.needed_by({"missing"}), Error);
  tf::GraphDef sub = extract_subgraph(g, keep);
  EXPECT_EQ(sub.node_size(), 5);
}

}  // namespace
}  // namespace tffreeze::graph
