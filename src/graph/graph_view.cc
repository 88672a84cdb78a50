#include "graph/graph_view.h"

#include <algorithm>
#include <functional>
#include <queue>

#include "common/error.h"

namespace tffreeze::graph {

GraphView::GraphView(const tf::GraphDef& graph) : graph_(graph), in_(graph.node_size()), out_(graph.node_size()) {
  index_.reserve(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i) {
    if (!index_.emplace(graph.node(i).name(), i).second) duplicates_.push_back(graph.node(i).name());
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& inputs = graph.node(i).input();
    for (int slot = 0; slot < inputs.size(); ++slot) {
      TensorRef ref = parse_input(inputs[slot]);
      int producer = ref.valid && ref.arg.empty() ? find(ref.node) : -1;
      if (producer < 0) {
        dangling_.push_back({i, inputs[slot]});
        continue;
      }
      Edge e{producer, ref.control ? -1 : ref.index, i, slot};
      in_[i].push_back(e);
      out_[producer].push_back(e);
    }
  }
}

int GraphView::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

bool GraphView::is_loop_back_edge(const Edge& e) const {
  const auto& producer = graph_.node(e.producer).op();
  const auto& consumer = graph_.node(e.consumer).op();
  return (producer == "NextIteration" || producer == "RefNextIteration") && (consumer == "Merge" || consumer == "RefMerge");
}

std::vector<int> GraphView::topological_order() const {
  const int n = size();
  std::vector<int> pending(n, 0);
  for (int i = 0; i < n; ++i) {
    for (const auto& e : in_[i])
      if (!is_loop_back_edge(e)) ++pending[i];
  }
  // Ready nodes are taken lowest index first, so an already sorted graph keeps its order.
  std::vector<int> order;
  order.reserve(n);
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(i);
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (const auto& e : out_[i]) {
      if (!is_loop_back_edge(e) && --pending[e.consumer] == 0) ready.push(e.consumer);
    }
  }
  if (static_cast<int>(order.size()) != n) {
    std::string names;
    int shown = 0;
    for (int i = 0; i < n && shown < 5; ++i) {
      if (pending[i] > 0) {
        names += (shown++ ? ", " : "") + graph_.node(i).name();
      }
    }
    throw Error(ExitCode::kBadInput, "graph has a cycle that is not a while loop, through " + std::to_string(n - order.size()) +
                                         " nodes including " + names);
  }
  return order;
}

std::vector<bool> GraphView::needed_by(const std::vector<std::string>& outputs, const std::vector<std::string>& stop_at) const {
  std::vector<bool> keep(size(), false), stop(size(), false);
  for (const auto& s : stop_at) {
    int i = find(parse_input(s).node);
    if (i < 0) throw Error(ExitCode::kBadInput, "input '" + s + "' is not a node of the graph");
    stop[i] = true;
  }
  std::vector<int> work;
  for (const auto& o : outputs) {
    int i = find(parse_input(o).node);
    if (i < 0) throw Error(ExitCode::kBadInput, "output '" + o + "' is not a node of the graph");
    if (!keep[i]) {
      keep[i] = true;
      work.push_back(i);
    }
  }
  while (!work.empty()) {
    int i = work.back();
    work.pop_back();
    if (stop[i]) continue;
    for (const auto& e : in_[i]) {
      if (!keep[e.producer]) {
        keep[e.producer] = true;
        work.push_back(e.producer);
      }
    }
  }
  return keep;
}

tf::GraphDef extract_subgraph(const tf::GraphDef& graph, const std::vector<bool>& keep) {
  tf::GraphDef out;
  *out.mutable_versions() = graph.versions();
  if (graph.has_library()) *out.mutable_library() = graph.library();
  for (int i = 0; i < graph.node_size(); ++i)
    if (keep[i]) *out.add_node() = graph.node(i);
  return out;
}

}  // namespace tffreeze::graph
