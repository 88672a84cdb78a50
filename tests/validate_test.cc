// validate_graph: hand-made broken graphs fail with the right message; good ones pass.
#include "graph/validate.h"
#include "io/model.h"
#include "support.h"

namespace tffreeze::graph {
namespace {

using test::add_const;
using test::add_node;
using test::add_placeholder;

tf::GraphDef small_valid() {
  tf::GraphDef g;
  add_placeholder(&g, "x", {-1, 2});
  add_const(&g, "w", {1, 2, 3, 4}, {2, 2});
  add_node(&g, "mm", "MatMul", {"x", "w"});
  add_node(&g, "out", "Relu", {"mm"});
  return g;
}

tf::NodeDef* add_int32_const(tf::GraphDef* g, const std::string& name, int value) {
  auto* n = add_const(g, name, {}, {});
  (*n->mutable_attr())["dtype"].set_type(tf::DT_INT32);
  auto* t = (*n->mutable_attr())["value"].mutable_tensor();
  t->set_dtype(tf::DT_INT32);
  t->add_int_val(value);
  return n;
}

// The one problem reported, or "" when there is not exactly one.
std::string only_problem(const tf::GraphDef& g) {
  auto p = validate_graph(g);
  if (p.size() != 1) {
    std::string all;
    for (const auto& s : p) all += s + " | ";
    return "(" + std::to_string(p.size()) + " problems) " + all;
  }
  return p[0];
}

TEST(Validate, SmallGraphIsValid) { EXPECT_TRUE(validate_graph(small_valid()).empty()); }

TEST(Validate, DuplicateName) {
  auto g = small_valid();
  add_node(&g, "out", "Relu", {"mm"});
  EXPECT_EQ(only_problem(g), "duplicate node name 'out'");
}

TEST(Validate, DanglingDataAndControlInputs) {
  auto g = small_valid();
  g.mutable_node(3)->set_input(0, "nothere");
  EXPECT_EQ(only_problem(g), "node 'out' (Relu): input 'nothere' names no node in the graph");
  g = small_valid();
  g.mutable_node(3)->add_input("^ghost");
  EXPECT_EQ(only_problem(g), "node 'out' (Relu): input '^ghost' names no node in the graph");
}

TEST(Validate, Cycle) {
  auto g = small_valid();
  g.mutable_node(2)->set_input(0, "out");  // mm <- out <- mm
  auto p = only_problem(g);
  EXPECT_NE(p.find("cycle"), std::string::npos) << p;
  EXPECT_NE(p.find("mm, out"), std::string::npos) << p;
}

TEST(Validate, OutputIndexBeyondTheOp) {
  auto g = small_valid();
  g.mutable_node(3)->set_input(0, "mm:1");
  EXPECT_EQ(only_problem(g), "node 'out' (Relu): input 'mm:1' asks for output 1 of 'mm', which has 1");
  // Split with num_split=3 has outputs 0..2.
  tf::GraphDef s;
  add_int32_const(&s, "dim", 0);
  add_placeholder(&s, "x", {3});
  auto* split = add_node(&s, "split", "Split", {"dim", "x"});
  (*split->mutable_attr())["num_split"].set_i(3);
  add_node(&s, "ok", "Relu", {"split:2"});
  EXPECT_TRUE(validate_graph(s).empty());
  add_node(&s, "bad", "Relu", {"split:3"});
  EXPECT_EQ(only_problem(s), "node 'bad' (Relu): input 'split:3' asks for output 3 of 'split', which has 3");
}

TEST(Validate, InputDtypesAreTheOnesTheOpTakes) {
  // Split takes its dimension as int32 and the value as T: both match here.
  tf::GraphDef g;
  add_int32_const(&g, "dim", 1);
  add_placeholder(&g, "x", {2, 4});
  auto* split = add_node(&g, "split", "Split", {"dim", "x"});
  (*split->mutable_attr())["num_split"].set_i(2);
  add_node(&g, "sum", "AddV2", {"split", "split:1"});
  EXPECT_TRUE(validate_graph(g).empty());
  // A float dimension, and an int32 tensor where AddV2's T is float.
  auto wrong_dim = g;
  wrong_dim.mutable_node(2)->set_input(0, "x");
  EXPECT_EQ(only_problem(wrong_dim), "node 'split' (Split): input 0 'x' is float32; Split takes int32 there");
  auto wrong_operand = g;
  wrong_operand.mutable_node(3)->set_input(1, "dim");
  EXPECT_EQ(only_problem(wrong_operand), "node 'sum' (AddV2): input 1 'dim' is int32; AddV2 takes float32 there");
  // A reference (a TF 1 variable) counts as its value's type.
  tf::GraphDef v;
  auto* var = add_node(&v, "var", "VariableV2");
  (*var->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  (*var->mutable_attr())["shape"].mutable_shape()->add_dim()->set_size(2);
  add_node(&v, "read", "Identity", {"var"});
  EXPECT_TRUE(validate_graph(v).empty());
}

TEST(Validate, ControlInputBeforeDataInput) {
  auto g = small_valid();
  auto* n = g.mutable_node(3);
  n->clear_input();
  n->add_input("^x");
  n->add_input("mm");
  EXPECT_EQ(only_problem(g), "node 'out' (Relu): data input 'mm' after a control input");
}

TEST(Validate, AttributeTypesValuesAndMinimums) {
  auto g = small_valid();
  auto* conv = add_node(&g, "conv", "Conv2D", {"x", "w"});
  EXPECT_EQ(validate_graph(g), (std::vector<std::string>{"node 'conv' (Conv2D): missing required attr 'strides'",
                                                         "node 'conv' (Conv2D): missing required attr 'padding'"}));
  (*conv->mutable_attr())["strides"].set_i(1);
  (*conv->mutable_attr())["padding"].set_s("SAME");
  EXPECT_EQ(only_problem(g), "node 'conv' (Conv2D): attr 'strides' should be of type list(int)");
  (*conv->mutable_attr())["strides"].mutable_list()->add_i(1);
  EXPECT_TRUE(validate_graph(g).empty());
  (*conv->mutable_attr())["padding"].set_s("FULL");
  EXPECT_EQ(only_problem(g), "node 'conv' (Conv2D): attr 'padding' has value 'FULL', which the op does not allow");
}

TEST(Validate, ConstantsMustMatchTheirShape) {
  tf::GraphDef g;
  add_const(&g, "too_many", {1, 2, 3}, {2});
  EXPECT_EQ(only_problem(g), "node 'too_many' (Const): constant of shape [2] has 3 values");
  tf::GraphDef h;
  auto* c = add_const(&h, "content", {}, {1000000, 1000000});
  (*c->mutable_attr())["value"].mutable_tensor()->set_tensor_content(std::string(8, '\0'));
  EXPECT_EQ(only_problem(h), "node 'content' (Const): constant of shape [1000000,1000000] and dtype float32 has 8 content bytes");
  tf::GraphDef k;
  add_const(&k, "neg", {1}, {-1});
  EXPECT_EQ(only_problem(k), "node 'neg' (Const): constant has unknown dimension -1");
}

TEST(Validate, FunctionReferencesAndBodies) {
  auto g = small_valid();
  auto* call = add_node(&g, "call", "StatefulPartitionedCall", {"x"});
  (*call->mutable_attr())["Tin"].mutable_list()->add_type(tf::DT_FLOAT);
  (*call->mutable_attr())["Tout"].mutable_list()->add_type(tf::DT_FLOAT);
  (*call->mutable_attr())["f"].mutable_func()->set_name("missing_fn");
  EXPECT_EQ(only_problem(g), "node 'call' (StatefulPartitionedCall): attr 'f' names function 'missing_fn', which the library does not have");
  auto* f = g.mutable_library()->add_function();
  f->mutable_signature()->set_name("missing_fn");
  auto* arg = f->mutable_signature()->add_input_arg();
  arg->set_name("a");
  arg->set_type(tf::DT_FLOAT);
  auto* body = f->add_node_def();
  body->set_name("r");
  body->set_op("Relu");
  body->add_input("a");
  (*body->mutable_attr())["T"].set_type(tf::DT_FLOAT);
  (*f->mutable_ret())["y"] = "r:activations:0";
  EXPECT_TRUE(validate_graph(g).empty());
  body->set_input(0, "b");
  EXPECT_EQ(only_problem(g), "function 'missing_fn': node 'r' (Relu): input 'b' names nothing in the function");
}

TEST(Validate, OpenVinoNegativePartitionsFixture) {
  REQUIRE_FIXTURE(path, "openvino/models_pbtxt/dynpart_negative_partitions.pbtxt");
  auto model = io::load_model(path);
  EXPECT_EQ(only_problem(model.graph()),
            "node 'dynamic_partition' (DynamicPartition): attr 'num_partitions' is -1, must be >= 1");
}

}  // namespace
}  // namespace tffreeze::graph
