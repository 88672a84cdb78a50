#include "runtime/loop_frames.h"

#include <map>

#include "common/error.h"

namespace tffreeze::runtime {

bool is_loop_op(const std::string& op) {
  return op == "Enter" || op == "Exit" || op == "NextIteration" || op == "LoopCond" || op == "RefEnter" || op == "RefExit" ||
         op == "RefNextIteration";
}

namespace {

bool is_enter(const std::string& op) { return op == "Enter" || op == "RefEnter"; }
bool is_exit(const std::string& op) { return op == "Exit" || op == "RefExit"; }

std::string frame_name(const tf::NodeDef& enter) {
  auto it = enter.attr().find("frame_name");
  return it == enter.attr().end() ? "" : it->second.s();
}

}  // namespace

LoopFrames find_loop_frames(const graph::GraphView& view, const std::vector<int>& order) {
  const int n = view.size();
  LoopFrames frames;
  frames.frame_of.assign(static_cast<std::size_t>(n), -1);
  std::map<std::string, int> index;
  for (int i = 0; i < n; ++i) {
    if (!is_enter(view.node(i).op())) continue;
    const std::string name = frame_name(view.node(i));
    if (!index.count(name)) {
      index[name] = static_cast<int>(frames.names.size());
      frames.names.push_back(name);
      frames.unsupported.emplace_back();
    }
  }
  // Forward from each frame's Enters, stopping after Exits.
  for (int i = 0; i < n; ++i) {
    if (!is_enter(view.node(i).op())) continue;
    const int f = index.at(frame_name(view.node(i)));
    std::vector<int> todo = {i};
    while (!todo.empty()) {
      int k = todo.back();
      todo.pop_back();
      int& owner = frames.frame_of[static_cast<std::size_t>(k)];
      if (owner == f) continue;
      if (owner >= 0) {
        frames.unsupported[static_cast<std::size_t>(f)] = "node '" + view.node(k).name() + "' belongs to two loop frames (nested loops)";
        frames.unsupported[static_cast<std::size_t>(owner)] = frames.unsupported[static_cast<std::size_t>(f)];
        continue;
      }
      owner = f;
      if (is_exit(view.node(k).op())) continue;
      for (const auto& e : view.consumers(k)) {
        const auto& op = view.node(e.consumer).op();
        if (is_enter(op) && frame_name(view.node(e.consumer)) != frames.names[static_cast<std::size_t>(f)]) {
          frames.unsupported[static_cast<std::size_t>(f)] = "loop '" + frames.names[static_cast<std::size_t>(f)] + "' contains another loop";
          continue;
        }
        todo.push_back(e.consumer);
      }
    }
  }
  frames.members.resize(frames.names.size());
  for (int i : order)
    if (int f = frames.frame_of[static_cast<std::size_t>(i)]; f >= 0) frames.members[static_cast<std::size_t>(f)].push_back(i);

  // Kahn's algorithm on the graph with every frame contracted to one step.
  const int steps = n + static_cast<int>(frames.names.size());
  auto step_of = [&](int i) { return frames.frame_of[static_cast<std::size_t>(i)] >= 0 ? n + frames.frame_of[static_cast<std::size_t>(i)] : i; };
  std::vector<std::vector<int>> next(static_cast<std::size_t>(steps));
  std::vector<int> indegree(static_cast<std::size_t>(steps), 0);
  std::vector<bool> present(static_cast<std::size_t>(steps), false);
  for (int i = 0; i < n; ++i) {
    present[static_cast<std::size_t>(step_of(i))] = true;
    for (const auto& e : view.inputs(i)) {
      const int from = step_of(e.producer), to = step_of(i);
      if (from == to) continue;
      next[static_cast<std::size_t>(from)].push_back(to);
      ++indegree[static_cast<std::size_t>(to)];
    }
  }
  // Ready steps in the order the plain execution order lists them (stable, predictable).
  std::vector<int> rank(static_cast<std::size_t>(steps), 0);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const int s = step_of(order[k]);
    if (rank[static_cast<std::size_t>(s)] == 0) rank[static_cast<std::size_t>(s)] = static_cast<int>(k) + 1;
  }
  std::multimap<int, int> ready;
  for (int s = 0; s < steps; ++s)
    if (present[static_cast<std::size_t>(s)] && indegree[static_cast<std::size_t>(s)] == 0) ready.emplace(rank[static_cast<std::size_t>(s)], s);
  while (!ready.empty()) {
    const int s = ready.begin()->second;
    ready.erase(ready.begin());
    frames.schedule.push_back(s < n ? s : -(s - n + 1));
    for (int t : next[static_cast<std::size_t>(s)])
      if (--indegree[static_cast<std::size_t>(t)] == 0) ready.emplace(rank[static_cast<std::size_t>(t)], t);
  }
  int scheduled_nodes = 0;
  for (int s : frames.schedule) scheduled_nodes += s >= 0 ? 1 : static_cast<int>(frames.members[static_cast<std::size_t>(-s - 1)].size());
  if (scheduled_nodes != n) {
    // Nested loops do not contract to one step each; that is our limit, not a broken graph.
    for (const auto& why : frames.unsupported)
      if (!why.empty()) throw Error(ExitCode::kUnsupported, why + " (nested v1 loops are not supported yet)");
    throw Error(ExitCode::kBadInput, "the graph's loops are entangled: a loop's result flows back into it");
  }
  return frames;
}

}  // namespace tffreeze::runtime
