// The reference CPU executor: runs the part of a GraphDef that the fetched tensors need, with
// the given feeds, one kernel per node in execution order. v1 cond (Switch/Merge) is handled by
// dead-tensor propagation as TensorFlow does; v1 while loops are not supported (exit 4).
// Functional ops (While, If, calls) run their library functions in nested executors.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::runtime {

class Executor {
 public:
  // The graph must outlive the executor. Indexing and execution order are computed here once;
  // constants are decoded on first use and kept for later runs.
  // `library`: where functions come from (default: the graph's own); it must outlive too.
  explicit Executor(const tffreeze::tf::GraphDef& graph, const tffreeze::tf::FunctionDefLibrary* library = nullptr);
  ~Executor();

  // feeds: tensor name ("x" or "x:0", "queue:1") -> value. fetches: tensor names.
  // Throws Error: exit 3 for a missing feed, a bad tensor name, kernel errors (shapes that do
  // not match); exit 4 for an op without a kernel (naming op and node).
  std::vector<Tensor> run(const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& fetches) const;

  // Constants are decoded when first read and by default kept for later runs. Not kept, each is
  // released after its last reader like any other tensor: a single run (the proof's) then holds
  // one weight at a time, not the graph's every weight decoded beside the graph.
  void set_keep_constants(bool keep);

  // When set, run() adds each kernel's wall time (milliseconds) to the entry of its op type.
  void set_profile(std::map<std::string, double>* per_op_ms) { profile_ = per_op_ms; }

  // When set, run() shows it every output of every node it runs outside loop frames (constants
  // included): what the ONNX exporter learns static shapes and dtypes from. `inside_loops`:
  // also the nodes of loop frames, once per iteration (a shape may change between iterations).
  using Observer = std::function<void(const tffreeze::tf::NodeDef& node, int output, const Tensor& value)>;
  void set_observer(Observer observer, bool inside_loops = false) {
    observer_ = std::move(observer);
    observe_loops_ = inside_loops;
  }

 private:
  struct Plan;
  std::unique_ptr<Plan> plan_;
  std::map<std::string, double>* profile_ = nullptr;
  Observer observer_;
  bool observe_loops_ = false;
};

// The most iterations and node runs one loop (with its inner loops) may take before run() fails
// (defaults 1,000,000 and 20,000,000). The fuzz targets lower them: a loop they make up must not
// outlast a sanitizer's time limit.
void set_loop_limits(std::int64_t iterations, std::int64_t node_runs);

// The ops that the fetches need and the executor has no kernel for (op -> node names), looking
// into the library functions those nodes call too. Empty when the graph can run.
std::map<std::string, std::vector<std::string>> ops_without_kernels(const tffreeze::tf::GraphDef& graph,
                                                                    const std::vector<std::string>& fetches);
// The same for the given nodes of `graph` (all of them: every node, for `inspect`).
std::map<std::string, std::vector<std::string>> ops_without_kernels(const tffreeze::tf::GraphDef& graph,
                                                                    const std::vector<const tffreeze::tf::NodeDef*>& nodes);

}  // namespace tffreeze::runtime
