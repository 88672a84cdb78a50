// Building library functions in tests (the bodies of functional If/While): a float-typed
// signature ("go" is the bool a While's condition returns) and nodes in a function body.
#pragma once

#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::test {

inline tf::FunctionDef* function(tf::GraphDef* g, const std::string& name, const std::vector<std::string>& args,
                                 const std::vector<std::string>& results) {
  auto* f = g->mutable_library()->add_function();
  f->mutable_signature()->set_name(name);
  for (const auto& a : args) {
    auto* arg = f->mutable_signature()->add_input_arg();
    arg->set_name(a);
    arg->set_type(tf::DT_FLOAT);
  }
  for (const auto& r : results) {
    auto* arg = f->mutable_signature()->add_output_arg();
    arg->set_name(r);
    arg->set_type(r == "go" ? tf::DT_BOOL : tf::DT_FLOAT);
  }
  return f;
}

// A node of a function body; `T` set to float32 unless `typed` is false.
inline tf::NodeDef* fn_node(tf::FunctionDef* f, const std::string& name, const std::string& op, std::vector<std::string> inputs,
                            bool typed = false) {
  auto* n = f->add_node_def();
  n->set_name(name);
  n->set_op(op);
  for (auto& in : inputs) n->add_input(in);
  if (typed) (*n->mutable_attr())["T"].set_type(tf::DT_FLOAT);
  return n;
}

}  // namespace tffreeze::test
