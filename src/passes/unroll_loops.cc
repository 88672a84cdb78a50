// unroll_loops(max_iterations=1000): a While whose trip count is fixed becomes that many copies
// of its body, for runtimes without loops (OpenCV DNN, plain TFLite). Keras RNNs over a sequence
// of static length are such loops: the counters (loop counter, time step, limits) start as
// constants and are updated from constants only, so the cond can be evaluated ahead of time.
// The loop variables the cond depends on are found by their data dependencies in the cond and
// body functions; those are iterated with the executor until the cond is false. Loops whose cond
// depends on a computed value, or that run longer than max_iterations, are left alone with the
// reason. lower_tensor_lists then turns the unrolled TensorList traffic into slices and a Pack.
#include <optional>
#include <set>

#include "common/error.h"
#include "freeze/inline_functions.h"
#include "graph/function_graph.h"
#include "graph/graph_view.h"
#include "graph/op_registry.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

namespace tffreeze::passes {
namespace {

// Indices of the arguments (placeholders) that `outputs` of a function graph read.
std::set<int> args_needed(const graph::FunctionGraph& f, const std::vector<std::string>& outputs, bool* stateful) {
  graph::GraphView view(f.graph);
  std::vector<bool> needed = view.needed_by(outputs);
  std::set<int> args;
  for (std::size_t a = 0; a < f.args.size(); ++a)
    if (needed[static_cast<std::size_t>(view.find(f.args[a]))]) args.insert(static_cast<int>(a));
  for (int i = 0; i < view.size(); ++i) {
    if (!needed[static_cast<std::size_t>(i)]) continue;
    const auto* def = graph::OpRegistry::global().find(view.node(i).op());
    if (def && def->is_stateful()) *stateful = true;
  }
  return args;
}

// The value of `tensor` when it is the same for any input: a sequence length read from the
// static dimension of an input whose batch dimension is unknown. It must depend on the inputs'
// shapes only (every path from an input passes Shape/Size/Rank), and running the graph on inputs
// of two different sizes (unknown dimensions 1, then 3) must give the same value; nullopt
// otherwise, or when the tensor is a variant or cannot be computed.
std::optional<Tensor> input_invariant_value(const tf::GraphDef& graph, const std::string& tensor) {
  // Only input shapes may flow in: every path from an input passes a shape query.
  {
    graph::GraphView view(graph);
    std::vector<bool> seen(static_cast<std::size_t>(view.size()), false);
    std::vector<int> todo = {view.find(graph::parse_input(tensor).node)};
    while (!todo.empty()) {
      int i = todo.back();
      todo.pop_back();
      if (i < 0 || seen[static_cast<std::size_t>(i)]) continue;
      seen[static_cast<std::size_t>(i)] = true;
      const std::string& op = view.node(i).op();
      if (op == "Shape" || op == "Size" || op == "Rank" || op == "ShapeN") continue;
      if (op == "Placeholder" || op == "PlaceholderWithDefault") return std::nullopt;
      for (const auto& e : view.inputs(i)) todo.push_back(e.producer);
    }
  }
  auto placeholders = runtime::needed_placeholders(graph, {tensor});
  std::vector<Tensor> probes;
  for (std::int64_t unknown : {1, 3}) {
    std::map<std::string, std::vector<std::int64_t>> shapes;
    for (const auto* p : placeholders) {
      if (!p->attr().count("shape") || p->attr().at("shape").shape().unknown_rank()) return std::nullopt;
      std::vector<std::int64_t> dims;
      for (const auto& d : p->attr().at("shape").shape().dim()) dims.push_back(d.size() < 0 ? unknown : d.size());
      shapes[p->name()] = dims;
    }
    try {
      probes.push_back(runtime::Executor(graph).run(runtime::random_feeds(placeholders, shapes, 7 + static_cast<std::uint64_t>(unknown)), {tensor})[0]);
    } catch (const Error&) {
      return std::nullopt;
    }
    if (probes.back().dtype == tf::DT_VARIANT || probes.back().dtype == tf::DT_RESOURCE) return std::nullopt;
  }
  if (!(probes[0] == probes[1])) return std::nullopt;
  return probes[0];
}

// How many times the loop runs, or the reason it cannot be known here.
std::optional<int> trip_count(const graph::GraphView& view, int w, const tf::FunctionDefLibrary& library, std::int64_t max_iterations,
                              std::string* why) {
  const tf::NodeDef& node = view.node(w);
  graph::FunctionIndex index(library);
  const tf::FunctionDef* cond = index.find(graph::function_attr(node, "cond"));
  const tf::FunctionDef* body = index.find(graph::function_attr(node, "body"));
  if (!cond || !body) {
    *why = "its cond or body function is missing";
    return std::nullopt;
  }
  graph::FunctionGraph cond_g = graph::function_to_graph(*cond, index), body_g = graph::function_to_graph(*body, index);
  // A loop variable's initial value when it is a constant, or does not change with the inputs.
  auto initial_value = [&](int slot) -> std::optional<Tensor> {
    if (slot >= node.input_size() || node.input(slot).rfind('^', 0) == 0) return std::nullopt;
    int c = const_through_identity(view, w, slot);
    if (c >= 0) return const_value(view.node(c));
    return input_invariant_value(view.graph(), node.input(slot));
  };
  std::map<int, Tensor> known;
  // The loop variables the cond depends on, through the body's updates (a closure): each must
  // start known and be updated from those alone. Others (weights, states) never matter here.
  bool stateful = false;
  std::set<int> relevant = args_needed(cond_g, cond_g.outputs, &stateful);
  if (stateful) {
    *why = "its cond is stateful";
    return std::nullopt;
  }
  for (std::vector<int> todo(relevant.begin(), relevant.end()); !todo.empty();) {
    const int a = todo.back();
    todo.pop_back();
    if (auto v = initial_value(a)) known[a] = std::move(*v);
    if (!known.count(a)) {
      *why = "its cond depends on loop variable " + std::to_string(a) + ", which is computed (the trip count is not static)";
      return std::nullopt;
    }
    if (a >= static_cast<int>(body_g.outputs.size())) {
      *why = "its body returns fewer values than the loop has variables";
      return std::nullopt;
    }
    for (int b : args_needed(body_g, {body_g.outputs[static_cast<std::size_t>(a)]}, &stateful))
      if (relevant.insert(b).second) todo.push_back(b);
    if (stateful) {
      *why = "the update of loop variable " + std::to_string(a) + " is stateful";
      return std::nullopt;
    }
  }
  runtime::Executor cond_run(cond_g.graph, &library), body_run(body_g.graph, &library);
  std::vector<std::string> fetches;
  std::vector<int> slots;
  for (const auto& [slot, value] : known) {
    fetches.push_back(body_g.outputs[static_cast<std::size_t>(slot)]);
    slots.push_back(slot);
  }
  for (std::int64_t n = 0;; ++n) {
    std::map<std::string, Tensor> cond_feeds, feeds;  // the functions name their arguments differently
    for (const auto& [slot, value] : known) {
      if (static_cast<std::size_t>(slot) < cond_g.args.size()) cond_feeds[cond_g.args[static_cast<std::size_t>(slot)]] = value;
      feeds[body_g.args[static_cast<std::size_t>(slot)]] = value;
    }
    Tensor c = cond_run.run(cond_feeds, cond_g.outputs)[0];
    if (c.num_elements() != 1 || element_as_double(c, 0) == 0) return static_cast<int>(n);
    if (n >= max_iterations) {
      *why = "it runs more than max_iterations=" + std::to_string(max_iterations) + " times";
      return std::nullopt;
    }
    auto next = body_run.run(feeds, fetches);
    for (std::size_t j = 0; j < slots.size(); ++j) known[slots[j]] = std::move(next[j]);
  }
}

PassReport unroll_loops(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  const std::int64_t max_iterations = int_arg(ctx, "max_iterations", 1000, 0);
  freeze::InlineOptions options;
  {
    graph::GraphView view(*graph);
    for (int i = 0; i < view.size(); ++i) {
      const auto& node = view.node(i);
      if (!graph::is_functional_while(node.op())) continue;
      std::string why;
      std::optional<int> n;
      try {
        n = trip_count(view, i, graph->library(), max_iterations, &why);
      } catch (const Error& e) {
        why = std::string("evaluating its trip count failed: ") + e.what();
      }
      if (!n) {
        report.refused.push_back("node '" + node.name() + "': " + why);
        continue;
      }
      options.unroll[node.name()] = *n;
    }
  }
  if (options.unroll.empty()) return report;
  // Only the chosen loops: other calls are already inlined in a frozen graph, other loops stay.
  options.lower_conds = false;
  freeze::InlineReport inlined;
  freeze::inline_functions(graph, options, &inlined);
  report.changed = inlined.loops_unrolled;
  return report;
}

}  // namespace

void register_unroll_loops(PassRegistry& r) {
  r.add("unroll_loops", unroll_loops, "While loops with a static trip count -> copies of the body (max_iterations=N, default 1000)");
}

}  // namespace tffreeze::passes
