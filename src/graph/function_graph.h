// FunctionDef bodies as GraphDefs. Inside a FunctionDef a tensor is "node:out_arg:index" (the
// index counts within one output arg of the op) and an argument is its bare name; a GraphDef
// counts outputs across all args ("node:k"). The offsets come from the op's definition in the
// registry, or from the callee's signature when the op is itself a function.
#pragma once

#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

namespace tf = ::tffreeze::tf;

// Functions by name.
class FunctionIndex {
 public:
  FunctionIndex() = default;
  explicit FunctionIndex(const tf::FunctionDefLibrary& library);
  const tf::FunctionDef* find(const std::string& name) const;
  bool empty() const { return functions_.empty(); }

 private:
  std::unordered_map<std::string, const tf::FunctionDef*> functions_;
};

struct FunctionGraph {
  // Arguments are Placeholder nodes named as the args (attr dtype); body nodes keep their names.
  tf::GraphDef graph;
  std::vector<std::string> args;             // placeholder names, in signature order
  std::vector<std::string> outputs;          // graph tensor per output arg, in signature order
  std::vector<std::string> control_outputs;  // node names
};

// Throws Error (exit 3) naming the function for references to nothing, unknown output args,
// and missing return values.
FunctionGraph function_to_graph(const tf::FunctionDef& function, const FunctionIndex& library);

// Functional control flow ops (each with a stateful and a stateless form).
bool is_functional_while(const std::string& op);  // While, StatelessWhile
bool is_functional_if(const std::string& op);     // If, StatelessIf
bool is_functional_case(const std::string& op);   // Case, StatelessCase

// The function an attr names ("" when the node has no such func attr).
std::string function_attr(const tf::NodeDef& node, const std::string& attr);

// The function a call node runs: PartitionedCall/StatefulPartitionedCall's `f`, or the op itself
// when the library defines it. Empty for other nodes.
std::string called_function(const tf::NodeDef& node, const FunctionIndex& library);

// The functions these nodes run or name in attrs (call ops, functional control flow), and the
// functions those run in turn. Names missing from the library are left out.
std::set<std::string> reachable_functions(const FunctionIndex& library, const std::vector<const tf::NodeDef*>& roots);

}  // namespace tffreeze::graph
