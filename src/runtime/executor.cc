#include "runtime/executor.h"

#include <chrono>
#include <optional>

#include "common/error.h"
#include "graph/function_graph.h"
#include "graph/graph_view.h"
#include "runtime/kernel.h"

namespace tffreeze::runtime {
namespace {

struct NodeState {
  // Shared so that constants and identities pass values along without copying them.
  std::vector<std::shared_ptr<const Tensor>> outputs;
  std::vector<bool> fed;  // per output index, for fed tensors
  bool dead = false;
  int pending_consumers = 0;  // how many needed consumers still have to read the outputs
  bool fetched = false;
};

// Ops whose output is their first input, shared rather than copied.
bool is_pass_through(const std::string& op) {
  return op == "Identity" || op == "StopGradient" || op == "PreventGradient" || op == "Snapshot" || op == "PlaceholderWithDefault";
}

bool is_loop_op(const std::string& op) {
  return op == "Enter" || op == "Exit" || op == "NextIteration" || op == "LoopCond" || op == "RefEnter" || op == "RefExit" ||
         op == "RefNextIteration";
}

// The value behind data input number `k` of node i (skipping control inputs).
std::shared_ptr<const Tensor> shared_input(const graph::GraphView& view, int i, int k, const std::vector<NodeState>& state) {
  int seen = 0;
  for (const auto& e : view.inputs(i)) {
    if (e.control()) continue;
    if (seen++ == k) return state[static_cast<std::size_t>(e.producer)].outputs[static_cast<std::size_t>(e.output)];
  }
  return nullptr;
}

}  // namespace

struct Executor::Plan : FunctionCaller {
  Plan(const tf::GraphDef& g, const tf::FunctionDefLibrary& lib)
      : view(g), order(view.topological_order()), constants(static_cast<std::size_t>(view.size())), library(lib), functions(lib) {}
  graph::GraphView view;
  std::vector<int> order;
  std::mutex constants_mutex;
  std::vector<std::shared_ptr<const Tensor>> constants;  // decoded Const values

  // Library functions, each turned into a graph with its own executor on first call.
  struct Function {
    graph::FunctionGraph body;
    std::unique_ptr<Executor> executor;
  };
  const tf::FunctionDefLibrary& library;
  graph::FunctionIndex functions;
  mutable std::mutex functions_mutex;
  mutable std::map<std::string, std::unique_ptr<Function>> compiled;

  std::vector<Tensor> call(const std::string& name, const std::vector<Tensor>& args) const override {
    // Recursion guard: a function that calls itself must fail, not overflow the stack.
    static thread_local int depth = 0;
    if (depth >= 64) throw Error(ExitCode::kUnsupported, "function '" + name + "': calls nest deeper than 64 (recursion?)");
    const Function* f = nullptr;
    {
      std::lock_guard<std::mutex> lock(functions_mutex);
      auto& slot = compiled[name];
      if (!slot) {
        const tf::FunctionDef* def = functions.find(name);
        if (!def) throw Error(ExitCode::kBadInput, "function '" + name + "' is not in the graph's library");
        auto entry = std::make_unique<Function>();
        entry->body = graph::function_to_graph(*def, functions);
        entry->executor = std::make_unique<Executor>(entry->body.graph, &library);
        slot = std::move(entry);
      }
      f = slot.get();
    }
    if (args.size() != f->body.args.size()) {
      throw Error(ExitCode::kBadInput, "function '" + name + "' takes " + std::to_string(f->body.args.size()) + " arguments, got " +
                                           std::to_string(args.size()));
    }
    std::map<std::string, Tensor> feeds;
    for (std::size_t i = 0; i < args.size(); ++i) feeds[f->body.args[i]] = args[i];
    ++depth;
    try {
      auto out = f->executor->run(feeds, f->body.outputs);
      --depth;
      return out;
    } catch (...) {
      --depth;
      throw;
    }
  }
};

Executor::Executor(const tf::GraphDef& graph, const tf::FunctionDefLibrary* library)
    : plan_(std::make_unique<Plan>(graph, library ? *library : graph.library())) {}
Executor::~Executor() = default;

std::vector<Tensor> Executor::run(const std::map<std::string, Tensor>& feeds, const std::vector<std::string>& fetches) const {
  const graph::GraphView& view = plan_->view;
  const int n = view.size();
  std::vector<NodeState> state(static_cast<std::size_t>(n));
  std::vector<std::string> stop;
  for (const auto& [name, value] : feeds) {
    graph::TensorRef ref = graph::parse_input(name);
    int i = view.find(ref.node);
    if (i < 0 || !ref.valid || ref.control) throw Error(ExitCode::kBadInput, "feed '" + name + "' names no node of the graph");
    auto& s = state[static_cast<std::size_t>(i)];
    if (static_cast<int>(s.outputs.size()) <= ref.index) {
      s.outputs.resize(static_cast<std::size_t>(ref.index) + 1);
      s.fed.resize(static_cast<std::size_t>(ref.index) + 1, false);
    }
    s.outputs[static_cast<std::size_t>(ref.index)] = std::make_shared<const Tensor>(value);
    s.fed[static_cast<std::size_t>(ref.index)] = true;
    stop.push_back(std::string(ref.node));
  }
  std::vector<bool> needed = view.needed_by(fetches, stop);
  for (const auto& f : fetches) state[static_cast<std::size_t>(view.find(graph::parse_input(f).node))].fetched = true;
  for (int i = 0; i < n; ++i) {
    if (!needed[i] || !state[static_cast<std::size_t>(i)].fed.empty()) continue;
    for (const auto& e : view.inputs(i)) ++state[static_cast<std::size_t>(e.producer)].pending_consumers;
  }
  const auto& kernels = KernelRegistry::global();
  for (int i : plan_->order) {
    if (!needed[i]) continue;
    auto& s = state[static_cast<std::size_t>(i)];
    const tf::NodeDef& node = view.node(i);
    if (!s.fed.empty()) continue;  // fed: its values are given
    if (is_loop_op(node.op())) {
      throw Error(ExitCode::kUnsupported, "node '" + node.name() + "' (" + node.op() + "): v1 while loops are not supported by the executor");
    }
    // Gather inputs; a dead input makes the node dead, except for Merge.
    std::vector<const Tensor*> inputs;
    std::vector<bool> input_dead;
    bool any_dead = false;
    for (const auto& e : view.inputs(i)) {
      auto& p = state[static_cast<std::size_t>(e.producer)];
      if (e.control()) {
        any_dead |= p.dead;
        continue;
      }
      // A Switch leaves its untaken output without a dtype: that output is dead.
      bool dead = p.dead || (p.fed.empty() && e.output < static_cast<int>(p.outputs.size()) &&
                             (!p.outputs[static_cast<std::size_t>(e.output)] ||
                              p.outputs[static_cast<std::size_t>(e.output)]->dtype == tf::DT_INVALID));
      const Tensor* value = nullptr;
      if (!dead) {
        if (e.output >= static_cast<int>(p.outputs.size()) || (!p.fed.empty() && !p.fed[static_cast<std::size_t>(e.output)])) {
          if (!p.fed.empty()) {
            throw Error(ExitCode::kBadInput, "node '" + node.name() + "' needs '" + node.input(e.input_slot) +
                                                 "', which was not fed (only other outputs of that node were)");
          }
          throw Error(ExitCode::kBadInput, "node '" + node.name() + "': input '" + node.input(e.input_slot) + "' does not exist");
        }
        value = p.outputs[static_cast<std::size_t>(e.output)].get();
        if (!value) throw Error(ExitCode::kBadInput, "node '" + node.name() + "': input '" + node.input(e.input_slot) + "' was not fed");
      }
      inputs.push_back(value);
      input_dead.push_back(dead);
      any_dead |= dead;
    }
    if (node.op() == "Merge" || node.op() == "RefMerge") {
      int live = -1;
      for (std::size_t k = 0; k < inputs.size(); ++k)
        if (!input_dead[k]) {
          live = static_cast<int>(k);
          break;
        }
      if (live < 0) {
        s.dead = true;
      } else {
        Tensor index{tf::DT_INT32, {}, std::string(4, '\0'), {}};
        std::memcpy(index.bytes.data(), &live, 4);
        s.outputs = {shared_input(view, i, live, state), std::make_shared<const Tensor>(std::move(index))};
      }
    } else if (any_dead) {
      s.dead = true;
    } else if (node.op() == "Const") {
      std::shared_ptr<const Tensor> value;
      {
        std::lock_guard<std::mutex> lock(plan_->constants_mutex);
        auto& cached = plan_->constants[static_cast<std::size_t>(i)];
        if (!cached) {
          KernelContext ctx(node, {});
          kernels.find("Const")(ctx);
          cached = std::make_shared<const Tensor>(std::move(ctx.output(0)));
        }
        value = cached;
      }
      s.outputs = {value};
    } else if (is_pass_through(node.op())) {
      s.outputs = {shared_input(view, i, 0, state)};
    } else if (node.op() == "Placeholder") {
      throw Error(ExitCode::kBadInput, "input '" + node.name() + "' was not fed (give --input " + node.name() + "=FILE.npy)");
    } else {
      Kernel kernel = kernels.find(node.op());
      if (!kernel && plan_->functions.find(node.op())) kernel = kernels.find("PartitionedCall");  // op named after a function
      if (!kernel) throw Error(ExitCode::kUnsupported, "node '" + node.name() + "': no kernel for op " + node.op());
      KernelContext ctx(node, std::move(inputs));
      ctx.set_functions(plan_.get());
      auto start = std::chrono::steady_clock::now();
      kernel(ctx);
      if (profile_) (*profile_)[node.op()] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      s.outputs.clear();
      for (auto& t : ctx.outputs()) s.outputs.push_back(std::make_shared<const Tensor>(std::move(t)));
    }
    // Release inputs nobody else needs.
    for (const auto& e : view.inputs(i)) {
      auto& p = state[static_cast<std::size_t>(e.producer)];
      if (--p.pending_consumers == 0 && !p.fetched) {
        p.outputs.clear();
        p.outputs.shrink_to_fit();
      }
    }
  }
  std::vector<Tensor> results;
  for (const auto& f : fetches) {
    graph::TensorRef ref = graph::parse_input(f);
    const auto& s = state[static_cast<std::size_t>(view.find(ref.node))];
    if (s.dead) throw Error(ExitCode::kBadInput, "fetch '" + f + "' is on a branch of a cond that was not taken");
    if (ref.index >= static_cast<int>(s.outputs.size()) || !s.outputs[static_cast<std::size_t>(ref.index)] ||
        s.outputs[static_cast<std::size_t>(ref.index)]->dtype == tf::DT_INVALID) {
      throw Error(ExitCode::kBadInput, "fetch '" + f + "': the node has no output " + std::to_string(ref.index) + " (or it is dead)");
    }
    results.push_back(*s.outputs[static_cast<std::size_t>(ref.index)]);
  }
  return results;
}

}  // namespace tffreeze::runtime
