// Flattening TF 2 functions on hand-built graphs: each rewrite where it must fire and where it
// must not, and the numbers before (our executor running the functions) and after (flat).
#include <google/protobuf/util/message_differencer.h>

#include <filesystem>

#include "common/error.h"
#include "freeze/inline_functions.h"
#include "freeze_support.h"
#include "io/checkpoint/bundle_writer.h"
#include "pass_support.h"
#include "runtime/executor.h"

namespace tffreeze {
namespace {

using test::as_doubles;
using test::values_tensor;

Tensor floats(std::vector<std::int64_t> shape, std::vector<float> v) { return values_tensor(tf::DT_FLOAT, std::move(shape), v); }

// Builders for FunctionDefs in TensorFlow's own body notation ("node:out_arg:index").
struct Fn {
  tf::FunctionDef* f;
  Fn(tf::GraphDef* g, const std::string& name, std::vector<std::pair<std::string, tf::DataType>> in,
     std::vector<std::pair<std::string, tf::DataType>> out) {
    f = g->mutable_library()->add_function();
    f->mutable_signature()->set_name(name);
    for (const auto& [n, t] : in) {
      auto* a = f->mutable_signature()->add_input_arg();
      a->set_name(n);
      a->set_type(t);
    }
    for (const auto& [n, t] : out) {
      auto* a = f->mutable_signature()->add_output_arg();
      a->set_name(n);
      a->set_type(t);
    }
  }
  tf::NodeDef* node(const std::string& name, const std::string& op, std::vector<std::string> inputs, tf::DataType t = tf::DT_FLOAT) {
    auto* n = f->add_node_def();
    n->set_name(name);
    n->set_op(op);
    for (auto& in : inputs) n->add_input(in);
    (*n->mutable_attr())["T"].set_type(t);
    return n;
  }
  tf::NodeDef* constant(const std::string& name, const Tensor& value) {
    auto* n = f->add_node_def();
    n->set_name(name);
    n->set_op("Const");
    (*n->mutable_attr())["dtype"].set_type(value.dtype);
    tensor_to_proto(value, (*n->mutable_attr())["value"].mutable_tensor());
    return n;
  }
  void ret(const std::string& output, const std::string& tensor) { (*f->mutable_ret())[output] = tensor; }
  void attr(const std::string& key, const std::string& value) { (*f->mutable_attr())[key].set_s(value); }
};

tf::NodeDef* call(tf::GraphDef* g, const std::string& name, const std::string& function, std::vector<std::string> inputs,
                  std::vector<tf::DataType> tin, std::vector<tf::DataType> tout, const std::string& op = "StatefulPartitionedCall") {
  auto* n = test::add_node(g, name, op, std::move(inputs));
  (*n->mutable_attr())["f"].mutable_func()->set_name(function);
  for (auto t : tin) (*n->mutable_attr())["Tin"].mutable_list()->add_type(t);
  for (auto t : tout) (*n->mutable_attr())["Tout"].mutable_list()->add_type(t);
  return n;
}

tf::NodeDef* identity(tf::GraphDef* g, const std::string& name, const std::string& input, tf::DataType t = tf::DT_FLOAT) {
  auto* n = test::add_node(g, name, "Identity", {input});
  (*n->mutable_attr())["T"].set_type(t);
  return n;
}

tf::NodeDef* const_node(tf::GraphDef* g, const std::string& name, const Tensor& value) {
  auto* n = test::add_node(g, name, "Const");
  (*n->mutable_attr())["dtype"].set_type(value.dtype);
  tensor_to_proto(value, (*n->mutable_attr())["value"].mutable_tensor());
  return n;
}

Tensor scalar_bool(bool v) { return values_tensor<std::uint8_t>(tf::DT_BOOL, {}, {static_cast<std::uint8_t>(v)}); }
Tensor scalar_int(std::int32_t v) { return values_tensor<std::int32_t>(tf::DT_INT32, {}, {v}); }

freeze::InlineReport flatten(tf::GraphDef* g, freeze::InlineOptions options = {}) {
  freeze::InlineReport report;
  freeze::inline_functions(g, options, &report);
  return report;
}

int count_op(const tf::GraphDef& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.node()) n += node.op() == op;
  return n;
}

std::vector<double> eval(const tf::GraphDef& g, const std::map<std::string, Tensor>& feeds, const std::string& fetch) {
  return as_doubles(runtime::Executor(g).run(feeds, {fetch})[0]);
}

// inner(x) -> (a = second half of x, b = first half); outer(x) = inner(x).a - inner(x).b,
// calling inner as an op named after the function.
tf::GraphDef nested_calls() {
  tf::GraphDef g;
  Fn inner(&g, "inner", {{"x", tf::DT_FLOAT}}, {{"a", tf::DT_FLOAT}, {"b", tf::DT_FLOAT}});
  inner.constant("dim", scalar_int(0));
  auto* split = inner.node("split", "Split", {"dim:output:0", "x"});
  (*split->mutable_attr())["num_split"].set_i(2);
  inner.ret("a", "split:output:1");
  inner.ret("b", "split:output:0");
  Fn outer(&g, "outer", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
  auto* halves = outer.f->add_node_def();
  halves->set_name("halves");
  halves->set_op("inner");
  halves->add_input("x");
  outer.node("diff", "Sub", {"halves:a:0", "halves:b:0"});
  outer.ret("y", "diff:z:0");
  test::add_placeholder(&g, "p", {4});
  call(&g, "top", "outer", {"p"}, {tf::DT_FLOAT}, {tf::DT_FLOAT});
  identity(&g, "out", "top:0");
  return g;
}

TEST(InlineFunctions, NestedCallsMapOutputArgsToGraphOutputs) {
  tf::GraphDef g = nested_calls();
  const std::map<std::string, Tensor> feeds = {{"p", floats({4}, {1, 2, 10, 20})}};
  const std::vector<double> before = eval(g, feeds, "out");  // the executor runs the functions
  EXPECT_EQ(before, (std::vector<double>{9, 18}));
  auto report = flatten(&g);
  EXPECT_EQ(report.calls_inlined, 2);
  EXPECT_EQ(count_op(g, "StatefulPartitionedCall") + count_op(g, "inner"), 0);
  EXPECT_EQ(g.library().function_size(), 0);
  EXPECT_EQ(eval(g, feeds, "out"), before);
  EXPECT_NE(test::node_named(g, "top/halves/split"), nullptr);  // callee nodes live under the call's name
}

TEST(InlineFunctions, GraphsWithoutCallsAreLeftAlone) {
  tf::GraphDef g;
  test::add_placeholder(&g, "p", {2});
  identity(&g, "out", "p");
  tf::GraphDef before = g;
  auto report = flatten(&g);
  EXPECT_EQ(report.calls_inlined, 0);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(g, before));
}

// then: x * 2, else: x + 100.
tf::GraphDef if_graph(bool computed_predicate, bool pred_value) {
  tf::GraphDef g;
  Fn then_f(&g, "times_two", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
  then_f.constant("two", floats({}, {2}));
  then_f.node("mul", "Mul", {"x", "two:output:0"});
  then_f.ret("y", "mul:z:0");
  Fn else_f(&g, "plus_hundred", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
  else_f.constant("hundred", floats({}, {100}));
  else_f.node("add", "AddV2", {"x", "hundred:output:0"});
  else_f.ret("y", "add:z:0");
  test::add_placeholder(&g, "x", {2});
  if (computed_predicate) {
    auto* flag = test::add_node(&g, "flag", "Placeholder");
    (*flag->mutable_attr())["dtype"].set_type(tf::DT_BOOL);
    (*flag->mutable_attr())["shape"].mutable_shape();
  } else {
    const_node(&g, "flag", scalar_bool(pred_value));
  }
  auto* cond = test::add_node(&g, "cond", "StatelessIf", {"flag", "x"});
  (*cond->mutable_attr())["then_branch"].mutable_func()->set_name("times_two");
  (*cond->mutable_attr())["else_branch"].mutable_func()->set_name("plus_hundred");
  (*cond->mutable_attr())["Tcond"].set_type(tf::DT_BOOL);
  (*cond->mutable_attr())["Tin"].mutable_list()->add_type(tf::DT_FLOAT);
  (*cond->mutable_attr())["Tout"].mutable_list()->add_type(tf::DT_FLOAT);
  identity(&g, "out", "cond");
  return g;
}

TEST(InlineFunctions, ConstantPredicateInlinesOnlyTheTakenBranch) {
  const Tensor x = floats({2}, {1, 3});
  for (bool pred : {true, false}) {
    tf::GraphDef g = if_graph(false, pred);
    const auto before = eval(g, {{"x", x}}, "out");
    EXPECT_EQ(before, (pred ? std::vector<double>{2, 6} : std::vector<double>{101, 103}));
    auto report = flatten(&g);
    EXPECT_EQ(report.conds_taken, 1);
    EXPECT_EQ(count_op(g, "StatelessIf") + count_op(g, "Switch") + count_op(g, "Merge"), 0);
    EXPECT_EQ(count_op(g, pred ? "AddV2" : "Mul"), 0) << "the untaken branch is not copied";
    EXPECT_EQ(eval(g, {{"x", x}}, "out"), before);
  }
}

TEST(InlineFunctions, ComputedPredicateLowersToSwitchMerge) {
  const Tensor x = floats({2}, {1, 3});
  tf::GraphDef original = if_graph(true, false);
  tf::GraphDef g = original;
  auto report = flatten(&g);
  EXPECT_EQ(report.conds_lowered, 1);
  EXPECT_EQ(count_op(g, "StatelessIf"), 0);
  EXPECT_EQ(count_op(g, "Merge"), 1);
  EXPECT_GE(count_op(g, "Switch"), 2);  // the predicate's and the input's
  for (bool pred : {true, false}) {
    std::map<std::string, Tensor> feeds = {{"x", x}, {"flag", scalar_bool(pred)}};
    EXPECT_EQ(eval(g, feeds, "out"), eval(original, feeds, "out")) << pred;
  }
  // Kept by option: the If and its branch functions stay, and still run.
  tf::GraphDef kept = original;
  freeze::InlineOptions keep;
  keep.lower_conds = false;
  auto kept_report = flatten(&kept, keep);
  EXPECT_EQ(count_op(kept, "StatelessIf"), 1);
  EXPECT_EQ(kept.library().function_size(), 2);
  EXPECT_EQ(kept_report.kept_conds.size(), 1u);
  EXPECT_EQ(eval(kept, {{"x", x}, {"flag", scalar_bool(true)}}, "out"), (std::vector<double>{2, 6}));
}

tf::GraphDef case_graph(bool constant_index, std::int32_t index) {
  tf::GraphDef g;
  for (int k = 0; k < 3; ++k) {
    Fn b(&g, "branch" + std::to_string(k), {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
    b.constant("k", floats({}, {static_cast<float>(k * 10)}));
    b.node("add", "AddV2", {"x", "k:output:0"});
    b.ret("y", "add:z:0");
  }
  test::add_placeholder(&g, "x", {1});
  if (constant_index) {
    const_node(&g, "index", scalar_int(index));
  } else {
    auto* p = test::add_node(&g, "index", "Placeholder");
    (*p->mutable_attr())["dtype"].set_type(tf::DT_INT32);
  }
  auto* c = test::add_node(&g, "case", "Case", {"index", "x"});
  for (int k = 0; k < 3; ++k) (*c->mutable_attr())["branches"].mutable_list()->add_func()->set_name("branch" + std::to_string(k));
  (*c->mutable_attr())["Tin"].mutable_list()->add_type(tf::DT_FLOAT);
  (*c->mutable_attr())["Tout"].mutable_list()->add_type(tf::DT_FLOAT);
  identity(&g, "out", "case");
  return g;
}

TEST(InlineFunctions, CaseWithAConstantIndexTakesThatBranch) {
  for (auto [index, expected] : std::vector<std::pair<std::int32_t, double>>{{1, 11}, {0, 1}, {7, 21}, {-1, 21}}) {
    tf::GraphDef g = case_graph(true, index);
    EXPECT_EQ(eval(g, {{"x", floats({1}, {1})}}, "out"), std::vector<double>{expected}) << index;  // the executor's Case
    flatten(&g);
    EXPECT_EQ(count_op(g, "Case"), 0);
    EXPECT_EQ(eval(g, {{"x", floats({1}, {1})}}, "out"), std::vector<double>{expected}) << index;
  }
}

TEST(InlineFunctions, CaseWithAComputedIndexIsRefused) {
  tf::GraphDef g = case_graph(false, 0);
  try {
    flatten(&g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("'case'"), std::string::npos) << e.what();
  }
}

// Keras registers a GPU (CudnnRNN) and a CPU implementation under one api_implements name;
// the call names the GPU one.
TEST(InlineFunctions, TheCpuImplementationIsChosen) {
  tf::GraphDef g;
  Fn gpu(&g, "gpu_impl", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
  gpu.node("rnn", "CudnnRNN", {"x"});
  gpu.ret("y", "rnn:output:0");
  gpu.attr("api_implements", "lstm_1234");
  gpu.attr("api_preferred_device", "GPU");
  Fn cpu(&g, "cpu_impl", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
  cpu.node("tanh", "Tanh", {"x"});
  cpu.ret("y", "tanh:y:0");
  cpu.attr("api_implements", "lstm_1234");
  cpu.attr("api_preferred_device", "CPU");
  Fn other(&g, "other_gpu", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
  other.node("rnn", "CudnnRNN", {"x"});
  other.ret("y", "rnn:output:0");
  other.attr("api_implements", "gru_99");  // no CPU twin: stays as it is
  other.attr("api_preferred_device", "GPU");
  test::add_placeholder(&g, "x", {2});
  call(&g, "lstm", "gpu_impl", {"x"}, {tf::DT_FLOAT}, {tf::DT_FLOAT}, "PartitionedCall");
  call(&g, "gru", "other_gpu", {"x"}, {tf::DT_FLOAT}, {tf::DT_FLOAT}, "PartitionedCall");
  identity(&g, "out", "lstm");
  identity(&g, "out2", "gru");
  auto report = flatten(&g);
  EXPECT_EQ(report.cpu_implementations, std::vector<std::string>{"gpu_impl -> cpu_impl"});
  EXPECT_EQ(count_op(g, "Tanh"), 1);
  EXPECT_EQ(count_op(g, "CudnnRNN"), 1);  // gru's only implementation
  EXPECT_EQ(test::node_named(g, "out")->input(0), "lstm/tanh");
}

TEST(InlineFunctions, RecursionIsRefusedNotExpandedForever) {
  for (int calls : {1, 2}) {  // linear and exponential growth
    tf::GraphDef g;
    Fn f(&g, "self", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
    std::string last = "x";
    for (int k = 0; k < calls; ++k) {
      auto* n = f.f->add_node_def();
      n->set_name("again" + std::to_string(k));
      n->set_op("self");
      n->add_input(last);
      last = n->name() + ":y:0";
    }
    f.ret("y", last);
    test::add_placeholder(&g, "x", {1});
    call(&g, "c", "self", {"x"}, {tf::DT_FLOAT}, {tf::DT_FLOAT});
    freeze::InlineOptions small;
    small.max_nodes = 100'000;  // the default (1M) takes seconds to reach
    try {
      flatten(&g, small);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUnsupported) << e.what();
      EXPECT_NE(std::string(e.what()).find(calls == 1 ? "nest deeper than 64" : "100000 nodes"), std::string::npos) << e.what();
    }
    // The executor refuses the same recursion instead of overflowing the stack.
    tf::GraphDef again;
    Fn f2(&again, "self", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
    auto* n = f2.f->add_node_def();
    n->set_name("again");
    n->set_op("self");
    n->add_input("x");
    f2.ret("y", "again:y:0");
    test::add_placeholder(&again, "x", {1});
    call(&again, "c", "self", {"x"}, {tf::DT_FLOAT}, {tf::DT_FLOAT});
    EXPECT_THROW(runtime::Executor(again).run({{"x", floats({1}, {1})}}, {"c"}), Error);
  }
}

TEST(InlineFunctions, UnknownOutputArgNamesTheFunction) {
  tf::GraphDef g;
  Fn f(&g, "broken", {{"x", tf::DT_FLOAT}}, {{"y", tf::DT_FLOAT}});
  f.constant("dim", scalar_int(0));
  auto* split = f.node("split", "Split", {"dim:output:0", "x"});
  (*split->mutable_attr())["num_split"].set_i(2);
  f.ret("y", "split:no_such_arg:0");
  test::add_placeholder(&g, "x", {2});
  call(&g, "c", "broken", {"x"}, {tf::DT_FLOAT}, {tf::DT_FLOAT});
  try {
    flatten(&g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("function 'broken'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no_such_arg"), std::string::npos) << e.what();
  }
}

// Freezing a graph built like TF 2 writes it: captured VarHandleOps passed to a call.
io::Model model_of(const tf::GraphDef& g) {
  io::Model m;
  m.path = "synthetic";
  *m.mutable_graph() = g;
  return m;
}

tf::NodeDef* var_handle(tf::GraphDef* g, const std::string& name) {
  auto* v = test::add_node(g, name, "VarHandleOp");
  (*v->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  (*v->mutable_attr())["shape"].mutable_shape();
  (*v->mutable_attr())["shared_name"].set_s(name);
  return v;
}

std::unique_ptr<io::checkpoint::Checkpoint> checkpoint_with(const std::map<std::string, float>& values) {
  const std::string prefix = test::temp_dir() + "/ckpt";
  {
    io::checkpoint::BundleWriter w(prefix);
    for (const auto& [k, v] : values) w.add(k, floats({}, {v}));
    w.finish();
  }
  return io::checkpoint::open_checkpoint(prefix);
}

// f(x, v, counter) = x * read(v), with control output: counter += 1 (or v += 1).
tf::GraphDef stateful_call(bool assign_read_variable) {
  tf::GraphDef g;
  Fn f(&g, "scale", {{"x", tf::DT_FLOAT}, {"v", tf::DT_RESOURCE}, {"counter", tf::DT_RESOURCE}}, {{"y", tf::DT_FLOAT}});
  auto* read = f.node("read", "ReadVariableOp", {"v"});
  read->mutable_attr()->erase("T");
  (*read->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  f.node("mul", "Mul", {"x", "read:value:0"});
  f.constant("one", floats({}, {1}));
  auto* bump = f.node("bump", "AssignAddVariableOp", {assign_read_variable ? "v" : "counter", "one:output:0"});
  bump->mutable_attr()->erase("T");
  (*bump->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  f.node("out", "Identity", {"mul:z:0", "^bump"});  // automatic control dependencies
  f.ret("y", "out:output:0");
  f.f->mutable_signature()->add_control_output("bump");
  (*f.f->mutable_control_ret())["bump"] = "bump";
  test::add_placeholder(&g, "x", {2});
  var_handle(&g, "v");
  var_handle(&g, "counter");
  call(&g, "c", "scale", {"x", "v", "counter"}, {tf::DT_FLOAT, tf::DT_RESOURCE, tf::DT_RESOURCE}, {tf::DT_FLOAT});
  identity(&g, "y", "c");
  return g;
}

TEST(InlineFunctions, UpdatesOfVariablesTheOutputsReadAreRefused) {
  auto ckpt = checkpoint_with({{"v", 3}, {"counter", 0}});
  freeze::FreezeOptions options;
  options.outputs = {"y"};
  try {
    freeze::freeze_model(model_of(stateful_call(true)), ckpt.get(), options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("changes state"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("AssignAddVariableOp on 'v'"), std::string::npos) << e.what();
  }
  // Counting calls does not change what y is: that update is dropped, with a note.
  freeze::FreezeResult r = freeze::freeze_model(model_of(stateful_call(false)), ckpt.get(), options);
  EXPECT_EQ(count_op(r.graph, "AssignAddVariableOp"), 0);
  bool noted = false;
  for (const auto& n : r.report.notes) noted |= n.find("dropped 'c/bump'") != std::string::npos;
  EXPECT_TRUE(noted);
  EXPECT_EQ(eval(r.graph, {{"x", floats({2}, {1, 2})}}, "y"), (std::vector<double>{3, 6}));
}

TEST(InlineFunctions, LookupTablesAreRefusedNamingTheTable) {
  tf::GraphDef g;
  Fn f(&g, "lookup", {{"keys", tf::DT_STRING}, {"table", tf::DT_RESOURCE}}, {{"ids", tf::DT_INT64}});
  f.constant("default", values_tensor<std::int64_t>(tf::DT_INT64, {}, {-1}));
  f.node("find", "LookupTableFindV2", {"table", "keys", "default:output:0"});
  f.ret("ids", "find:values:0");
  auto* keys = test::add_node(&g, "keys", "Placeholder");
  (*keys->mutable_attr())["dtype"].set_type(tf::DT_STRING);
  auto* table = test::add_node(&g, "vocabulary_table", "HashTableV2");
  (*table->mutable_attr())["key_dtype"].set_type(tf::DT_STRING);
  (*table->mutable_attr())["value_dtype"].set_type(tf::DT_INT64);
  call(&g, "c", "lookup", {"keys", "vocabulary_table"}, {tf::DT_STRING, tf::DT_RESOURCE}, {tf::DT_INT64});
  identity(&g, "ids", "c", tf::DT_INT64);
  freeze::FreezeOptions options;
  options.outputs = {"ids"};
  try {
    freeze::freeze_model(model_of(g), nullptr, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("lookup table 'vocabulary_table'"), std::string::npos) << e.what();
  }
}

Tensor strings(std::vector<std::string> v) {
  Tensor t;
  t.dtype = tf::DT_STRING;
  t.shape = {static_cast<std::int64_t>(v.size())};
  t.strings = std::move(v);
  return t;
}

// A vocabulary table as TF 2 saves it: the serving function looks keys up in the captured
// table; an _initialize function (called by the init op, not by serving) fills it from a text
// file whose name the call passes. The frozen graph carries the vocabulary as constants.
TEST(InlineFunctions, VocabularyTablesAreFrozenFromTheirFile) {
  tf::GraphDef g;
  Fn lookup(&g, "lookup", {{"keys", tf::DT_STRING}, {"table", tf::DT_RESOURCE}}, {{"ids", tf::DT_INT64}});
  lookup.constant("default", values_tensor<std::int64_t>(tf::DT_INT64, {}, {-1}));
  auto* find = lookup.node("find", "LookupTableFindV2", {"table", "keys", "default:output:0"});
  find->mutable_attr()->erase("T");
  (*find->mutable_attr())["Tin"].set_type(tf::DT_STRING);
  (*find->mutable_attr())["Tout"].set_type(tf::DT_INT64);
  lookup.ret("ids", "find:values:0");
  Fn init(&g, "initialize", {{"table", tf::DT_RESOURCE}, {"path", tf::DT_STRING}}, {});
  auto* from_file = init.node("init", "InitializeTableFromTextFileV2", {"table", "path"});
  from_file->mutable_attr()->erase("T");
  (*from_file->mutable_attr())["key_index"].set_i(-2);   // the whole line
  (*from_file->mutable_attr())["value_index"].set_i(-1);  // its line number
  (*from_file->mutable_attr())["vocab_size"].set_i(-1);
  (*from_file->mutable_attr())["delimiter"].set_s("\t");
  auto* keys = test::add_node(&g, "keys", "Placeholder");
  (*keys->mutable_attr())["dtype"].set_type(tf::DT_STRING);
  auto* table = test::add_node(&g, "vocabulary_table", "HashTableV2");
  (*table->mutable_attr())["key_dtype"].set_type(tf::DT_STRING);
  (*table->mutable_attr())["value_dtype"].set_type(tf::DT_INT64);
  const_node(&g, "vocabulary_path", strings({"/export/machine/assets/vocab.txt"}));  // where it was exported
  call(&g, "serve", "lookup", {"keys", "vocabulary_table"}, {tf::DT_STRING, tf::DT_RESOURCE}, {tf::DT_INT64});
  call(&g, "init_table", "initialize", {"vocabulary_table", "vocabulary_path"}, {tf::DT_RESOURCE, tf::DT_STRING}, {});
  identity(&g, "ids", "serve", tf::DT_INT64);
  tf::GraphDef asset_variable = g;  // the same, with the path as TF 2.14 keeps it (see below)
  const std::string dir = test::temp_dir();
  test::write_bytes(dir + "/vocab.txt", "apple\nbanana\ncherry\n");
  io::Model model = model_of(g);
  model.path = dir + "/model.pb";  // the vocabulary is found by its name beside the model
  freeze::FreezeOptions options;
  options.outputs = {"ids"};
  freeze::FreezeResult r = freeze::freeze_model(model, nullptr, options);
  EXPECT_EQ(count_op(r.graph, "LookupTableImportV2"), 1);
  EXPECT_EQ(count_op(r.graph, "InitializeTableFromTextFileV2"), 0);
  EXPECT_EQ(r.graph.library().function_size(), 0);
  bool noted = false;
  for (const auto& n : r.report.notes) noted |= n.find("3 entries from vocabulary") != std::string::npos;
  EXPECT_TRUE(noted);
  EXPECT_EQ(eval(r.graph, {{"keys", strings({"cherry", "durian", "apple", "banana"})}}, "ids"), (std::vector<double>{2, -1, 0, 1}));
  // TF 2 (as serving's half_plus_two_tf2_cpu fixture shows): the asset path is a string variable
  // that the init op assigns from a placeholder, which asset_file_def names; the init function
  // reads the variable.
  {
    tf::GraphDef& h = asset_variable;
    tf::FunctionDef* f = nullptr;
    for (auto& fn : *h.mutable_library()->mutable_function())
      if (fn.signature().name() == "initialize") f = &fn;
    ASSERT_NE(f, nullptr);
    f->mutable_signature()->mutable_input_arg(1)->set_type(tf::DT_RESOURCE);
    auto* read = f->add_node_def();
    read->set_name("read_path");
    read->set_op("ReadVariableOp");
    read->add_input("path");
    (*read->mutable_attr())["dtype"].set_type(tf::DT_STRING);
    for (auto& n : *f->mutable_node_def())
      if (n.name() == "init") n.set_input(1, "read_path:value:0");
    auto* placeholder = test::add_node(&h, "asset_path_initializer", "Placeholder");
    (*placeholder->mutable_attr())["dtype"].set_type(tf::DT_STRING);
    auto* variable = test::add_node(&h, "Variable", "VarHandleOp");
    (*variable->mutable_attr())["dtype"].set_type(tf::DT_STRING);
    auto* assign = test::add_node(&h, "Variable/Assign", "AssignVariableOp", {"Variable", "asset_path_initializer"});
    (*assign->mutable_attr())["dtype"].set_type(tf::DT_STRING);
    for (auto& n : *h.mutable_node())
      if (n.name() == "init_table") n.set_input(1, "Variable");
    io::Model tf2 = model_of(h);
    tf2.path = model.path;
    auto* asset = tf2.meta.add_asset_file_def();
    asset->mutable_tensor_info()->set_name("asset_path_initializer:0");
    asset->set_filename("vocab.txt");
    freeze::FreezeResult r2 = freeze::freeze_model(tf2, nullptr, options);
    EXPECT_EQ(eval(r2.graph, {{"keys", strings({"banana"})}}, "ids"), (std::vector<double>{1}));
  }
  // Without its file the table cannot be frozen: exit 4, naming table and file.
  std::filesystem::remove(dir + "/vocab.txt");
  try {
    freeze::freeze_model(model, nullptr, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("lookup table 'vocabulary_table'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vocab.txt"), std::string::npos) << e.what();
  }
}

// TF 1: a table initialized from constants beside it (tf.lookup.KeyValueTensorInitializer).
TEST(InlineFunctions, ConstantTablesAreFrozen) {
  tf::GraphDef g;
  auto* keys = test::add_node(&g, "keys", "Placeholder");
  (*keys->mutable_attr())["dtype"].set_type(tf::DT_INT64);
  auto* table = test::add_node(&g, "table", "HashTableV2");
  (*table->mutable_attr())["key_dtype"].set_type(tf::DT_INT64);
  (*table->mutable_attr())["value_dtype"].set_type(tf::DT_FLOAT);
  const_node(&g, "table_keys", values_tensor<std::int64_t>(tf::DT_INT64, {3}, {7, 8, 9}));
  const_node(&g, "table_values", floats({3}, {0.5f, 1.5f, 2.5f}));
  auto* init = test::add_node(&g, "table_init", "InitializeTableV2", {"table", "table_keys", "table_values"});
  (*init->mutable_attr())["Tkey"].set_type(tf::DT_INT64);
  (*init->mutable_attr())["Tval"].set_type(tf::DT_FLOAT);
  const_node(&g, "missing", floats({}, {-9}));
  auto* find = test::add_node(&g, "scores", "LookupTableFindV2", {"table", "keys", "missing"});
  (*find->mutable_attr())["Tin"].set_type(tf::DT_INT64);
  (*find->mutable_attr())["Tout"].set_type(tf::DT_FLOAT);
  freeze::FreezeOptions options;
  options.outputs = {"scores"};
  freeze::FreezeResult r = freeze::freeze_model(model_of(g), nullptr, options);
  EXPECT_EQ(test::node_named(r.graph, "table_init"), nullptr);  // the init op itself is not kept
  EXPECT_EQ(eval(r.graph, {{"keys", values_tensor<std::int64_t>(tf::DT_INT64, {4}, {9, 1, 7, 8})}}, "scores"),
            (std::vector<double>{2.5, -9, 0.5, 1.5}));
}

// A While that captures a variable: acc += read(v), three times. The loop stays; its functions
// are specialized to carry the frozen value.
TEST(InlineFunctions, LoopCapturedVariablesAreFrozenInsideTheLoop) {
  tf::GraphDef g;
  Fn cond(&g, "cond", {{"i", tf::DT_INT32}, {"acc", tf::DT_FLOAT}, {"v", tf::DT_RESOURCE}}, {{"keep_going", tf::DT_BOOL}});
  cond.constant("three", scalar_int(3));
  cond.node("less", "Less", {"i", "three:output:0"}, tf::DT_INT32);
  cond.ret("keep_going", "less:z:0");
  Fn body(&g, "body", {{"i", tf::DT_INT32}, {"acc", tf::DT_FLOAT}, {"v", tf::DT_RESOURCE}},
          {{"i_next", tf::DT_INT32}, {"acc_next", tf::DT_FLOAT}, {"v_out", tf::DT_RESOURCE}});
  body.constant("one", scalar_int(1));
  body.node("inc", "AddV2", {"i", "one:output:0"}, tf::DT_INT32);
  auto* read = body.node("read", "ReadVariableOp", {"v"});
  read->mutable_attr()->erase("T");
  (*read->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
  body.node("sum", "AddV2", {"acc", "read:value:0"});
  body.node("pass", "Identity", {"v"}, tf::DT_RESOURCE);
  body.ret("i_next", "inc:z:0");
  body.ret("acc_next", "sum:z:0");
  body.ret("v_out", "pass:output:0");
  test::add_placeholder(&g, "x", {2});
  const_node(&g, "zero", scalar_int(0));
  var_handle(&g, "v");
  auto* loop = test::add_node(&g, "loop", "While", {"zero", "x", "v"});
  (*loop->mutable_attr())["cond"].mutable_func()->set_name("cond");
  (*loop->mutable_attr())["body"].mutable_func()->set_name("body");
  for (auto t : {tf::DT_INT32, tf::DT_FLOAT, tf::DT_RESOURCE}) (*loop->mutable_attr())["T"].mutable_list()->add_type(t);
  identity(&g, "out", "loop:1");
  auto ckpt = checkpoint_with({{"v", 2.5f}});
  freeze::FreezeOptions options;
  options.outputs = {"out"};
  freeze::FreezeResult r = freeze::freeze_model(model_of(g), ckpt.get(), options);
  const tf::NodeDef* kept = test::node_named(r.graph, "loop");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->attr().at("T").list().type(2), tf::DT_FLOAT);
  EXPECT_EQ(kept->attr().at("body").func().name(), "body_frozen");
  for (const auto& f : r.graph.library().function()) {
    for (const auto& n : f.node_def()) EXPECT_NE(n.op(), "ReadVariableOp") << f.signature().name();
    for (const auto& a : f.signature().input_arg()) EXPECT_NE(a.type(), tf::DT_RESOURCE) << f.signature().name();
  }
  EXPECT_EQ(r.graph.library().function_size(), 2);  // the originals are pruned
  EXPECT_EQ(eval(r.graph, {{"x", floats({2}, {1, -1})}}, "out"), (std::vector<double>{8.5, 6.5}));
}

// The TF 2 TensorArray: reserve, set, get, stack, and from-tensor, run by the executor.
TEST(InlineFunctions, TensorListKernels) {
  tf::GraphDef g;
  test::add_placeholder(&g, "x", {3, 2});
  const_node(&g, "shape", values_tensor<std::int32_t>(tf::DT_INT32, {1}, {2}));
  const_node(&g, "unknown", scalar_int(-1));
  const_node(&g, "n", scalar_int(3));
  const_node(&g, "i0", scalar_int(0));
  const_node(&g, "i2", scalar_int(2));
  auto typed = [&](tf::NodeDef* n) {
    (*n->mutable_attr())["element_dtype"].set_type(tf::DT_FLOAT);
    return n;
  };
  typed(test::add_node(&g, "from", "TensorListFromTensor", {"x", "shape"}));
  typed(test::add_node(&g, "row2", "TensorListGetItem", {"from", "i2", "shape"}));
  typed(test::add_node(&g, "reserved", "TensorListReserve", {"shape", "n"}));
  typed(test::add_node(&g, "set", "TensorListSetItem", {"reserved", "i2", "row2"}));
  typed(test::add_node(&g, "stacked", "TensorListStack", {"set", "unknown"}));
  const std::map<std::string, Tensor> feeds = {{"x", floats({3, 2}, {1, 2, 3, 4, 5, 6})}};
  EXPECT_EQ(eval(g, feeds, "row2"), (std::vector<double>{5, 6}));
  Tensor stacked = runtime::Executor(g).run(feeds, {"stacked"})[0];
  EXPECT_EQ(stacked.shape, (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(as_doubles(stacked), (std::vector<double>{0, 0, 0, 0, 5, 6}));  // unset items read as zeros
  typed(test::add_node(&g, "bad", "TensorListGetItem", {"from", "n", "shape"}));
  EXPECT_THROW(runtime::Executor(g).run(feeds, {"bad"}), Error);  // index 3 of 3
}

// A Keras-like loop: out[k] = xs[0] + ... + xs[k] through TensorLists, i < limit.
// limit_from: "const" (3), or "placeholder" (an int32 input: not static).
tf::GraphDef cumulative_sum_loop(const std::string& limit_from) {
  tf::GraphDef g;
  const std::vector<std::pair<std::string, tf::DataType>> vars = {
      {"i", tf::DT_INT32}, {"limit", tf::DT_INT32}, {"acc", tf::DT_FLOAT}, {"in_list", tf::DT_VARIANT}, {"out_list", tf::DT_VARIANT}};
  Fn cond(&g, "cond", vars, {{"go", tf::DT_BOOL}});
  cond.node("less", "Less", {"i", "limit"}, tf::DT_INT32);
  cond.ret("go", "less:z:0");
  std::vector<std::pair<std::string, tf::DataType>> outs;
  for (const auto& [n, t] : vars) outs.push_back({n + "_next", t});
  Fn body(&g, "body", vars, outs);
  body.constant("one", scalar_int(1));
  body.constant("shape", values_tensor<std::int32_t>(tf::DT_INT32, {1}, {2}));
  auto list_op = [&](const std::string& name, const std::string& op, std::vector<std::string> in) {
    auto* n = body.node(name, op, std::move(in));
    n->mutable_attr()->erase("T");
    (*n->mutable_attr())["element_dtype"].set_type(tf::DT_FLOAT);
  };
  list_op("item", "TensorListGetItem", {"in_list", "i", "shape:output:0"});
  body.node("sum", "AddV2", {"acc", "item:item:0"});
  list_op("write", "TensorListSetItem", {"out_list", "i", "sum:z:0"});
  body.node("inc", "AddV2", {"i", "one:output:0"}, tf::DT_INT32);
  body.ret("i_next", "inc:z:0");
  body.ret("limit_next", "limit");
  body.ret("acc_next", "sum:z:0");
  body.ret("in_list_next", "in_list");
  body.ret("out_list_next", "write:output_handle:0");
  test::add_placeholder(&g, "xs", {3, 2});
  const_node(&g, "zero", scalar_int(0));
  const_node(&g, "three", scalar_int(3));
  const_node(&g, "item_shape", values_tensor<std::int32_t>(tf::DT_INT32, {1}, {2}));
  const_node(&g, "acc0", floats({2}, {0, 0}));
  if (limit_from == "placeholder") {
    auto* n = test::add_node(&g, "n", "Placeholder");
    (*n->mutable_attr())["dtype"].set_type(tf::DT_INT32);
    (*n->mutable_attr())["shape"].mutable_shape();
  }
  auto typed = [](tf::NodeDef* n) { (*n->mutable_attr())["element_dtype"].set_type(tf::DT_FLOAT); };
  typed(test::add_node(&g, "in_list", "TensorListFromTensor", {"xs", "item_shape"}));
  typed(test::add_node(&g, "out_list", "TensorListReserve", {"item_shape", "three"}));
  auto* loop = test::add_node(&g, "loop", "StatelessWhile",
                              {"zero", limit_from == "const" ? "three" : "n", "acc0", "in_list", "out_list"});
  (*loop->mutable_attr())["cond"].mutable_func()->set_name("cond");
  (*loop->mutable_attr())["body"].mutable_func()->set_name("body");
  for (const auto& [n, t] : vars) (*loop->mutable_attr())["T"].mutable_list()->add_type(t);
  typed(test::add_node(&g, "stacked", "TensorListStack", {"loop:4", "item_shape"}));
  identity(&g, "total", "loop:2");
  return g;
}

TEST(LoopPasses, StaticLoopsUnrollAndTheirListsBecomeSlicesAndAPack) {
  using passes::test_support::run_pass;
  tf::GraphDef original = cumulative_sum_loop("const");
  const Tensor xs = floats({3, 2}, {1, 2, 10, 20, 100, 200});
  EXPECT_EQ(eval(original, {{"xs", xs}}, "stacked"), (std::vector<double>{1, 2, 11, 22, 111, 222}));  // the executor's loop
  tf::GraphDef g = original;
  const std::vector<std::string> outputs = {"stacked", "total"};
  auto unrolled = run_pass("unroll_loops", &g, outputs);
  EXPECT_EQ(unrolled.changed, 1);
  EXPECT_EQ(count_op(g, "StatelessWhile"), 0);
  EXPECT_EQ(g.library().function_size(), 0);
  EXPECT_EQ(eval(g, {{"xs", xs}}, "stacked"), eval(original, {{"xs", xs}}, "stacked"));
  run_pass("fold_constants", &g, outputs);
  auto lowered = run_pass("lower_tensor_lists", &g, outputs);
  EXPECT_EQ(lowered.changed, 4) << (lowered.refused.empty() ? "" : lowered.refused[0]);  // three reads, one stack
  for (const auto& n : g.node()) EXPECT_EQ(n.op().rfind("TensorList", 0), std::string::npos) << n.name();
  EXPECT_EQ(count_op(g, "Pack"), 1);
  EXPECT_EQ(passes::test_support::max_difference(original, g, outputs), 0.0);
}

// --lower-loops writes a v1 loop; the executor runs it iteration by iteration (the loop's
// TensorLists included) to the same numbers as the functional While.
TEST(LoopPasses, LoweredV1LoopsRunInTheExecutor) {
  tf::GraphDef kept = cumulative_sum_loop("placeholder");
  tf::GraphDef lowered = kept;
  freeze::InlineOptions options;
  options.lower_loops = true;
  auto report = flatten(&lowered, options);
  EXPECT_EQ(report.loops_lowered, 1);
  EXPECT_EQ(count_op(lowered, "StatelessWhile"), 0);
  EXPECT_EQ(count_op(lowered, "LoopCond"), 1);
  EXPECT_EQ(count_op(lowered, "Enter"), 5);
  const Tensor xs = floats({3, 2}, {1, 2, 10, 20, 100, 200});
  for (std::int32_t n : {0, 1, 2, 3}) {
    std::map<std::string, Tensor> feeds = {{"xs", xs}, {"n", scalar_int(n)}};
    EXPECT_EQ(eval(lowered, feeds, "total"), eval(kept, feeds, "total")) << n;
    EXPECT_EQ(eval(lowered, feeds, "stacked"), eval(kept, feeds, "stacked")) << n;
  }
}

// A hostile v1 loop whose condition never turns false stops with an error, not a hang.
TEST(LoopPasses, EndlessV1LoopsStop) {
  tf::GraphDef g;
  const_node(&g, "x", floats({}, {1}));
  const_node(&g, "always", scalar_bool(true));
  auto enter = [&](const std::string& name, const std::string& in, tf::DataType t) {
    auto* n = test::add_node(&g, name, "Enter", {in});
    (*n->mutable_attr())["T"].set_type(t);
    (*n->mutable_attr())["frame_name"].set_s("endless");
  };
  enter("enter", "x", tf::DT_FLOAT);
  enter("enter_cond", "always", tf::DT_BOOL);
  auto* merge = test::add_node(&g, "merge", "Merge", {"enter", "next"});
  (*merge->mutable_attr())["N"].set_i(2);
  test::add_node(&g, "cond", "LoopCond", {"enter_cond"});
  test::add_node(&g, "switch", "Switch", {"merge", "cond"});
  test::add_node(&g, "exit", "Exit", {"switch"});
  identity(&g, "body", "switch:1");
  test::add_node(&g, "next", "NextIteration", {"body"});
  try {
    runtime::Executor(g).run({}, {"exit"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("loop 'endless' stopped after"), std::string::npos) << e.what();
  }
}

// Frozen with --lower-loops: constants of the cond and the body keep the control edges that put
// them in the loop's frame (from the first Merge and the Switch's Identity; TensorFlow requires
// every node of a loop in its frame), while other ordering edges go.
TEST(LoopPasses, LoweredLoopConstantsStayInTheirFrame) {
  tf::GraphDef g;
  Fn cond(&g, "cond", {{"i", tf::DT_INT32}, {"acc", tf::DT_FLOAT}}, {{"go", tf::DT_BOOL}});
  cond.constant("four", scalar_int(4));
  cond.node("less", "Less", {"i", "four:output:0"}, tf::DT_INT32);
  cond.ret("go", "less:z:0");
  Fn body(&g, "body", {{"i", tf::DT_INT32}, {"acc", tf::DT_FLOAT}}, {{"i_next", tf::DT_INT32}, {"acc_next", tf::DT_FLOAT}});
  body.constant("one", scalar_int(1));
  body.constant("two", floats({}, {2}));
  body.node("inc", "AddV2", {"i", "one:output:0"}, tf::DT_INT32);
  body.node("twice", "Mul", {"acc", "two:output:0"});
  body.ret("i_next", "inc:z:0");
  body.ret("acc_next", "twice:z:0");
  test::add_placeholder(&g, "x", {2});
  const_node(&g, "zero", scalar_int(0));
  auto* loop = test::add_node(&g, "loop", "StatelessWhile", {"zero", "x"});
  (*loop->mutable_attr())["cond"].mutable_func()->set_name("cond");
  (*loop->mutable_attr())["body"].mutable_func()->set_name("body");
  for (auto t : {tf::DT_INT32, tf::DT_FLOAT}) (*loop->mutable_attr())["T"].mutable_list()->add_type(t);
  identity(&g, "out", "loop:1");
  freeze::FreezeOptions options;
  options.outputs = {"out"};
  options.lower_loops = true;
  freeze::FreezeResult r = freeze::freeze_model(model_of(g), nullptr, options);
  std::map<std::string, std::string> op_of;
  for (const auto& n : r.graph.node()) op_of[n.name()] = n.op();
  std::map<std::string, int> tied;  // op of the control source -> constants it ties in
  for (const auto& n : r.graph.node())
    if (n.op() == "Const")
      for (const auto& in : n.input())
        if (in[0] == '^') ++tied[op_of[in.substr(1)]];
  EXPECT_EQ(tied["Merge"], 1);     // "four"
  EXPECT_EQ(tied["Identity"], 2);  // "one", "two"
  EXPECT_EQ(eval(r.graph, {{"x", floats({2}, {1, -3})}}, "out"), (std::vector<double>{16, -48}));
}

TEST(LoopPasses, LoopsWithoutAStaticTripCountStay) {
  using passes::test_support::run_pass;
  tf::GraphDef g = cumulative_sum_loop("placeholder");  // limit is an input
  auto r = run_pass("unroll_loops", &g, {"stacked", "total"});
  EXPECT_EQ(r.changed, 0);
  EXPECT_TRUE(passes::test_support::said(r, "loop", "not static")) << (r.refused.empty() ? "" : r.refused[0]);
  EXPECT_EQ(count_op(g, "StatelessWhile"), 1);
  tf::GraphDef capped = cumulative_sum_loop("const");
  auto c = run_pass("unroll_loops", &capped, {"stacked", "total"}, {{"max_iterations", "2"}});
  EXPECT_EQ(c.changed, 0);
  EXPECT_TRUE(passes::test_support::said(c, "loop", "max_iterations=2"));
  // Lists whose indices are computed stay lists.
  tf::GraphDef lists;
  test::add_placeholder(&lists, "xs", {3, 2});
  auto* k = test::add_node(&lists, "k", "Placeholder");
  (*k->mutable_attr())["dtype"].set_type(tf::DT_INT32);
  const_node(&lists, "shape", values_tensor<std::int32_t>(tf::DT_INT32, {1}, {2}));
  for (auto* n : {test::add_node(&lists, "list", "TensorListFromTensor", {"xs", "shape"}),
                  test::add_node(&lists, "row", "TensorListGetItem", {"list", "k", "shape"})})
    (*n->mutable_attr())["element_dtype"].set_type(tf::DT_FLOAT);
  auto l = run_pass("lower_tensor_lists", &lists, {"row"});
  EXPECT_EQ(l.changed, 0);
  EXPECT_TRUE(passes::test_support::said(l, "row", "not a constant"));
}

}  // namespace
}  // namespace tffreeze
