#include "freeze/inline_functions.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/error.h"
#include "common/tensor.h"
#include "graph/unique_names.h"
#include "graph/function_graph.h"
#include "graph/tensor_ref.h"

namespace tffreeze::freeze {
namespace {

using graph::FunctionGraph;
using graph::FunctionIndex;
using graph::parse_input;

using graph::function_attr;
using graph::is_functional_case;
using graph::is_functional_if;
using graph::is_functional_while;

std::string string_attr(const tf::FunctionDef& f, const std::string& name) {
  auto it = f.attr().find(name);
  return it == f.attr().end() ? "" : it->second.s();
}

// The value of a scalar predicate or branch index when it is a Const (through Identity).
std::optional<std::int64_t> constant_scalar(const std::string& input, const std::unordered_map<std::string, const tf::NodeDef*>& nodes) {
  std::string name(parse_input(input).node);
  for (int hops = 0; hops < 64; ++hops) {
    auto it = nodes.find(name);
    if (it == nodes.end()) return std::nullopt;
    const tf::NodeDef& n = *it->second;
    if (n.op() == "Identity" && n.input_size() > 0) {
      name = std::string(parse_input(n.input(0)).node);
      continue;
    }
    if (n.op() != "Const" || !n.attr().count("value")) return std::nullopt;
    const auto& proto = n.attr().at("value").tensor();
    if (proto.tensor_shape().unknown_rank()) return std::nullopt;
    for (const auto& d : proto.tensor_shape().dim())
      if (d.size() != 1) return std::nullopt;  // a scalar, or all-ones dims; never expand a large constant
    Tensor t;
    try {
      t = tensor_from_proto(n.attr().at("value").tensor(), n.name());
    } catch (const Error&) {
      return std::nullopt;
    }
    if (t.num_elements() != 1 || t.dtype == tf::DT_STRING) return std::nullopt;
    return static_cast<std::int64_t>(element_as_double(t, 0));
  }
  return std::nullopt;
}

class Inliner {
 public:
  Inliner(tf::GraphDef* graph, const InlineOptions& options, InlineReport* report)
      : graph_(graph), options_(options), report_(report), library_(graph->library()) {
    for (const auto& f : graph->library().function()) {
      const std::string impl = string_attr(f, "api_implements");
      if (!impl.empty() && string_attr(f, "api_preferred_device") == options.preferred_device) preferred_[impl] = f.signature().name();
    }
  }

  // One pass over the graph; false when nothing was left to flatten.
  bool round() {
    std::unordered_map<std::string, const tf::NodeDef*> by_name;
    names_ = graph::UniqueNames();
    for (const auto& n : graph_->node()) {
      by_name.emplace(n.name(), &n);
      names_.reserve(n.name());
    }
    // Predicates are read before any node moves.
    std::unordered_map<std::string, std::int64_t> predicates;
    for (const auto& n : graph_->node()) {
      if ((is_functional_if(n.op()) || is_functional_case(n.op())) && n.input_size() > 0 && n.input(0).rfind('^', 0) != 0)
        if (auto v = constant_scalar(n.input(0), by_name)) predicates[n.name()] = *v;
    }
    tf::GraphDef next;
    bool changed = false;
    for (auto& node : *graph_->mutable_node()) {
      auto p = predicates.find(node.name());
      if (!expand(node, p == predicates.end() ? std::nullopt : std::optional<std::int64_t>(p->second), &next)) {
        *next.add_node() = std::move(node);
        continue;
      }
      changed = true;
      if (next.node_size() > options_.max_nodes) {
        throw Error(ExitCode::kUnsupported, "inlining functions grows the graph past " + std::to_string(options_.max_nodes) +
                                                " nodes (a recursive function?) at '" + node.name() + "'");
      }
    }
    graph_->mutable_node()->Swap(next.mutable_node());  // nodes were moved into `next`
    if (!changed) return false;
    for (auto& n : *graph_->mutable_node()) {
      // "^call" may stand for several control inputs ('\n'-separated, see resolve) or none.
      std::vector<std::string> inputs;
      bool rewritten = false;
      for (const auto& in : n.input()) {
        std::string r = resolve(in);
        rewritten |= r != in;
        std::size_t start = 0;
        while (start < r.size()) {
          auto end = r.find('\n', start);
          if (end == std::string::npos) end = r.size();
          if (end > start) inputs.push_back(r.substr(start, end - start));
          start = end + 1;
        }
      }
      if (!rewritten) continue;
      n.clear_input();
      std::set<std::string> seen;
      for (const auto& in : inputs)
        if (in[0] != '^' || seen.insert(in).second) n.add_input(in);
    }
    outputs_.clear();
    controls_.clear();
    return true;
  }

 private:
  // Expands one node into `out` when it is a call or a cond; false to keep it as it is.
  bool expand(const tf::NodeDef& node, std::optional<std::int64_t> predicate, tf::GraphDef* out) {
    std::vector<std::string> data, control;
    for (const auto& in : node.input()) (in.rfind('^', 0) == 0 ? control : data).push_back(in);
    if (is_functional_while(node.op())) {
      if (auto u = options_.unroll.find(node.name()); u != options_.unroll.end()) {
        const tf::FunctionDef* body = library_.find(function_attr(node, "body"));
        if (!body) throw Error(ExitCode::kBadInput, "node '" + node.name() + "' (" + node.op() + ") names a missing body function");
        unroll_while(node, data, control, *body, u->second, out);
        ++report_->loops_unrolled;
        return true;
      }
      if (!options_.lower_loops) return false;
      const tf::FunctionDef* cond = library_.find(function_attr(node, "cond"));
      const tf::FunctionDef* body = library_.find(function_attr(node, "body"));
      if (!cond || !body) throw Error(ExitCode::kBadInput, "node '" + node.name() + "' (" + node.op() + ") names a missing function");
      lower_while(node, data, control, *cond, *body, out);
      ++report_->loops_lowered;
      return true;
    }
    if (is_functional_if(node.op()) || is_functional_case(node.op())) {
      if (data.empty()) throw Error(ExitCode::kBadInput, "node '" + node.name() + "' (" + node.op() + ") has no predicate input");
      std::vector<std::string> branches;
      if (is_functional_if(node.op())) {
        branches = {function_attr(node, "else_branch"), function_attr(node, "then_branch")};
      } else if (auto it = node.attr().find("branches"); it != node.attr().end()) {
        for (const auto& f : it->second.list().func()) branches.push_back(f.name());
      }
      for (const auto& b : branches)
        if (!library_.find(b)) throw Error(ExitCode::kBadInput, "node '" + node.name() + "' (" + node.op() + ") names missing function '" + b + "'");
      if (branches.empty()) throw Error(ExitCode::kBadInput, "node '" + node.name() + "' (" + node.op() + ") has no branches");
      std::vector<std::string> args(data.begin() + 1, data.end());
      if (auto value = predicate) {
        std::size_t taken = is_functional_if(node.op()) ? (*value != 0 ? 1 : 0)
                                             : (*value < 0 || *value >= static_cast<std::int64_t>(branches.size()) ? branches.size() - 1
                                                                                                                 : static_cast<std::size_t>(*value));
        inline_body(node, *library_.find(branches[taken]), args, control, "", out);
        ++report_->conds_taken;
        return true;
      }
      if (!options_.lower_conds) return false;
      if (is_functional_case(node.op())) {
        throw Error(ExitCode::kUnsupported, "node '" + node.name() + "' (" + node.op() +
                                                "): a Case whose branch index is computed cannot be flattened; set the inputs it depends on with --set");
      }
      lower_if(node, data[0], args, control, *library_.find(branches[1]), *library_.find(branches[0]), out);
      ++report_->conds_lowered;
      return true;
    }
    std::string callee = graph::called_function(node, library_);
    if (callee.empty()) return false;
    const tf::FunctionDef* f = library_.find(callee);
    if (!f) throw Error(ExitCode::kBadInput, "node '" + node.name() + "' calls missing function '" + callee + "'");
    f = preferred_implementation(*f);
    inline_body(node, *f, data, control, "", out);
    ++report_->calls_inlined;
    return true;
  }

  const tf::FunctionDef* preferred_implementation(const tf::FunctionDef& f) {
    const std::string impl = string_attr(f, "api_implements");
    if (impl.empty() || string_attr(f, "api_preferred_device") == options_.preferred_device) return &f;
    auto it = preferred_.find(impl);
    if (it == preferred_.end()) return &f;
    const tf::FunctionDef* other = library_.find(it->second);
    if (!other || other->signature().input_arg_size() != f.signature().input_arg_size() ||
        other->signature().output_arg_size() != f.signature().output_arg_size()) {
      return &f;
    }
    std::string swap = f.signature().name() + " -> " + other->signature().name();
    if (std::find(report_->cpu_implementations.begin(), report_->cpu_implementations.end(), swap) == report_->cpu_implementations.end())
      report_->cpu_implementations.push_back(swap);
    return other;
  }

  std::string unique_name(const std::string& wanted) { return names_.fresh(wanted); }

  // Copies the body of `f` into `out` under "<node>/", its args bound to `args`. Nodes of the
  // body without inputs get `source_controls` (the call's control inputs, or a cond's pivot).
  // Records what "<node>:k" and "^<node>" now stand for, unless `output_prefix` names the
  // outputs of a lowered cond branch (then the caller records them).
  std::vector<std::string> inline_body(const tf::NodeDef& call, const tf::FunctionDef& f, const std::vector<std::string>& args,
                                       const std::vector<std::string>& source_controls, const std::string& scope, tf::GraphDef* out) {
    auto cached = bodies_.find(f.signature().name());
    if (cached == bodies_.end()) cached = bodies_.emplace(f.signature().name(), graph::function_to_graph(f, library_)).first;
    const FunctionGraph& body = cached->second;
    if (args.size() != body.args.size()) {
      throw Error(ExitCode::kBadInput, "node '" + call.name() + "' passes " + std::to_string(args.size()) + " inputs to function '" +
                                           f.signature().name() + "', which takes " + std::to_string(body.args.size()));
    }
    const std::string prefix = call.name() + "/" + scope;
    std::unordered_map<std::string, std::string> renamed;  // body node -> graph node
    std::unordered_map<std::string, std::string> bound;    // arg -> caller tensor
    for (std::size_t i = 0; i < args.size(); ++i) bound[body.args[i]] = args[i];
    // Nesting depth: a function that (directly or not) calls itself never runs out of calls.
    const int depth = depth_.count(call.name()) ? depth_.at(call.name()) + 1 : 1;
    if (depth > kMaxDepth) {
      throw Error(ExitCode::kUnsupported, "node '" + call.name() + "': function calls nest deeper than " + std::to_string(kMaxDepth) +
                                              " (is '" + f.signature().name() + "' recursive?)");
    }
    for (const auto& n : body.graph.node()) {
      if (bound.count(n.name())) continue;
      renamed[n.name()] = unique_name(prefix + n.name());
      depth_[renamed[n.name()]] = depth;
    }
    auto map_ref = [&](const std::string& ref_text) -> std::string {
      graph::TensorRef ref = parse_input(ref_text);
      const std::string node(ref.node);
      if (auto b = bound.find(node); b != bound.end()) {
        return ref.control ? "^" + std::string(parse_input(b->second).node) : b->second;
      }
      return (ref.control ? "^" : "") + graph::tensor_name(renamed.at(node), ref.index);
    };
    for (const auto& n : body.graph.node()) {
      if (bound.count(n.name())) continue;
      tf::NodeDef* copy = out->add_node();
      *copy = n;
      copy->set_name(renamed.at(n.name()));
      copy->clear_input();
      for (const auto& in : n.input()) copy->add_input(map_ref(in));
      if (n.input_size() == 0)
        for (const auto& c : source_controls) copy->add_input(c);
    }
    std::vector<std::string> outputs;
    for (const auto& o : body.outputs) outputs.push_back(map_ref(o));
    if (scope.empty()) {
      for (std::size_t k = 0; k < outputs.size(); ++k) outputs_[graph::tensor_name(call.name(), static_cast<int>(k))] = outputs[k];
      std::string controls;
      for (const auto& o : outputs) controls += (controls.empty() ? "" : "\n") + ("^" + std::string(parse_input(o).node));
      for (const auto& c : body.control_outputs) controls += (controls.empty() ? "" : "\n") + ("^" + renamed.at(c));
      controls_[call.name()] = controls;
    }
    return outputs;
  }

  // If with a computed predicate -> v1 cond: every input passes a Switch on the predicate, each
  // branch reads its side, pivots make the branch's source nodes dead on the side not taken, and
  // a Merge per output picks the live value.
  void lower_if(const tf::NodeDef& node, const std::string& pred, const std::vector<std::string>& args,
                const std::vector<std::string>& control, const tf::FunctionDef& then_f, const tf::FunctionDef& else_f, tf::GraphDef* out) {
    auto add = [&](const std::string& name, const std::string& op, std::vector<std::string> inputs) {
      tf::NodeDef* n = out->add_node();
      n->set_name(unique_name(node.name() + "/" + name));
      n->set_op(op);
      for (auto& in : inputs) n->add_input(std::move(in));
      if (!node.device().empty()) n->set_device(node.device());
      return n;
    };
    tf::NodeDef* pred_switch = add("pred_switch", "Switch", {pred, pred});
    (*pred_switch->mutable_attr())["T"].set_type(tf::DT_BOOL);
    for (const auto& c : control) pred_switch->add_input(c);
    const std::string switch_name = pred_switch->name();
    tf::NodeDef* pivot_f = add("switch_f", "Identity", {switch_name + ":0"});
    (*pivot_f->mutable_attr())["T"].set_type(tf::DT_BOOL);
    tf::NodeDef* pivot_t = add("switch_t", "Identity", {switch_name + ":1"});
    (*pivot_t->mutable_attr())["T"].set_type(tf::DT_BOOL);
    const std::string pf = pivot_f->name(), pt = pivot_t->name();
    const auto& tin = node.attr().count("Tin") ? node.attr().at("Tin").list().type() : google::protobuf::RepeatedField<int>();
    std::vector<std::string> then_args, else_args;
    for (std::size_t i = 0; i < args.size(); ++i) {
      tf::NodeDef* s = add("input_" + std::to_string(i), "Switch", {args[i], pred});
      (*s->mutable_attr())["T"].set_type(static_cast<int>(i) < tin.size() ? static_cast<tf::DataType>(tin.Get(static_cast<int>(i))) : tf::DT_FLOAT);
      else_args.push_back(s->name() + ":0");
      then_args.push_back(s->name() + ":1");
    }
    auto then_out = inline_body(node, then_f, then_args, {"^" + pt}, "then/", out);
    auto else_out = inline_body(node, else_f, else_args, {"^" + pf}, "else/", out);
    if (then_out.size() != else_out.size()) {
      throw Error(ExitCode::kBadInput, "node '" + node.name() + "': its branches return different numbers of outputs");
    }
    const auto& tout = node.attr().count("Tout") ? node.attr().at("Tout").list().type() : google::protobuf::RepeatedField<int>();
    std::string controls;
    for (std::size_t k = 0; k < then_out.size(); ++k) {
      tf::NodeDef* m = add("output_" + std::to_string(k), "Merge", {else_out[k], then_out[k]});
      (*m->mutable_attr())["T"].set_type(static_cast<int>(k) < tout.size() ? static_cast<tf::DataType>(tout.Get(static_cast<int>(k))) : tf::DT_FLOAT);
      (*m->mutable_attr())["N"].set_i(2);
      outputs_[graph::tensor_name(node.name(), static_cast<int>(k))] = m->name();
      controls += (controls.empty() ? "" : "\n") + ("^" + m->name());
    }
    controls_[node.name()] = controls.empty() ? "^" + switch_name : controls;
  }

  // While -> v1 loop in a frame named after the node, as TensorFlow lowers it: per loop
  // variable Enter -> Merge(Enter, NextIteration) -> Switch(LoopCond) -> Exit (false side) or
  // Identity -> body -> NextIteration (true side). Constants of the cond and the body enter the
  // frame through a control edge from the first Merge / body Identity.
  void lower_while(const tf::NodeDef& node, const std::vector<std::string>& data, const std::vector<std::string>& control,
                   const tf::FunctionDef& cond_f, const tf::FunctionDef& body_f, tf::GraphDef* out) {
    const auto& types = node.attr().count("T") ? node.attr().at("T").list().type() : google::protobuf::RepeatedField<int>();
    if (types.size() != static_cast<int>(data.size()) || data.empty()) {
      throw Error(ExitCode::kBadInput, "node '" + node.name() + "' (" + node.op() + "): attr T does not match its inputs");
    }
    const std::int64_t parallel = node.attr().count("parallel_iterations") ? node.attr().at("parallel_iterations").i() : 10;
    auto add = [&](const std::string& name, const std::string& op, std::vector<std::string> inputs, int type) {
      tf::NodeDef* n = out->add_node();
      n->set_name(name);
      n->set_op(op);
      for (auto& in : inputs) n->add_input(std::move(in));
      if (type >= 0) (*n->mutable_attr())["T"].set_type(static_cast<tf::DataType>(type));
      if (!node.device().empty()) n->set_device(node.device());
      return n;
    };
    const std::size_t n = data.size();
    std::vector<std::string> merges(n), nexts(n), idents(n), exits(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string k = std::to_string(i);
      nexts[i] = unique_name(node.name() + "/next_iteration_" + k);
      tf::NodeDef* enter = add(unique_name(node.name() + "/enter_" + k), "Enter", {data[i]}, types.Get(static_cast<int>(i)));
      for (const auto& c : control) enter->add_input(c);
      (*enter->mutable_attr())["frame_name"].set_s(node.name());
      (*enter->mutable_attr())["is_constant"].set_b(false);
      (*enter->mutable_attr())["parallel_iterations"].set_i(parallel);
      tf::NodeDef* merge = add(unique_name(node.name() + "/merge_" + k), "Merge", {enter->name(), nexts[i]}, types.Get(static_cast<int>(i)));
      (*merge->mutable_attr())["N"].set_i(2);
      merges[i] = merge->name();
    }
    auto pred = inline_body(node, cond_f, merges, {"^" + merges[0]}, "cond/", out);
    if (pred.size() != 1) throw Error(ExitCode::kBadInput, "node '" + node.name() + "': cond function must return one value");
    const std::string loop_cond = add(unique_name(node.name() + "/loop_cond"), "LoopCond", {pred[0]}, -1)->name();
    for (std::size_t i = 0; i < n; ++i) {
      const std::string k = std::to_string(i);
      const int type = types.Get(static_cast<int>(i));
      const std::string sw = add(unique_name(node.name() + "/switch_" + k), "Switch", {merges[i], loop_cond}, type)->name();
      exits[i] = add(unique_name(node.name() + "/exit_" + k), "Exit", {sw + ":0"}, type)->name();
      idents[i] = add(unique_name(node.name() + "/identity_" + k), "Identity", {sw + ":1"}, type)->name();
    }
    auto next = inline_body(node, body_f, idents, {"^" + idents[0]}, "body/", out);
    if (next.size() != n) throw Error(ExitCode::kBadInput, "node '" + node.name() + "': body function returns a different number of values");
    std::string controls;
    for (std::size_t i = 0; i < n; ++i) {
      add(nexts[i], "NextIteration", {next[i]}, types.Get(static_cast<int>(i)));
      outputs_[graph::tensor_name(node.name(), static_cast<int>(i))] = exits[i];
      controls += (controls.empty() ? "" : "\n") + ("^" + exits[i]);
    }
    controls_[node.name()] = controls;
  }

  // While with a known trip count -> that many copies of the body, each reading the last.
  void unroll_while(const tf::NodeDef& node, const std::vector<std::string>& data, const std::vector<std::string>& control,
                    const tf::FunctionDef& body_f, int iterations, tf::GraphDef* out) {
    std::vector<std::string> current = data;
    for (int k = 0; k < iterations; ++k) {
      current = inline_body(node, body_f, current, control, "iteration_" + std::to_string(k) + "/", out);
      if (current.size() != data.size()) {
        throw Error(ExitCode::kBadInput, "node '" + node.name() + "': body function returns a different number of values");
      }
    }
    std::string controls;
    for (std::size_t i = 0; i < current.size(); ++i) {
      outputs_[graph::tensor_name(node.name(), static_cast<int>(i))] = current[i];
      controls += (controls.empty() ? "" : "\n") + ("^" + std::string(parse_input(current[i]).node));
    }
    controls_[node.name()] = controls;
  }

  // A reference to a call's output or control, followed through calls inlined in the same round.
  std::string resolve(const std::string& ref_text) {
    std::string current = ref_text;
    for (int hops = 0; hops < 1000; ++hops) {
      graph::TensorRef ref = parse_input(current);
      if (ref.control) {
        auto it = controls_.find(std::string(ref.node));
        if (it == controls_.end()) return current;
        // Several controls: resolve each.
        std::string all;
        std::size_t start = 0;
        const std::string& list = it->second;
        while (start <= list.size()) {
          auto end = list.find('\n', start);
          if (end == std::string::npos) end = list.size();
          if (end > start) all += (all.empty() ? "" : "\n") + resolve(list.substr(start, end - start));
          start = end + 1;
        }
        return all;
      }
      auto it = outputs_.find(graph::tensor_name(ref.node, ref.index));
      if (it == outputs_.end()) {
        if (controls_.count(std::string(ref.node))) {
          throw Error(ExitCode::kBadInput, "'" + current + "' reads an output the called function does not have");
        }
        return current;
      }
      current = it->second;
    }
    throw Error(ExitCode::kBadInput, "'" + ref_text + "': function outputs refer to each other in a cycle");
  }

  tf::GraphDef* graph_;
  const InlineOptions& options_;
  InlineReport* report_;
  FunctionIndex library_;
  std::unordered_map<std::string, std::string> preferred_;  // api_implements -> function
  static constexpr int kMaxDepth = 64;
  std::unordered_map<std::string, FunctionGraph> bodies_;  // converted once per function
  std::unordered_map<std::string, int> depth_;  // inlined node -> how many calls deep
  graph::UniqueNames names_;
  std::unordered_map<std::string, std::string> outputs_;   // "call:k" -> body tensor
  std::unordered_map<std::string, std::string> controls_;  // call -> "^a\n^b"
};

}  // namespace

void inline_functions(tf::GraphDef* graph, const InlineOptions& options, InlineReport* report) {
  if (graph->library().function_size() == 0) return;
  Inliner inliner(graph, options, report);
  for (int rounds = 0; inliner.round(); ++rounds) {
    if (rounds > 10'000) throw Error(ExitCode::kUnsupported, "inlining functions does not terminate (recursive functions?)");
  }
  for (const auto& n : graph->node()) {
    if (is_functional_while(n.op())) report->kept_loops.push_back(n.name());
    if (is_functional_if(n.op()) || is_functional_case(n.op())) report->kept_conds.push_back(n.name());
  }
  prune_library(graph);
}

void prune_library(tf::GraphDef* graph) {
  std::vector<const tf::NodeDef*> roots;
  for (const auto& n : graph->node()) roots.push_back(&n);
  const std::set<std::string> used = graph::reachable_functions(FunctionIndex(graph->library()), roots);
  tf::FunctionDefLibrary kept;  // moved, not copied
  for (auto& f : *graph->mutable_library()->mutable_function())
    if (used.count(f.signature().name())) kept.add_function()->Swap(&f);
  if (kept.function_size() == 0) {
    graph->clear_library();
  } else {
    graph->mutable_library()->Swap(&kept);
  }
}

}  // namespace tffreeze::freeze
