// strip_training_ops(with_default=auto|placeholder|default): remove what only training needs.
//  - dropout in the forms TensorFlow produced becomes the identity of its input:
//      Mul(RealDiv(x, keep_prob) | Mul(x, scale), Floor(Add(keep_prob, random)))   (tf.nn.dropout v1, tf.layers)
//      Mul(Mul(x, scale), Cast(GreaterEqual(random, rate)))                         (tf.nn.dropout(rate=), Keras)
//      SelectV2/Select(GreaterEqual(random, rate), Mul(x, scale), zeros)            (TF 2.x)
//  - v1 cond: a Switch whose predicate is a constant keeps only the live branch; nodes fed by the
//    dead branch disappear and a Merge left with one live input becomes that input;
//  - PlaceholderWithDefault becomes a Placeholder, or its default (auto: the default when it is a
//    constant scalar, a flag such as keras_learning_phase; a Placeholder otherwise);
//  - Assert, NoOp, PrintV2 and summaries are removed; Print, CheckNumerics, StopGradient,
//    PreventGradient and Snapshot are bypassed; control edges that only ordered them are dropped.
// Passes repeat until nothing changes: removing a dropout can expose a constant cond, and so on.
#include <optional>
#include <set>

#include "common/error.h"
#include "graph/node_builders.h"
#include "graph/training_ops.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {


// True when the node's value comes from a random op through a few arithmetic steps
// (random_uniform(min, max) is RandomUniform * (max - min) + min).
bool depends_on_random(const graph::GraphView& view, int i, int depth) {
  const std::string& op = view.node(i).op();
  if (graph::is_random_op(op)) return true;
  static const std::set<std::string> kArith = {"Add", "AddV2", "Mul", "Sub", "Identity", "RealDiv"};
  if (depth == 0 || !kArith.count(op)) return false;
  for (const auto& e : view.inputs(i))
    if (!e.control() && depends_on_random(view, e.producer, depth - 1)) return true;
  return false;
}

// A 0/1 keep mask drawn at random: Floor(keep_prob + U) or Cast(U >= rate).
bool is_random_mask(const graph::GraphView& view, int i) {
  const auto& node = view.node(i);
  if (node.op() == "Floor") {
    const graph::Edge* e = data_input(view, i, 0);
    return e && depends_on_random(view, e->producer, 5);
  }
  if (node.op() == "Cast") {
    const graph::Edge* e = data_input(view, i, 0);
    return e && is_random_mask(view, e->producer);
  }
  static const std::set<std::string> kCompare = {"GreaterEqual", "Greater", "Less", "LessEqual"};
  if (kCompare.count(node.op())) {
    for (const auto& e : view.inputs(i))
      if (!e.control() && depends_on_random(view, e.producer, 5)) return true;
  }
  return false;
}

// The x of RealDiv(x, k), Mul(x, c) or Mul(c, x) where c is a constant; "" if not scaled.
std::string unscaled(const graph::GraphView& view, int i) {
  const auto& node = view.node(i);
  if (node.op() == "RealDiv" && node.input_size() >= 2) return node.input(0);
  if (node.op() != "Mul" || node.input_size() < 2) return "";
  if (const_through_identity(view, i, 1) >= 0) return node.input(0);
  if (const_through_identity(view, i, 0) >= 0) return node.input(1);
  return "";
}

// The input a dropout node passes through at inference, or "" if node i is not a dropout.
std::string dropout_input(const graph::GraphView& view, int i) {
  const auto& node = view.node(i);
  const graph::Edge* a = data_input(view, i, 0);
  const graph::Edge* b = data_input(view, i, 1);
  if (node.op() == "Mul" && a && b) {
    for (auto [mask, scaled] : {std::pair{b, a}, std::pair{a, b}}) {
      if (!is_random_mask(view, mask->producer)) continue;
      std::string x = unscaled(view, scaled->producer);
      if (!x.empty() && scaled->output == 0) return x;
    }
  }
  if ((node.op() == "SelectV2" || node.op() == "Select") && a && b && is_random_mask(view, a->producer)) {
    std::string x = unscaled(view, b->producer);
    if (!x.empty() && b->output == 0) return x;
  }
  return "";
}

bool is_removable_bookkeeping(const std::string& op) {
  static const std::set<std::string> kOps = {"Assert", "NoOp", "PrintV2", "MergeSummary", "MergeV2Checkpoints"};
  return kOps.count(op) || (op.size() > 7 && op.compare(op.size() - 7, 7, "Summary") == 0) ||
         op.find("SummaryV2") != std::string::npos || (op.rfind("Write", 0) == 0 && op.find("Summary") != std::string::npos);
}

// The constant boolean behind a Switch's predicate, if any.
std::optional<bool> constant_predicate(const graph::GraphView& view, int i) {
  int c = const_through_identity(view, i, 1);
  if (c < 0) return std::nullopt;
  Tensor t = const_value(view.node(c));
  if (t.dtype != tf::DT_BOOL || t.num_elements() != 1) return std::nullopt;
  return element_as_double(t, 0) != 0;
}

struct Round {
  int dropouts = 0, switches = 0, placeholders = 0, bookkeeping = 0;
  int total() const { return dropouts + switches + placeholders + bookkeeping; }
};

// One pass over the graph; returns what it changed.
Round strip_once(tf::GraphDef* graph, const PassContext& ctx, PassReport* report, std::set<std::string>* said) {
  graph::GraphView view(*graph);
  Rewrite rw(view.size());
  Round round;
  auto say = [&](const std::string& why) {
    if (said->insert(why).second) report->refused.push_back(why);
  };
  // Replaces node i by the tensor `by`: rewired and erased, or an Identity where the node is an
  // output of the graph (its name must stay).
  std::vector<std::pair<int, std::string>> as_identity;
  std::vector<std::pair<int, tf::NodeDef>> placeholders;  // rewritten in place after the scan
  auto bypass = [&](int i, const std::string& by) {
    const auto& name = view.node(i).name();
    if (is_interface(ctx.outputs, name)) {
      as_identity.emplace_back(i, by);
      return;
    }
    rw.remove[static_cast<std::size_t>(i)] = true;
    rw.tensor[name] = by;
  };
  std::string mode = ctx.args.count("with_default") ? ctx.args.at("with_default") : "auto";

  // Dead tensors of constant-predicate Switches, propagated forward in execution order.
  std::set<std::pair<int, int>> dead_outputs;  // (node, output)
  std::vector<bool> dead(static_cast<std::size_t>(view.size()), false);
  for (int i : view.topological_order()) {
    const auto& node = view.node(i);
    if (rw.remove[static_cast<std::size_t>(i)]) continue;
    if (node.op() == "Merge") {
      std::vector<std::string> live;
      int data = 0;
      for (const auto& e : view.inputs(i)) {
        if (e.control()) continue;
        ++data;
        if (!dead[static_cast<std::size_t>(e.producer)] && !dead_outputs.count({e.producer, e.output}))
          live.push_back(view.node(i).input(e.input_slot));
      }
      if (live.empty() && data > 0) dead[static_cast<std::size_t>(i)] = true;
      if (live.size() == 1 && data > 1) {
        bool index_used = false;
        for (const auto& c : view.consumers(i)) index_used |= c.output == 1;
        if (index_used) {
          say("node '" + node.name() + "': its value_index output is used; the Merge stays");
        } else {
          bypass(i, live[0]);
          ++round.switches;
        }
      }
      continue;
    }
    bool is_dead = false;
    for (const auto& e : view.inputs(i))
      is_dead |= dead[static_cast<std::size_t>(e.producer)] || (!e.control() && dead_outputs.count({e.producer, e.output}));
    if (is_dead) {
      dead[static_cast<std::size_t>(i)] = true;
      continue;
    }
    if (node.op() == "Switch" || node.op() == "RefSwitch") {
      auto pred = constant_predicate(view, i);
      if (!pred) {
        const graph::Edge* p = data_input(view, i, 1);
        if (p) say("node '" + node.name() + "': predicate '" + view.node(p->producer).name() +
                   "' is not a constant (freeze with --set NAME=false to pick a branch)");
        continue;
      }
      const int live_port = *pred ? 1 : 0;
      dead_outputs.insert({i, 1 - live_port});
      // Consumers of the live port read the data; the Switch itself goes.
      rw.remove[static_cast<std::size_t>(i)] = true;
      rw.tensor[graph::tensor_name(node.name(), live_port)] = node.input(0);
      rw.control[node.name()] = {"^" + std::string(graph::parse_input(node.input(0)).node)};
      ++round.switches;
    }
  }
  for (int i = 0; i < view.size(); ++i) {
    if (!dead[static_cast<std::size_t>(i)]) continue;
    if (is_interface(ctx.outputs, view.node(i).name())) {
      throw Error(ExitCode::kBadInput, "strip_training_ops: output '" + view.node(i).name() + "' is on a branch its constant predicate never takes");
    }
    rw.remove[static_cast<std::size_t>(i)] = true;
  }

  for (int i = 0; i < view.size(); ++i) {
    if (rw.remove[static_cast<std::size_t>(i)]) continue;
    const auto& node = view.node(i);
    const std::string& op = node.op();
    if (op == "PlaceholderWithDefault") {
      int c = const_through_identity(view, i, 0);
      bool use_default = mode == "default" ||
                         (mode == "auto" && c >= 0 && const_value(view.node(c)).num_elements() <= 1);
      if (is_interface(ctx.inputs, node.name()) || node.input_size() == 0) use_default = false;
      if (use_default) {
        bypass(i, node.input(0));
      } else {
        tf::TensorShapeProto shape;
        if (node.attr().count("shape")) shape = node.attr().at("shape").shape();
        tf::NodeDef placeholder = graph::make_placeholder(node.name(), node.attr().at("dtype").type(), shape);
        placeholders.emplace_back(i, std::move(placeholder));
      }
      ++round.placeholders;
    } else if (std::string x = dropout_input(view, i); !x.empty()) {
      bypass(i, x);
      ++round.dropouts;
    } else if (is_removable_bookkeeping(op) && !is_interface(ctx.outputs, node.name())) {
      rw.remove[static_cast<std::size_t>(i)] = true;
      rw.control[node.name()] = {};
      ++round.bookkeeping;
    }
  }
  for (auto& [i, placeholder] : placeholders) *graph->mutable_node(i) = std::move(placeholder);
  for (auto& [i, by] : as_identity) {
    auto* n = graph->mutable_node(i);
    tf::AttrValue t;
    if (n->attr().count("T")) t = n->attr().at("T");
    else if (n->attr().count("dtype")) t = n->attr().at("dtype");
    n->set_op("Identity");
    n->clear_input();
    n->add_input(by);
    n->clear_attr();
    (*n->mutable_attr())["T"] = t;
  }
  apply_rewrite(graph, rw);
  // Pass-through ops go the way remove_nodes does it.
  round.bookkeeping +=
      bypass_pass_through(graph, ctx, {"Print", "CheckNumerics", "StopGradient", "PreventGradient", "Snapshot"}, report);
  return round;
}

PassReport strip_training_ops(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  std::string mode = ctx.args.count("with_default") ? ctx.args.at("with_default") : "auto";
  if (mode != "auto" && mode != "placeholder" && mode != "default")
    throw Error(ExitCode::kUsage, "strip_training_ops: with_default must be auto, placeholder or default, not '" + mode + "'");
  std::set<std::string> said;
  for (int rounds = 0; rounds < 32; ++rounds) {
    Round r = strip_once(graph, ctx, &report, &said);
    report.changed += r.total();
    remove_unneeded(graph, ctx.outputs, ctx.inputs);
    if (r.total() == 0) break;
  }
  graph::GraphView view(*graph);
  for (int i = 0; i < view.size(); ++i)
    if (graph::is_random_op(view.node(i).op()))
      report.refused.push_back("node '" + view.node(i).name() + "': random op still needed by the outputs (not a dropout form this pass knows)");
  return report;
}

}  // namespace

void register_strip_training_ops(PassRegistry& r) {
  r.add("strip_training_ops", strip_training_ops,
        "dropout -> identity, constant-predicate Switch/Merge -> live branch, PlaceholderWithDefault (with_default=auto|placeholder|default), "
        "Assert/NoOp/Print/CheckNumerics/summaries removed");
}

}  // namespace tffreeze::passes
