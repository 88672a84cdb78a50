// TF 2 graphs run their work in functions. Freezing needs one flat graph: every call
// (PartitionedCall, StatefulPartitionedCall, a node whose op is a library function) is replaced
// by the callee's body, recursively; If/Case with a constant predicate by the taken branch; If
// with a computed predicate is lowered to v1 Switch/Merge. While loops stay, with their cond and
// body functions (and what those call) left in the library, or become v1 loops by option.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::freeze {

namespace tf = ::tffreeze::tf;

struct InlineReport {
  int calls_inlined = 0;
  int conds_taken = 0;    // If/Case whose predicate is a constant
  int conds_lowered = 0;  // If lowered to Switch/Merge
  int loops_lowered = 0;  // While lowered to a v1 loop (lower_loops)
  int loops_unrolled = 0;
  std::vector<std::string> cpu_implementations;  // "gpu_fn -> cpu_fn" swaps (api_implements)
  std::vector<std::string> kept_loops;           // While nodes left with their functions
  std::vector<std::string> kept_conds;           // If nodes left (lower_conds = false)
};

struct InlineOptions {
  // Keras RNN layers have one function per device that implement the same thing
  // (api_implements); the one preferring this device is used.
  std::string preferred_device = "CPU";
  // If with a computed predicate: lowered to Switch/Merge, or kept with its branch functions.
  bool lower_conds = true;
  // While: kept with its functions, or lowered to a v1 loop (Enter/Merge/Switch/NextIteration/
  // Exit) for runtimes that only know those.
  bool lower_loops = false;
  // While nodes to unroll instead, by name, with their (static) trip counts.
  std::map<std::string, int> unroll;
  // Recursion guard: a function calling itself would otherwise expand forever.
  int max_nodes = 1'000'000;
};

// Inlines in place. Call nodes whose outputs nothing reads are still inlined (their control
// outputs may matter). Throws Error: exit 3 for malformed functions, exit 4 for what cannot be
// flattened (Case with a computed index, growth past max_nodes).
void inline_functions(tf::GraphDef* graph, const InlineOptions& options, InlineReport* report);

// Keeps in the library only the functions that nodes of the graph still name (transitively).
void prune_library(tf::GraphDef* graph);

}  // namespace tffreeze::freeze
