// Graph transforms: one per file, registered by name (TensorFlow graph_transforms' names where
// one exists), composable in a pipeline such as
//   "strip_unused_nodes fold_constants(max_bytes=1048576) fold_batch_norms remove_nodes(op=Identity)".
// Each pass reports what it changed and what it matched but left alone, with the reason.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::passes {

namespace tf = ::tffreeze::tf;

struct PassContext {
  std::vector<std::string> inputs, outputs;   // the graph's interface: never removed or renamed
  std::map<std::string, std::string> args;    // name(arg=value) from the pipeline
};

struct PassReport {
  int changed = 0;                   // rewrites made
  std::vector<std::string> refused;  // "node 'x': why it was left alone"
};

using Pass = PassReport (*)(tf::GraphDef* graph, const PassContext& ctx);

struct PassInfo {
  std::string name;
  Pass run;
  std::string description;
};

class PassRegistry {
 public:
  static const PassRegistry& global();
  void add(std::string name, Pass run, std::string description);
  const PassInfo* find(const std::string& name) const;
  const std::vector<PassInfo>& all() const { return passes_; }

 private:
  std::vector<PassInfo> passes_;
};

struct PassInvocation {
  std::string name;
  std::map<std::string, std::string> args;
};

// Parses "a b(x=1, y=z) c". Throws Error (exit 2) naming the position of a syntax error or an
// unknown pass.
std::vector<PassInvocation> parse_pipeline(const std::string& spec);

struct PipelineStep {
  std::string pass;
  int nodes_before = 0, nodes_after = 0;
  std::size_t bytes_before = 0, bytes_after = 0;  // serialized size of the graph
  PassReport report;
};

// Integer argument `name` of the current pass, at least `lo`; a bad value is a usage error.
std::int64_t int_arg(const PassContext& ctx, const std::string& name, std::int64_t fallback, std::int64_t lo);

// The default pipeline of `tffreeze optimize`.
inline constexpr const char* kDefaultPipeline =
    "strip_unused_nodes remove_nodes(op=Identity) fold_constants fold_batch_norms sort_by_execution_order";

// Runs the passes in order on `graph`; ctx.args is set from each invocation. A pass whose result
// has a validation problem its input did not have throws Error (exit 5, internal) naming the pass
// and the node.
std::vector<PipelineStep> run_pipeline(tf::GraphDef* graph, const std::vector<PassInvocation>& pipeline, PassContext ctx,
                                       const PassRegistry& registry = PassRegistry::global());

// One per pass file; pass_registry.cc calls them all.
void register_strip_unused_nodes(PassRegistry& r);
void register_remove_nodes(PassRegistry& r);
void register_fold_constants(PassRegistry& r);
void register_fold_batch_norms(PassRegistry& r);
void register_sort_by_execution_order(PassRegistry& r);
void register_strip_training_ops(PassRegistry& r);
void register_add_default_attributes(PassRegistry& r);
void register_canonicalize_operands(PassRegistry& r);
void register_unfuse_ops(PassRegistry& r);
void register_fuse_bias_add(PassRegistry& r);
void register_merge_duplicate_nodes(PassRegistry& r);
void register_remove_device(PassRegistry& r);
void register_strip_attrs(PassRegistry& r);
void register_flatten_atrous_conv(PassRegistry& r);
void register_round_weights(PassRegistry& r);
void register_canonicalize_activations(PassRegistry& r);
void register_unpack_to_split(PassRegistry& r);
void register_unshare_constants(PassRegistry& r);
void register_matmul_bias_as_add(PassRegistry& r);
void register_unroll_loops(PassRegistry& r);
void register_lower_tensor_lists(PassRegistry& r);
void register_to_nchw(PassRegistry& r);

}  // namespace tffreeze::passes
