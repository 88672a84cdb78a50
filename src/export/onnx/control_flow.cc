#include "export/onnx/control_flow.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
#include "export/onnx/converters.h"
#include "freeze/inline_functions.h"
#include "graph/function_graph.h"
#include "graph/tensor_ref.h"
#include "runtime/loop_frames.h"

namespace tffreeze::onnx_export {

// ---- preparation ------------------------------------------------------------------------------

namespace {

bool is_enter(const tf::NodeDef& n) { return n.op() == "Enter" || n.op() == "RefEnter"; }
bool is_constant_enter(const tf::NodeDef& n) {
  auto it = n.attr().find("is_constant");
  return is_enter(n) && it != n.attr().end() && it->second.b();
}

const tf::NodeDef* node_named(const graph::GraphView& view, const std::string& tf_input) {
  const int i = view.find(graph::parse_input(tf_input).node);
  return i < 0 ? nullptr : &view.node(i);
}

// Outputs that name a functional While / If read them through an Identity, which survives the
// lowering (the lowered loop's values are its Exits, under other names).
void pin_functional_outputs(tf::GraphDef* g, std::vector<std::string>* outputs) {
  std::set<std::string> functional;
  for (const auto& n : g->node())
    if (graph::is_functional_while(n.op()) || graph::is_functional_if(n.op())) functional.insert(n.name());
  for (std::size_t k = 0; k < outputs->size(); ++k) {
    auto& out = (*outputs)[k];
    if (!functional.count(std::string(graph::parse_input(out).node))) continue;
    tf::NodeDef* id = g->add_node();
    id->set_name("tffreeze/onnx_output_" + std::to_string(k));
    id->set_op("Identity");
    id->add_input(out);
    out = id->name();
  }
}

}  // namespace

PreparedGraph prepare_control_flow(const tf::GraphDef& graph, const std::vector<std::string>& outputs) {
  PreparedGraph p{graph, outputs};
  bool functional = false;
  for (const auto& n : graph.node()) functional |= graph::is_functional_while(n.op()) || graph::is_functional_if(n.op());
  if (functional) {
    pin_functional_outputs(&p.graph, &p.outputs);
    freeze::InlineOptions options;
    options.lower_loops = true;
    options.lower_conds = true;
    freeze::InlineReport report;
    freeze::inline_functions(&p.graph, options, &report);
  }
  for (auto& n : *p.graph.mutable_node()) {
    auto* inputs = n.mutable_input();
    for (int k = inputs->size() - 1; k >= 0; --k)
      if (!inputs->Get(k).empty() && inputs->Get(k)[0] == '^') inputs->DeleteSubrange(k, 1);
  }
  return p;
}

void add_constant_enters(const graph::GraphView& view, std::map<std::string, const tf::NodeDef*>& constants) {
  for (int i = 0; i < view.size(); ++i) {
    if (!is_constant_enter(view.node(i))) continue;
    const tf::NodeDef* source = &view.node(i);
    for (int hops = 0; source && is_constant_enter(*source) && hops <= view.size(); ++hops)
      source = source->input_size() > 0 && graph::parse_input(source->input(0)).index == 0 ? node_named(view, source->input(0)) : nullptr;
    if (source && source->op() == "Const") constants[view.node(i).name()] = source;
  }
}

namespace {
bool is_loop_cond_output(const std::map<std::string, const tf::NodeDef*>& by_name, const std::string& input) {
  auto it = by_name.find(std::string(graph::parse_input(input).node));
  return it != by_name.end() && it->second->op() == "LoopCond";
}
}  // namespace

std::vector<tf::GraphDef> forced_cond_variants(const tf::GraphDef& graph) {
  std::map<std::string, const tf::NodeDef*> by_name;
  for (const auto& n : graph.node()) by_name[n.name()] = &n;
  bool any = false;
  for (const auto& n : graph.node()) any |= n.op() == "Switch" && n.input_size() == 2 && !is_loop_cond_output(by_name, n.input(1));
  if (!any) return {};
  std::vector<tf::GraphDef> variants;
  for (bool value : {true, false}) {
    tf::GraphDef g = graph;
    const std::string name = value ? "tffreeze/forced_true" : "tffreeze/forced_false";
    for (auto& n : *g.mutable_node())
      if (n.op() == "Switch" && n.input_size() == 2 && !is_loop_cond_output(by_name, n.input(1))) n.set_input(1, name);
    tf::NodeDef* c = g.add_node();
    c->set_name(name);
    c->set_op("Const");
    (*c->mutable_attr())["dtype"].set_type(tf::DT_BOOL);
    Tensor t{tf::DT_BOOL, {}, std::string(1, value ? '\1' : '\0'), {}, {}};
    tensor_to_proto(t, (*c->mutable_attr())["value"].mutable_tensor());
    variants.push_back(std::move(g));
  }
  return variants;
}

// ---- structure: where each node is computed -----------------------------------------------------

namespace {

// One level of nesting: inside loop frame `frame`, or inside cond `cond` (side 1: the branch
// taken when the predicate is true, 0: false, -1: the cond's own Switches and Merges).
struct Level {
  int frame = -1;
  int cond = -1;
  int side = -1;
  bool operator==(const Level& o) const { return frame == o.frame && cond == o.cond && side == o.side; }
};
using Path = std::vector<Level>;

bool is_prefix(const Path& a, const Path& b) { return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin()); }
Path extended(Path p, Level l) {
  p.push_back(l);
  return p;
}

struct Structure {
  const graph::GraphView& view;
  runtime::LoopFrames frames;
  std::vector<Path> path;   // per node: the scope its value is seen in
  std::vector<Path> place;  // per node: the scope it is emitted in (a cond's Switch / Merge, a loop's Exit: their group's)
  std::vector<int> cond_of;
  std::vector<std::string> cond_pred;  // per cond: the predicate tensor
  std::vector<Path> frame_path;        // per frame: the scope its Loop is in
  std::map<std::string, int> cond_index;
  std::vector<char> needed;

  Structure(const graph::GraphView& v, const std::vector<int>& order) : view(v), frames(runtime::find_loop_frames(v, order)) {
    const auto n = static_cast<std::size_t>(v.size());
    needed.assign(n, 0);
    for (int i : order) needed[static_cast<std::size_t>(i)] = 1;
    path.resize(n);
    place.resize(n);
    cond_of.assign(n, -1);
    frame_path.resize(frames.names.size());
    walk(frames.schedule, -1);
  }

  const tf::NodeDef& node(int i) const { return view.node(i); }
  int frame(int i) const { return frames.frame_of[static_cast<std::size_t>(i)]; }
  bool back_edge(const graph::Edge& e) const {
    return node(e.producer).op() == "NextIteration" && node(e.consumer).op() == "Merge";
  }
  bool loop_switch(int i) const {
    if (node(i).op() != "Switch") return false;
    for (const auto& e : view.inputs(i))
      if (e.input_slot == 1 && node(e.producer).op() == "LoopCond") return true;
    return false;
  }
  bool loop_merge(int i) const {
    if (node(i).op() != "Merge") return false;
    for (const auto& e : view.inputs(i))
      if (node(e.producer).op() == "NextIteration") return true;
    return false;
  }
  bool cond_switch(int i) const { return node(i).op() == "Switch" && !loop_switch(i); }
  bool cond_merge(int i) const { return node(i).op() == "Merge" && !loop_merge(i); }

  // The scope a consumer sees edge e's value in.
  Path seen(const graph::Edge& e) const {
    const Path& p = path[static_cast<std::size_t>(e.producer)];
    if (cond_switch(e.producer)) return extended(p, {-1, cond_of[static_cast<std::size_t>(e.producer)], e.output});
    return p;
  }

  [[noreturn]] void refuse(int i, const std::string& why) const {
    throw Error(ExitCode::kUnsupported, "node '" + node(i).name() + "' (" + node(i).op() + "): " + why);
  }

  Path deeper(int i, const Path& a, const Path& b) const {
    if (is_prefix(a, b)) return b;
    if (is_prefix(b, a)) return a;
    refuse(i, "reads values of two branches of a cond (or of a loop and a branch it is not in), which ONNX cannot scope");
  }

  // Steps as runtime::LoopFrames orders them: a frame's Loop after everything it reads.
  void walk(const std::vector<int>& steps, int f) {
    const Path base = f < 0 ? Path{} : extended(frame_path[static_cast<std::size_t>(f)], {f, -1, -1});
    for (int step : steps) {
      if (step < 0) {
        enter_frame(-step - 1);
        continue;
      }
      if (cond_merge(step)) {
        place_merge(step);
        continue;
      }
      Path p = base;
      for (const auto& e : view.inputs(step))
        if (!back_edge(e)) p = deeper(step, p, seen(e));
      place_node(step, p, f);
    }
  }

  void enter_frame(int g) {
    Path p = frame_path[static_cast<std::size_t>(g)];
    for (int i : frames.members[static_cast<std::size_t>(g)])
      for (const auto& e : view.inputs(i))
        if (!back_edge(e) && !in_frame(e.producer, g)) p = deeper(i, p, seen(e));
    frame_path[static_cast<std::size_t>(g)] = p;
    walk(frames.steps[static_cast<std::size_t>(g)], g);
  }

  bool in_frame(int i, int g) const {
    for (int h = frame(i); h >= 0; h = frames.parent[static_cast<std::size_t>(h)])
      if (h == g) return true;
    return false;
  }

  void place_node(int i, const Path& p, int f) {
    const auto k = static_cast<std::size_t>(i);
    path[k] = place[k] = p;
    if (node(i).op() == "Exit") {
      if (f < 0) refuse(i, "an Exit outside every loop");
      path[k] = frame_path[static_cast<std::size_t>(f)];
    } else if (cond_switch(i)) {
      const std::string pred = ExportContext::value(node(i).input(1));
      std::string key = pred;
      for (const auto& l : p) key += "|" + std::to_string(l.frame) + "," + std::to_string(l.cond) + "," + std::to_string(l.side);
      auto [it, added] = cond_index.emplace(key, static_cast<int>(cond_pred.size()));
      if (added) cond_pred.push_back(pred);
      cond_of[k] = it->second;
      place[k] = extended(p, {-1, it->second, -1});
    } else if (cond_merge(i)) {
      place_merge(i);
    }
  }

  // A cond's Merge reads one value from each branch of one cond and is seen outside it.
  void place_merge(int i) {
    const auto& in = view.inputs(i);
    if (in.size() != 2) refuse(i, "a Merge of " + std::to_string(in.size()) + " values (ONNX If has two branches)");
    const Path a = seen(in[0]), b = seen(in[1]);
    if (a.empty() || b.empty() || a.size() != b.size() || !std::equal(a.begin(), a.end() - 1, b.begin()) || a.back().cond < 0 ||
        a.back().cond != b.back().cond || a.back().side == b.back().side) {
      refuse(i, "a Merge whose inputs are not the two branches of one cond");
    }
    const auto k = static_cast<std::size_t>(i);
    path[k] = Path(a.begin(), a.end() - 1);
    cond_of[k] = a.back().cond;
    place[k] = extended(path[k], {-1, cond_of[k], -1});
  }
};

// ---- emission ---------------------------------------------------------------------------------

void set_value_type(onnx::ValueInfoProto* v, const std::string& name, tf::DataType dtype, bool scalar) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx_dtype(dtype));
  if (scalar) t->mutable_shape();
}

class Emitter {
 public:
  Emitter(const Structure& s, const NodeEmitter& emit) : s_(s), emit_(emit) {}

  // Emits `nodes` (all placed in `scope` or deeper, in execution order) with each loop and cond
  // directly inside `scope` as one step, ordered after everything it reads.
  void emit_scope(const Path& scope, const std::vector<int>& nodes, ExportContext& ctx) {
    std::map<int, std::vector<int>> groups;  // step key -> its nodes
    std::vector<int> keys;
    std::map<int, int> key_of;
    for (int i : nodes) {
      const int key = step_key(scope, i);
      if (!groups.count(key)) keys.push_back(key);
      groups[key].push_back(i);
      key_of[i] = key;
    }
    for (int key : ordered(keys, groups, key_of)) {
      const auto& members = groups[key];
      const int n = s_.view.size(), frames = static_cast<int>(s_.frames.names.size());
      if (key < n) emit_(s_.node(key), ctx);
      else if (key < n + frames) loop(scope, key - n, members, ctx);
      else cond(scope, key - n - frames, members, ctx);
    }
  }

 private:
  const Structure& s_;
  const NodeEmitter& emit_;

  int step_key(const Path& scope, int i) const {
    const Path& p = s_.place[static_cast<std::size_t>(i)];
    if (p.size() == scope.size()) return i;
    const Level& l = p[scope.size()];
    const int n = s_.view.size();
    return l.frame >= 0 ? n + l.frame : n + static_cast<int>(s_.frames.names.size()) + l.cond;
  }

  // Kahn's algorithm over the steps, ties broken by first appearance (stable output).
  std::vector<int> ordered(const std::vector<int>& keys, std::map<int, std::vector<int>>& groups, const std::map<int, int>& key_of) const {
    std::map<int, std::set<int>> next;
    std::map<int, int> indegree, rank;
    for (std::size_t r = 0; r < keys.size(); ++r) rank[keys[r]] = static_cast<int>(r), indegree[keys[r]] = 0;
    for (int key : keys)
      for (int i : groups[key])
        for (const auto& e : s_.view.inputs(i)) {
          auto it = key_of.find(e.producer);
          if (it == key_of.end() || it->second == key || s_.back_edge(e)) continue;
          if (next[it->second].insert(key).second) ++indegree[key];
        }
    std::set<std::pair<int, int>> ready;
    for (const auto& [key, d] : indegree)
      if (d == 0) ready.insert({rank[key], key});
    std::vector<int> out;
    while (!ready.empty()) {
      const int key = ready.begin()->second;
      ready.erase(ready.begin());
      out.push_back(key);
      for (int t : next[key])
        if (--indegree[t] == 0) ready.insert({rank[t], t});
    }
    if (out.size() != keys.size()) {
      throw Error(ExitCode::kUnsupported, "a cond or loop reads a value computed from its own result (node '" + s_.node(groups[keys.front()].front()).name() +
                                              "' and others): no ONNX order for it");
    }
    return out;
  }

  // ---- loops ----

  struct LoopVar {
    int merge = -1, enter = -1, next = -1, sw = -1, exit = -1;
    int write = -1;  // a TensorArrayWriteV3 making this array variable a scan output
    std::string initial, next_value;
  };

  // The producer (node, output) of input `slot`, through Identity nodes.
  std::pair<int, int> source(int i, int slot) const {
    int node = producer(i, slot), output = producer_output(i, slot);
    for (int hops = 0; node >= 0 && s_.node(node).op() == "Identity" && hops < s_.view.size(); ++hops) {
      const int p = producer(node, 0);
      output = producer_output(node, 0);
      node = p;
    }
    return {node, output};
  }
  bool reads_body_value(int i, int slot, const LoopVar& v) const { return source(i, slot) == std::pair<int, int>(v.sw, 1); }

  int producer(int i, int slot) const {
    for (const auto& e : s_.view.inputs(i))
      if (e.input_slot == slot) return e.producer;
    return -1;
  }
  int producer_output(int i, int slot) const {
    for (const auto& e : s_.view.inputs(i))
      if (e.input_slot == slot) return e.output;
    return -1;
  }

  LoopVar loop_var(int merge, int g) const {
    LoopVar v;
    v.merge = merge;
    for (const auto& e : s_.view.inputs(merge)) (s_.node(e.producer).op() == "NextIteration" ? v.next : v.enter) = e.producer;
    if (v.enter < 0 || !is_enter(s_.node(v.enter)) || s_.frame(v.enter) != g) s_.refuse(merge, "a loop Merge that does not take its first value from an Enter of its loop");
    v.initial = s_.node(v.enter).input(0);
    v.next_value = s_.node(v.next).input(0);
    for (const auto& e : s_.view.consumers(merge)) {
      if (!s_.needed[static_cast<std::size_t>(e.consumer)]) continue;
      if (s_.loop_switch(e.consumer)) v.sw = e.consumer;  // others (the condition) read the body input
    }
    if (v.sw < 0) s_.refuse(merge, "a loop variable without a Switch on the loop's condition");
    for (const auto& e : s_.view.consumers(v.sw)) {
      if (e.output != 0 || !s_.needed[static_cast<std::size_t>(e.consumer)]) continue;
      if (s_.node(e.consumer).op() != "Exit") s_.refuse(e.consumer, "reads the exit side of a loop's Switch without an Exit");
      v.exit = e.consumer;
    }
    return v;
  }

  // A variable that starts at constant 0 and steps by constant 1: the iteration's index.
  bool is_counter(const LoopVar& v, ExportContext& ctx) const {
    const Tensor* start = ctx.constant(v.initial);
    if (!start || start->num_elements() != 1 || element_as_double(*start, 0) != 0) return false;
    const int add = source(v.next, 0).first;
    if (add < 0 || (s_.node(add).op() != "Add" && s_.node(add).op() != "AddV2")) return false;
    for (int k = 0; k < 2; ++k) {
      const Tensor* one = ctx.constant(s_.node(add).input(1 - k));
      if (reads_body_value(add, k, v) && one && one->num_elements() == 1 && element_as_double(*one, 0) == 1) return true;
    }
    return false;
  }

  // A TensorArray variable written once per iteration at the iteration's index, starting empty.
  void find_scan(LoopVar& v, const std::vector<LoopVar>& vars, ExportContext& ctx) const {
    const int w = source(v.next, 0).first;
    if (w < 0 || s_.node(w).op() != "TensorArrayWriteV3") return;
    if (!reads_body_value(w, 3, v)) s_.refuse(w, "a TensorArray write whose flow is not the loop variable's own");
    const int array = producer(v.enter, 0);
    if (array < 0 || s_.node(array).op() != "TensorArrayV3" || producer_output(v.enter, 0) != 1) {
      s_.refuse(w, "a TensorArray written in a loop that was not empty when the loop began (ONNX scan outputs start empty)");
    }
    bool at_index = false;
    for (const auto& c : vars) at_index |= reads_body_value(w, 1, c) && is_counter(c, ctx);
    if (!at_index) s_.refuse(w, "a TensorArray written at an index that is not the iteration's (ONNX scan outputs are in iteration order)");
    v.write = w;
  }

  // The nodes of frame g's condition: LoopCond's input and what it is computed from inside the
  // frame, up to the loop Merges and the constant Enters (their copies read the outer values).
  std::vector<int> cond_nodes(int loop_cond, const std::vector<int>& members, const std::set<int>& merges) const {
    std::set<int> want;
    std::vector<int> stack{producer(loop_cond, 0)};
    std::set<int> member_set(members.begin(), members.end());
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      if (i < 0 || merges.count(i) || is_constant_enter(s_.node(i)) || !member_set.count(i) || !want.insert(i).second) continue;
      for (const auto& e : s_.view.inputs(i)) stack.push_back(e.producer);
    }
    std::vector<int> out;
    for (int i : members)
      if (want.count(i)) {
        if (s_.place[static_cast<std::size_t>(i)] != s_.place[static_cast<std::size_t>(loop_cond)] || s_.loop_switch(i) || is_enter(s_.node(i)))
          s_.refuse(i, "part of a loop's condition computed inside a nested cond or loop (ONNX needs it once per iteration)");
        out.push_back(i);
      }
    return out;
  }

  // A TF input of the condition's copy: a loop Merge's value, a copied node's, or as it is.
  std::string rewired(const std::string& in, const std::map<std::string, std::string>& merge_values, const std::map<std::string, std::string>& renamed,
                      int reader) const {
    auto ref = graph::parse_input(in);
    const std::string node(ref.node);
    if (auto m = merge_values.find(node); m != merge_values.end()) {
      if (ref.index != 0) s_.refuse(reader, "reads a loop Merge's value_index (or a constant Enter's second output)");
      return m->second;
    }
    if (auto r = renamed.find(node); r != renamed.end()) return graph::tensor_name(r->second, ref.index);
    return in;
  }

  // Emits a renamed copy of the condition `nodes`, reading `merge_values` for the loop Merges;
  // returns the ONNX value of `result` (LoopCond's input) in the copy.
  std::string emit_cond_copy(const std::vector<int>& nodes, const std::map<std::string, std::string>& merge_values, int loop_cond,
                             const std::string& prefix, ExportContext& ctx) const {
    std::map<std::string, std::string> renamed;
    for (int i : nodes) {
      tf::NodeDef copy = s_.node(i);
      copy.set_name(ctx.fresh(prefix + copy.name()));
      for (auto& in : *copy.mutable_input()) in = rewired(in, merge_values, renamed, i);
      for (int k = 0; ctx.has_info(graph::tensor_name(s_.node(i).name(), k)); ++k)
        ctx.set_info(graph::tensor_name(copy.name(), k), ctx.info(graph::tensor_name(s_.node(i).name(), k)));
      renamed[s_.node(i).name()] = copy.name();
      emit_(copy, ctx);
    }
    return ExportContext::value(rewired(s_.node(loop_cond).input(0), merge_values, renamed, loop_cond));
  }

  tf::DataType dtype_of(const std::string& tensor, ExportContext& ctx, int node) const {
    if (!ctx.has_info(tensor)) s_.refuse(node, "its dtype is unknown (the run did not compute '" + tensor + "')");
    return ctx.info(tensor).dtype;
  }

  // What one loop frame is made of, as the Loop node needs it.
  struct LoopPlan {
    int frame = -1, loop_cond = -1;
    std::string name;
    std::vector<LoopVar> vars;
    std::vector<const LoopVar*> carried, scans;
    std::vector<int> cond;   // the condition's nodes, copied for the first and every next iteration
    std::vector<int> body;   // the rest of the frame's nodes: the body's
    std::map<std::string, std::string> constants;  // constant Enter -> the outer value it enters
  };

  // Fills `plan` in place: carried and scans point into its vars.
  void plan_loop(const Path& body_scope, int g, const std::vector<int>& members, ExportContext& ctx, LoopPlan& plan) const {
    plan.frame = g;
    plan.name = s_.frames.names[static_cast<std::size_t>(g)];
    std::set<int> merges, structural;
    for (int i : members) {
      if (s_.place[static_cast<std::size_t>(i)] != body_scope) continue;
      if (s_.loop_merge(i) && s_.frame(i) == g) plan.vars.push_back(loop_var(i, g)), merges.insert(i);
      if (s_.node(i).op() == "LoopCond") plan.loop_cond = i;
      if (is_constant_enter(s_.node(i)) && s_.frame(i) == g) plan.constants[s_.node(i).name()] = s_.node(i).input(0);
    }
    if (plan.loop_cond < 0 || plan.vars.empty()) s_.refuse(members.front(), "a loop frame without a LoopCond or without loop variables");
    for (auto& v : plan.vars) find_scan(v, plan.vars, ctx);
    for (const auto& v : plan.vars) {
      structural.insert({v.merge, v.enter, v.next, v.sw, v.exit, v.write, plan.loop_cond});
      // The flow of a scanned array has no ONNX value in the body, nor its Identities.
      for (int i = v.write >= 0 ? producer(v.write, 3) : -1; i >= 0 && s_.node(i).op() == "Identity"; i = producer(i, 0)) structural.insert(i);
      (v.write >= 0 ? plan.scans : plan.carried).push_back(&v);
    }
    plan.cond = cond_nodes(plan.loop_cond, members, merges);
    for (int i : members)
      if (!structural.count(i)) plan.body.push_back(i);
  }

  // Loop(M = none, cond = the condition on the initial values, the carried initial values):
  // the carried final values (the Exits), then the scan outputs (the written arrays).
  void loop(const Path& scope, int g, const std::vector<int>& members, ExportContext& ctx) {
    const Path body_scope = extended(scope, {g, -1, -1});
    LoopPlan plan;
    plan_loop(body_scope, g, members, ctx, plan);
    std::map<std::string, std::string> initial = plan.constants;
    for (const auto& v : plan.vars) initial[s_.node(v.merge).name()] = v.initial;
    const std::string first_cond = emit_cond_copy(plan.cond, initial, plan.loop_cond, plan.name + "/initial/", ctx);
    std::vector<std::string> inputs{"", first_cond}, outputs;
    for (const auto* v : plan.carried) {
      const std::string merge = ExportContext::output(s_.node(v->merge));
      if (ctx.has_info(merge) && ctx.info(merge).rank_varies) {  // TensorFlow's v1 loops allow it
        throw Error(ExitCode::kUnsupported, "node '" + s_.node(v->merge).name() +
                                                "' (Merge): a loop variable that changes rank between iterations has no ONNX form (Loop keeps a carried value's rank)");
      }
      inputs.push_back(ExportContext::value(v->initial));
      outputs.push_back(v->exit >= 0 ? ExportContext::output(s_.node(v->exit)) : ctx.fresh(s_.node(v->merge).name() + "/final"));
    }
    for (const auto* v : plan.scans) outputs.push_back(v->exit >= 0 ? ExportContext::output(s_.node(v->exit)) : ctx.fresh(s_.node(v->merge).name() + "/scan"));
    onnx::NodeProto* node = ctx.add_node("Loop", inputs, outputs, plan.name);
    auto* attr = node->add_attribute();
    attr->set_name("body");
    attr->set_type(onnx::AttributeProto::GRAPH);
    attr->mutable_g()->set_name(node->name() + "/body");
    ExportContext inner(ctx, attr->mutable_g());
    loop_body(body_scope, plan, inner, ctx);
  }

  // Body(iteration, cond_in, carried...) -> (the condition on the next values, the next values,
  // the values written this iteration). A carried value is the body input named after its
  // Merge; the loop's Switch passes it on unchanged.
  void loop_body(const Path& body_scope, const LoopPlan& plan, ExportContext& inner, ExportContext& ctx) {
    onnx::GraphProto& body = inner.graph();
    set_value_type(body.add_input(), inner.fresh(plan.name + "/iteration"), tf::DT_INT64, true);
    set_value_type(body.add_input(), inner.fresh(plan.name + "/cond_in"), tf::DT_BOOL, true);
    for (const auto* v : plan.carried) {
      const std::string merge = ExportContext::output(s_.node(v->merge));
      set_value_type(body.add_input(), merge, dtype_of(merge, ctx, v->merge), false);
      inner.add_node("Identity", {merge}, {ExportContext::output(s_.node(v->sw), 1)}, s_.node(v->sw).name());
    }
    emit_scope(body_scope, plan.body, inner);
    std::map<std::string, std::string> next = plan.constants;
    for (const auto& v : plan.vars) next[s_.node(v.merge).name()] = v.next_value;
    const std::string cond_out = emit_cond_copy(plan.cond, next, plan.loop_cond, plan.name + "/next/", inner);
    add_body_output(inner, cond_out, plan.name + "/cond_out", tf::DT_BOOL);
    for (const auto* v : plan.carried) {
      const tf::DataType dtype = dtype_of(ExportContext::output(s_.node(v->merge)), ctx, v->merge);
      add_body_output(inner, ExportContext::value(v->next_value), s_.node(v->merge).name() + "/next", dtype);
    }
    for (const auto* v : plan.scans) {
      const std::string value = s_.node(v->write).input(2);
      add_body_output(inner, ExportContext::value(value), s_.node(v->write).name() + "/scan", dtype_of(value, ctx, v->write));
    }
  }

  // Subgraph outputs get their own Identity: an output must be computed in the subgraph, and
  // two outputs (or an output and an input) must not share a name.
  void add_body_output(ExportContext& inner, const std::string& value, const std::string& name, tf::DataType dtype) const {
    const std::string out = inner.add_node("Identity", {value}, {}, name)->output(0);
    set_value_type(inner.graph().add_output(), out, dtype, false);
  }

  // ---- conds ----
  // An If, not a Where over both branches: a branch may be costly, may fail on the values of
  // the side not taken (a guarded Gather or Reshape), and its shapes may differ from the other's.

  void cond(const Path& scope, int c, const std::vector<int>& members, ExportContext& ctx) {
    const Path own = extended(scope, {-1, c, -1});
    std::vector<int> switches, merges;
    for (int i : members) {
      if (s_.place[static_cast<std::size_t>(i)] != own) continue;
      (s_.node(i).op() == "Switch" ? switches : merges).push_back(i);
    }
    if (merges.empty()) s_.refuse(members.front(), "a cond with no Merge (nothing leaves it)");
    std::vector<std::string> outputs;
    for (int m : merges) {
      for (const auto& e : s_.view.consumers(m))
        if (e.output == 1) s_.refuse(e.consumer, "reads a cond Merge's value_index");
      outputs.push_back(ExportContext::output(s_.node(m)));
    }
    onnx::NodeProto* node = ctx.add_node("If", {s_.cond_pred[static_cast<std::size_t>(c)]}, outputs, s_.node(merges.front()).name() + "/if");
    for (int side : {1, 0}) {
      auto* attr = node->add_attribute();
      attr->set_name(side ? "then_branch" : "else_branch");
      attr->set_type(onnx::AttributeProto::GRAPH);
      attr->mutable_g()->set_name(node->name() + (side ? "/then" : "/else"));
      ExportContext inner(ctx, attr->mutable_g());
      branch(extended(scope, {-1, c, side}), side, switches, merges, members, inner, ctx);
    }
  }

  void branch(const Path& branch_scope, int side, const std::vector<int>& switches, const std::vector<int>& merges, const std::vector<int>& members,
              ExportContext& inner, ExportContext& ctx) {
    for (int sw : switches) {
      bool read = false;
      for (const auto& e : s_.view.consumers(sw)) read |= e.output == side;
      if (read) inner.add_node("Identity", {ExportContext::value(s_.node(sw).input(0))}, {ExportContext::output(s_.node(sw), side)}, s_.node(sw).name());
    }
    std::vector<int> nodes;
    for (int i : members)
      if (is_prefix(branch_scope, s_.place[static_cast<std::size_t>(i)])) nodes.push_back(i);
    emit_scope(branch_scope, nodes, inner);
    for (int m : merges) {
      for (const auto& e : s_.view.inputs(m)) {
        if (s_.seen(e) != branch_scope) continue;
        const std::string value = graph::tensor_name(s_.node(e.producer).name(), e.output);
        add_body_output(inner, ExportContext::value(value), s_.node(m).name() + (side ? "/then" : "/else"), dtype_of(value, ctx, m));
      }
    }
  }
};

}  // namespace

void export_nodes(const graph::GraphView& view, const std::vector<int>& order, ExportContext& ctx, const NodeEmitter& emit) {
  Structure structure(view, order);
  Emitter(structure, emit).emit_scope({}, order, ctx);
}

namespace {
void check_scope(const onnx::GraphProto& g, std::set<std::string> defined) {
  for (const auto& i : g.input()) defined.insert(i.name());
  for (const auto& i : g.initializer()) defined.insert(i.name());
  for (const auto& n : g.node()) {
    for (const auto& in : n.input()) {
      if (!in.empty() && !defined.count(in)) {
        throw Error(ExitCode::kUnsupported, "ONNX node '" + n.name() + "' (" + n.op_type() + ") reads '" + in +
                                                "', which has no ONNX form there (a TensorArray or loop value used outside the patterns the export maps)");
      }
    }
    for (const auto& a : n.attribute())
      if (a.has_g()) check_scope(a.g(), defined);
    for (const auto& o : n.output()) defined.insert(o);
  }
  for (const auto& o : g.output())
    if (!defined.count(o.name())) throw Error(ExitCode::kUnsupported, "output '" + o.name() + "' has no ONNX form");
}
}  // namespace

void check_values_defined(const onnx::GraphProto& graph) { check_scope(graph, {}); }

}  // namespace tffreeze::onnx_export
