#include "runtime/loop_frames.h"

#include <map>
#include <unordered_map>

#include "common/error.h"

namespace tffreeze::runtime {

bool is_loop_op(const std::string& op) {
  return op == "Enter" || op == "Exit" || op == "NextIteration" || op == "LoopCond" || op == "RefEnter" || op == "RefExit" ||
         op == "RefNextIteration";
}

namespace {

// The executor runs an inner frame by recursion: a hostile graph must not nest it without end.
constexpr int kMaxNesting = 100;

bool is_enter(const std::string& op) { return op == "Enter" || op == "RefEnter"; }
bool is_exit(const std::string& op) { return op == "Exit" || op == "RefExit"; }

// NextIteration -> Merge carries a value to the next iteration: not an ordering constraint.
bool is_back_edge(const graph::GraphView& view, const graph::Edge& e) {
  const auto& from = view.node(e.producer).op();
  const auto& to = view.node(e.consumer).op();
  return (from == "NextIteration" || from == "RefNextIteration") && (to == "Merge" || to == "RefMerge");
}

std::string frame_name(const tf::NodeDef& enter) {
  auto it = enter.attr().find("frame_name");
  return it == enter.attr().end() ? "" : it->second.s();
}

std::string frame_label(const LoopFrames& frames, int f) { return f < 0 ? "(outside every loop)" : "'" + frames.names[static_cast<std::size_t>(f)] + "'"; }

// Whether frame a is b or encloses it (-1, outside every loop, encloses all).
bool encloses(const LoopFrames& frames, int a, int b) {
  for (std::size_t hops = 0; hops <= frames.parent.size(); ++hops) {
    if (a == b) return true;
    if (b < 0) return false;
    b = frames.parent[static_cast<std::size_t>(b)];
  }
  return false;  // a cycle of parents (not built: parents are only set to frames outside)
}

// The inner one of two frames a node reads from; frames side by side do not share nodes.
int innermost(const graph::GraphView& view, const LoopFrames& frames, int node, int a, int b) {
  if (encloses(frames, a, b)) return b;
  if (encloses(frames, b, a)) return a;
  throw Error(ExitCode::kBadInput, "node '" + view.node(node).name() + "' reads from two loops side by side, " + frame_label(frames, a) +
                                       " and " + frame_label(frames, b) + " (the graph's loops are entangled)");
}

// The frame node p's consumers see its value in: an Exit hands it to the enclosing frame.
int frame_seen(const graph::GraphView& view, const LoopFrames& frames, int p) {
  const int f = frames.frame_of[static_cast<std::size_t>(p)];
  return is_exit(view.node(p).op()) && f >= 0 ? frames.parent[static_cast<std::size_t>(f)] : f;
}

// One pass in execution order; returns whether a node's frame or a frame's parent changed
// (a frame's parent can be learned only after an Exit's consumers were placed).
bool assign_frames(const graph::GraphView& view, const std::vector<int>& order, const std::map<std::string, int>& index, LoopFrames& frames) {
  bool changed = false;
  for (int i : order) {
    int context = -1;
    for (const auto& e : view.inputs(i))
      if (!is_back_edge(view, e)) context = innermost(view, frames, i, context, frame_seen(view, frames, e.producer));
    int frame = context;
    if (is_enter(view.node(i).op())) {
      frame = index.at(frame_name(view.node(i)));
      if (encloses(frames, frame, context)) {
        throw Error(ExitCode::kBadInput, "node '" + view.node(i).name() + "' enters loop " + frame_label(frames, frame) +
                                             " from inside it (the graph's loops are entangled)");
      }
      int& parent = frames.parent[static_cast<std::size_t>(frame)];
      const int outer = innermost(view, frames, i, parent, context);
      changed |= outer != parent;
      parent = outer;
    }
    changed |= frames.frame_of[static_cast<std::size_t>(i)] != frame;
    frames.frame_of[static_cast<std::size_t>(i)] = frame;
  }
  return changed;
}

// Fills names, parent and frame_of.
void find_frames(const graph::GraphView& view, const std::vector<int>& order, LoopFrames& frames) {
  std::map<std::string, int> index;
  for (int i = 0; i < view.size(); ++i) {
    if (!is_enter(view.node(i).op())) continue;
    if (index.emplace(frame_name(view.node(i)), static_cast<int>(frames.names.size())).second) frames.names.push_back(frame_name(view.node(i)));
  }
  frames.parent.assign(frames.names.size(), -1);
  frames.frame_of.assign(static_cast<std::size_t>(view.size()), -1);
  // Parents only move inward, so this settles within one pass per level of nesting.
  for (std::size_t pass = 0; assign_frames(view, order, index, frames); ++pass)
    if (pass > frames.names.size() + 1) throw Error(ExitCode::kBadInput, "the graph's loops are entangled: their frames do not settle");
  for (std::size_t f = 0; f < frames.names.size(); ++f) {
    int depth = 0;
    for (int g = static_cast<int>(f); g >= 0; g = frames.parent[static_cast<std::size_t>(g)]) ++depth;
    if (depth > kMaxNesting) {
      throw Error(ExitCode::kUnsupported, "loop '" + frames.names[f] + "' is nested " + std::to_string(depth) + " loops deep (at most " +
                                              std::to_string(kMaxNesting) + ")");
    }
  }
}

// The step node i is in scope f (-1: outside every loop): i itself when f is its frame,
// n + g when it is in inner frame g of f (at any depth), -1 when it is not inside f.
int step_in(const LoopFrames& frames, int n, int i, int f) {
  int g = frames.frame_of[static_cast<std::size_t>(i)];
  if (g == f) return i;
  for (; g >= 0; g = frames.parent[static_cast<std::size_t>(g)])
    if (frames.parent[static_cast<std::size_t>(g)] == f) return n + g;
  return -1;
}

// Kahn's algorithm on scope f's nodes with each inner frame contracted to one step; ready
// steps in the order the plain execution order lists them (stable, predictable). Inputs from
// outside the scope are ready before the scope runs.
std::vector<int> order_scope(const graph::GraphView& view, const std::vector<int>& order, const LoopFrames& frames, int f) {
  const int n = view.size();
  const std::vector<int>& nodes = f < 0 ? order : frames.members[static_cast<std::size_t>(f)];
  std::unordered_map<int, std::vector<int>> next;
  std::unordered_map<int, int> indegree, rank;
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const int to = step_in(frames, n, nodes[k], f);
    rank.emplace(to, static_cast<int>(k));
    indegree[to] += 0;
    for (const auto& e : view.inputs(nodes[k])) {
      const int from = step_in(frames, n, e.producer, f);
      if (from < 0 || from == to || is_back_edge(view, e)) continue;
      next[from].push_back(to);
      ++indegree[to];
    }
  }
  std::multimap<int, int> ready;
  for (const auto& [s, d] : indegree)
    if (d == 0) ready.emplace(rank[s], s);
  std::vector<int> steps;
  while (!ready.empty()) {
    const int s = ready.begin()->second;
    ready.erase(ready.begin());
    steps.push_back(s < n ? s : -(s - n + 1));
    for (int t : next[s])
      if (--indegree[t] == 0) ready.emplace(rank[t], t);
  }
  if (steps.size() != indegree.size()) throw Error(ExitCode::kBadInput, "the graph's loops are entangled: a loop's result flows back into it");
  return steps;
}

}  // namespace

LoopFrames find_loop_frames(const graph::GraphView& view, const std::vector<int>& order) {
  LoopFrames frames;
  find_frames(view, order, frames);
  frames.members.resize(frames.names.size());
  for (int i : order)
    for (int g = frames.frame_of[static_cast<std::size_t>(i)]; g >= 0; g = frames.parent[static_cast<std::size_t>(g)])
      frames.members[static_cast<std::size_t>(g)].push_back(i);
  for (std::size_t f = 0; f < frames.names.size(); ++f) frames.steps.push_back(order_scope(view, order, frames, static_cast<int>(f)));
  frames.schedule = order_scope(view, order, frames, -1);
  return frames;
}

}  // namespace tffreeze::runtime
