#include "runtime/executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>

#include "common/error.h"
#include "graph/function_graph.h"
#include "graph/graph_view.h"
#include "runtime/kernel.h"
#include "runtime/loop_frames.h"

namespace tffreeze::runtime {
namespace {

struct NodeState {
  // Shared so that constants and identities pass values along without copying them.
  std::vector<std::shared_ptr<const Tensor>> outputs;
  std::vector<bool> fed;  // per output index, for fed tensors
  bool dead = false;
  int pending_consumers = 0;  // how many needed consumers still have to read the outputs
  bool fetched = false;
  bool held = false;          // read by a loop frame: kept to the end of the run
};

void show_outputs(const Executor::Observer& observer, const tf::NodeDef& node, const NodeState& s) {
  if (s.dead) return;
  for (std::size_t k = 0; k < s.outputs.size(); ++k)
    if (s.outputs[k]) observer(node, static_cast<int>(k), *s.outputs[k]);
}

// Ops whose output is their first input, shared rather than copied.
bool is_pass_through(const std::string& op) {
  return op == "Identity" || op == "StopGradient" || op == "PreventGradient" || op == "Snapshot" || op == "PlaceholderWithDefault" ||
         is_loop_op(op);  // Enter, Exit, NextIteration, LoopCond: the frame runner gives them their meaning
}

// Untrusted graphs must not loop forever (nor for minutes): iterations, and iterations times
// the loop's size, are capped.
// What one loop (with its inner loops) may run before the executor gives up; see set_loop_limits.
std::atomic<std::int64_t> max_loop_iterations{1'000'000};
std::atomic<std::int64_t> max_loop_node_runs{20'000'000};

// The value behind data input number `k` of node i (skipping control inputs).
std::shared_ptr<const Tensor> shared_input(const graph::GraphView& view, int i, int k, const std::vector<NodeState>& state) {
  int seen = 0;
  for (const auto& e : view.inputs(i)) {
    if (e.control()) continue;
    if (seen++ == k) return state[static_cast<std::size_t>(e.producer)].outputs[static_cast<std::size_t>(e.output)];
  }
  return nullptr;
}

// The schedule outside loops with each Const moved to just before its first reader: a value is
// then decoded when it is needed, not all of them first (an exported graph lists its weights
// first). Consts with control inputs, or read inside a loop, keep their place.
std::vector<int> constants_just_in_time(const graph::GraphView& view, const LoopFrames& frames) {
  auto movable = [&](int i) {
    if (view.node(i).op() != "Const" || !view.inputs(i).empty()) return false;
    for (const auto& e : view.consumers(i))
      if (frames.frame_of[static_cast<std::size_t>(e.consumer)] >= 0) return false;
    return true;
  };
  std::vector<int> schedule;
  std::vector<bool> placed(static_cast<std::size_t>(view.size()), false);
  for (int step : frames.schedule) {
    if (step >= 0 && movable(step)) continue;
    if (step >= 0) {
      for (const auto& e : view.inputs(step)) {
        if (e.control() || placed[static_cast<std::size_t>(e.producer)] || !movable(e.producer)) continue;
        placed[static_cast<std::size_t>(e.producer)] = true;
        schedule.push_back(e.producer);
      }
    }
    schedule.push_back(step);
  }
  for (int step : frames.schedule)  // fetched, read by nobody
    if (step >= 0 && movable(step) && !placed[static_cast<std::size_t>(step)]) schedule.push_back(step);
  return schedule;
}

}  // namespace

struct Executor::Plan : FunctionCaller {
  Plan(const tf::GraphDef& g, const tf::FunctionDefLibrary& lib)
      : view(g), order(view.topological_order()), frames(find_loop_frames(view, order)), schedule(constants_just_in_time(view, frames)),
        constants(static_cast<std::size_t>(view.size())), library(lib), functions(lib) {}
  graph::GraphView view;
  std::vector<int> order;
  LoopFrames frames;
  std::vector<int> schedule;  // frames.schedule, constants just in time
  bool keep_constants = true;
  mutable std::mutex constants_mutex;
  mutable std::vector<std::shared_ptr<const Tensor>> constants;  // decoded Const values (keep_constants)

  // Library functions, each turned into a graph with its own executor on first call.
  struct Function {
    graph::FunctionGraph body;
    std::unique_ptr<Executor> executor;
  };
  const tf::FunctionDefLibrary& library;
  graph::FunctionIndex functions;
  mutable std::mutex functions_mutex;
  mutable std::map<std::string, std::unique_ptr<Function>> compiled;

  // Runs node i (not fed) on the values in `state`: dead inputs make it dead (a Merge takes
  // its first live input), constants are decoded once, kernels fill its outputs.
  // The data inputs of node i that it may overwrite: computed values this node is the last to
  // read (once), that nothing else shares (constants and identities share theirs) and that are
  // not fetched, fed, or read again by a loop.
  std::vector<bool> reusable_inputs(int i, const std::vector<NodeState>& state) const {
    std::vector<bool> out;
    const auto& edges = view.inputs(i);
    for (const auto& e : edges) {
      if (e.control()) continue;
      const auto& p = state[static_cast<std::size_t>(e.producer)];
      const auto k = static_cast<std::size_t>(e.output);
      const auto reads = std::count_if(edges.begin(), edges.end(), [&](const auto& o) { return o.producer == e.producer; });
      out.push_back(p.pending_consumers == 1 && reads == 1 && !p.fetched && !p.held && p.fed.empty() && k < p.outputs.size() && p.outputs[k] &&
                    p.outputs[k].use_count() == 1);
    }
    return out;
  }

  // A Switch's taken output shares its data input, as an identity does; the other is dead. The
  // kernel, given no data, checks the predicate and makes the dead output.
  static std::vector<std::shared_ptr<const Tensor>> switch_outputs(const tf::NodeDef& node, const Tensor& pred, std::shared_ptr<const Tensor> data) {
    const Tensor nothing;
    KernelContext ctx(node, {&nothing, &pred});
    KernelRegistry::global().find("Switch")(ctx);
    std::vector<std::shared_ptr<const Tensor>> outputs;
    for (auto& t : ctx.outputs()) outputs.push_back(std::make_shared<const Tensor>(std::move(t)));
    outputs.at(pred.bytes.at(0) != 0 ? 1 : 0) = std::move(data);
    return outputs;
  }

  void execute(int i, std::vector<NodeState>& state, std::map<std::string, double>* profile) const {
    const auto& kernels = KernelRegistry::global();
    const tf::NodeDef& node = view.node(i);
    auto& s = state[static_cast<std::size_t>(i)];
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
        Tensor index{tf::DT_INT32, {}, std::string(4, '\0'), {}, {}};
        std::memcpy(index.bytes.data(), &live, 4);
        s.outputs = {shared_input(view, i, live, state), std::make_shared<const Tensor>(std::move(index))};
      }
    } else if (any_dead) {
      s.dead = true;
    } else if (node.op() == "Const" && !keep_constants) {
      KernelContext ctx(node, {});
      kernels.find("Const")(ctx);
      s.outputs = {std::make_shared<const Tensor>(std::move(ctx.output(0)))};
    } else if (node.op() == "Const") {
      std::shared_ptr<const Tensor> value;
      {
        std::lock_guard<std::mutex> lock(constants_mutex);
        auto& cached = constants[static_cast<std::size_t>(i)];
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
    } else if ((node.op() == "Switch" || node.op() == "RefSwitch") && inputs.size() == 2) {
      s.outputs = switch_outputs(node, *inputs[1], shared_input(view, i, 0, state));
    } else if (node.op() == "Placeholder") {
      throw Error(ExitCode::kBadInput, "input '" + node.name() + "' was not fed (give --input " + node.name() + "=FILE.npy)");
    } else {
      Kernel kernel = kernels.find(node.op());
      if (!kernel && functions.find(node.op())) kernel = kernels.find("PartitionedCall");  // op named after a function
      if (!kernel) throw Error(ExitCode::kUnsupported, "node '" + node.name() + "': no kernel for op " + node.op());
      KernelContext ctx(node, std::move(inputs));
      ctx.set_reusable_inputs(reusable_inputs(i, state));
      ctx.set_functions(this);
      auto start = std::chrono::steady_clock::now();
      kernel(ctx);
      if (profile) (*profile)[node.op()] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      s.outputs.clear();
      for (auto& t : ctx.outputs()) s.outputs.push_back(std::make_shared<const Tensor>(std::move(t)));
    }
  }

  // Runs loop frame f to its end: each iteration runs the frame's steps in order (an inner
  // frame is one step, run to its end and re-entered every iteration), a loop Merge taking the
  // Enter value first and then the previous iteration's NextIteration value; when LoopCond is
  // false the Switches send the values to the Exits and the frame is done. `node_runs` counts
  // over the outermost loop, so that nested loops cannot multiply the work past the cap.
  void run_frame(int f, const std::vector<bool>& needed, std::vector<NodeState>& state, std::int64_t& node_runs,
                 std::map<std::string, double>* profile, const Observer* observer) const {
    const std::vector<int> steps = needed_steps(f, needed);
    const std::string& name = frames.names[static_cast<std::size_t>(f)];
    std::map<int, std::shared_ptr<const Tensor>> carried;  // NextIteration node -> its last value (null: dead)
    for (std::int64_t iteration = 0;; ++iteration) {
      if (iteration > max_loop_iterations || node_runs > max_loop_node_runs) {
        throw Error(ExitCode::kBadInput, "loop '" + name + "' stopped after " + std::to_string(iteration) + " iterations (at most " +
                                             std::to_string(max_loop_iterations.load()) + ", and " + std::to_string(max_loop_node_runs.load()) +
                                             " node runs, inner loops included)");
      }
      node_runs += static_cast<std::int64_t>(steps.size());
      bool go_on = false, saw_cond = false;
      for (int step : steps) {
        if (step < 0) {
          run_frame(-step - 1, needed, state, node_runs, profile, observer);
          continue;
        }
        if (!run_loop_node(step, iteration, carried, state, profile)) continue;
        if (observer) show_outputs(*observer, view.node(step), state[static_cast<std::size_t>(step)]);
        if (view.node(step).op() != "LoopCond") continue;
        const auto& s = state[static_cast<std::size_t>(step)];
        saw_cond = true;
        go_on = !s.dead && !s.outputs.empty() && s.outputs[0] && s.outputs[0]->num_elements() == 1 && element_as_double(*s.outputs[0], 0) != 0;
      }
      if (!saw_cond) throw Error(ExitCode::kBadInput, "loop '" + name + "' has no LoopCond");
      if (!go_on) return;
      for (int i : steps) {
        if (i < 0 || !is_next_iteration(i)) continue;
        const auto& s = state[static_cast<std::size_t>(i)];
        carried[i] = s.dead || s.outputs.empty() ? nullptr : s.outputs[0];
      }
    }
  }

  // Frame f's steps that the fetches need: its own nodes, and inner frames with a needed node.
  std::vector<int> needed_steps(int f, const std::vector<bool>& needed) const {
    std::vector<int> steps;
    for (int step : frames.steps[static_cast<std::size_t>(f)]) {
      if (step >= 0 ? needed[static_cast<std::size_t>(step)] : any_needed(-step - 1, needed)) steps.push_back(step);
    }
    return steps;
  }
  bool any_needed(int f, const std::vector<bool>& needed) const {
    for (int i : frames.members[static_cast<std::size_t>(f)])
      if (needed[static_cast<std::size_t>(i)]) return true;
    return false;
  }

  // Runs node i of a frame in the given iteration; false for an Enter after the first
  // iteration, which keeps the value it entered with (entered once per run of the frame).
  bool run_loop_node(int i, std::int64_t iteration, std::map<int, std::shared_ptr<const Tensor>>& carried, std::vector<NodeState>& state,
                     std::map<std::string, double>* profile) const {
    const std::string& op = view.node(i).op();
    if (iteration > 0 && (op == "Enter" || op == "RefEnter")) return false;
    auto& s = state[static_cast<std::size_t>(i)];
    s.outputs.clear();
    s.dead = false;
    const int next = op == "Merge" || op == "RefMerge" ? merge_from_next_iteration(i) : -1;
    if (next < 0) {
      execute(i, state, profile);
    } else if (iteration == 0) {  // the loop Merge takes the value from outside: its Enter's
      for (const auto& e : view.inputs(i)) {
        if (e.control() || is_next_iteration(e.producer)) continue;
        const auto& p = state[static_cast<std::size_t>(e.producer)];
        if (p.dead || p.outputs.empty()) s.dead = true;
        else s.outputs = {p.outputs[static_cast<std::size_t>(e.output)], index_tensor(0)};
        break;
      }
    } else if (auto value = carried[next]; value) {
      s.outputs = {value, index_tensor(1)};
    } else {
      s.dead = true;
    }
    return true;
  }

  bool is_next_iteration(int i) const { return view.node(i).op() == "NextIteration" || view.node(i).op() == "RefNextIteration"; }
  // The NextIteration feeding a loop Merge, or -1 for a cond's Merge.
  int merge_from_next_iteration(int i) const {
    for (const auto& e : view.inputs(i))
      if (!e.control() && is_next_iteration(e.producer)) return e.producer;
    return -1;
  }
  static std::shared_ptr<const Tensor> index_tensor(std::int32_t k) {
    Tensor index{tf::DT_INT32, {}, std::string(4, '\0'), {}, {}};
    std::memcpy(index.bytes.data(), &k, 4);
    return std::make_shared<const Tensor>(std::move(index));
  }

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

void set_loop_limits(std::int64_t iterations, std::int64_t node_runs) {
  max_loop_iterations = iterations;
  max_loop_node_runs = node_runs;
}

Executor::Executor(const tf::GraphDef& graph, const tf::FunctionDefLibrary* library)
    : plan_(std::make_unique<Plan>(graph, library ? *library : graph.library())) {}
Executor::~Executor() = default;

void Executor::set_keep_constants(bool keep) { plan_->keep_constants = keep; }

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
    if (observer_) observer_(view.node(i), ref.index, value);
  }
  std::vector<bool> needed = view.needed_by(fetches, stop);
  for (const auto& f : fetches) state[static_cast<std::size_t>(view.find(graph::parse_input(f).node))].fetched = true;
  for (int i = 0; i < n; ++i) {
    if (!needed[i] || !state[static_cast<std::size_t>(i)].fed.empty()) continue;
    // What a loop reads is read again every iteration: it is never released.
    const bool in_loop = plan_->frames.frame_of[static_cast<std::size_t>(i)] >= 0;
    for (const auto& e : view.inputs(i)) {
      auto& p = state[static_cast<std::size_t>(e.producer)];
      if (in_loop) p.held = true;
      else ++p.pending_consumers;
    }
  }
  for (int step : plan_->schedule) {
    if (step < 0) {  // a loop frame, run to its end
      const int f = -step - 1;
      std::int64_t node_runs = 0;  // capped per outermost loop, its inner loops included
      if (plan_->any_needed(f, needed)) plan_->run_frame(f, needed, state, node_runs, profile_, observe_loops_ && observer_ ? &observer_ : nullptr);
      continue;
    }
    const int i = step;
    if (!needed[i] || !state[static_cast<std::size_t>(i)].fed.empty()) continue;  // fed: its values are given
    plan_->execute(i, state, profile_);
    if (observer_) show_outputs(observer_, plan_->view.node(i), state[static_cast<std::size_t>(i)]);
    // Release inputs nobody else needs.
    for (const auto& e : view.inputs(i)) {
      auto& p = state[static_cast<std::size_t>(e.producer)];
      if (--p.pending_consumers == 0 && !p.fetched && !p.held) {
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

namespace {

bool runs_without_kernel(const std::string& op) {
  return op == "Const" || op == "Placeholder" || op == "Merge" || op == "RefMerge" || is_pass_through(op);
}

}  // namespace

std::map<std::string, std::vector<std::string>> ops_without_kernels(const tf::GraphDef& graph, const std::vector<std::string>& fetches) {
  graph::GraphView view(graph);
  auto needed = view.needed_by(fetches);
  std::vector<const tf::NodeDef*> nodes;
  for (int i = 0; i < view.size(); ++i)
    if (needed[static_cast<std::size_t>(i)]) nodes.push_back(&view.node(i));
  return ops_without_kernels(graph, nodes);
}

std::map<std::string, std::vector<std::string>> ops_without_kernels(const tf::GraphDef& graph, const std::vector<const tf::NodeDef*>& nodes) {
  const auto& kernels = KernelRegistry::global();
  graph::FunctionIndex functions(graph.library());
  std::map<std::string, std::vector<std::string>> missing;
  auto visit = [&](const tf::NodeDef& node, const std::string& scope) {
    if (runs_without_kernel(node.op()) || kernels.find(node.op()) || functions.find(node.op())) return;
    missing[node.op()].push_back(scope + node.name());
  };
  for (const auto* node : nodes) visit(*node, "");
  for (const auto& name : graph::reachable_functions(functions, nodes))
    if (const auto* f = functions.find(name))
      for (const auto& node : f->node_def()) visit(node, name + "/");
  return missing;
}

}  // namespace tffreeze::runtime
