// canonicalize_operands: commutative binary ops take their constant operand second. Deploy
// importers look for weights there: OpenCV DNN rejects Mul(Const, x) ("Const input blob for
// weights not found"), which real graphs contain (PReLU written as max(0,x) + gamma*min(0,x)).
// Sub(Const c, x) (GRU's 1 - z) becomes Add(Mul(x, -1), c): OpenCV reads a constant-first Sub as
// x - c, a silently wrong answer.
// Add of two computed tensors becomes AddV2 (TF 2's add): OpenCV fuses Mul(x, vector) + Add
// into a scale-and-shift layer and then fails to find the shift among the Add's operands.
#include <cstring>
#include <set>

#include "graph/node_builders.h"

#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

bool commutative(const tf::NodeDef& node) {
  static const std::set<std::string> kOps = {"Add", "AddV2", "Mul", "Maximum", "Minimum", "SquaredDifference",
                                             "LogicalAnd", "LogicalOr", "Equal", "NotEqual", "BitwiseAnd", "BitwiseOr", "BitwiseXor"};
  if (!kOps.count(node.op())) return false;
  auto t = node.attr().find("T");  // Add of strings concatenates: not commutative
  return t == node.attr().end() || t->second.type() != tf::DT_STRING;
}

PassReport canonicalize_operands(tf::GraphDef* graph, const PassContext&) {
  PassReport report;
  std::vector<int> swap;
  std::vector<tf::NodeDef> added;
  {
    graph::GraphView view(*graph);
    graph::UniqueNames names(*graph);
    for (int i = 0; i < view.size(); ++i) {
      const auto& node = view.node(i);
      if (node.op() == "Sub" && node.input_size() == 2 && node.attr().count("T") && node.attr().at("T").type() == tf::DT_FLOAT &&
          const_through_identity(view, i, 0) >= 0 && const_through_identity(view, i, 1) < 0) {
        Tensor minus_one{tf::DT_FLOAT, {}, std::string(4, '\0'), {}, {}};
        const float m = -1;
        std::memcpy(minus_one.bytes.data(), &m, 4);
        added.push_back(graph::make_const(names.fresh(node.name() + "/minus_one"), minus_one));
        tf::NodeDef negated;
        negated.set_name(names.fresh(node.name() + "/negated"));
        negated.set_op("Mul");
        negated.add_input(node.input(1));
        negated.add_input(added.back().name());
        (*negated.mutable_attr())["T"].set_type(tf::DT_FLOAT);
        added.push_back(negated);
        auto* sub = graph->mutable_node(i);
        sub->set_op("Add");
        sub->set_input(1, sub->input(0));
        sub->set_input(0, negated.name());
        ++report.changed;
        continue;
      }
      if (node.op() == "Add" && node.input_size() == 2 && commutative(node) && const_through_identity(view, i, 0) < 0 &&
          const_through_identity(view, i, 1) < 0) {
        graph->mutable_node(i)->set_op("AddV2");
        ++report.changed;
        continue;
      }
      if (!commutative(node) || node.input_size() < 2 || node.input(1).rfind('^', 0) == 0) continue;
      if (const_through_identity(view, i, 0) >= 0 && const_through_identity(view, i, 1) < 0) swap.push_back(i);
    }
  }
  for (int i : swap) graph->mutable_node(i)->mutable_input()->SwapElements(0, 1);
  for (auto& n : added) *graph->add_node() = std::move(n);
  report.changed += static_cast<int>(swap.size());
  return report;
}

}  // namespace

void register_canonicalize_operands(PassRegistry& r) {
  r.add("canonicalize_operands", canonicalize_operands, "commutative binary ops take the constant operand second (Mul(Const, x) -> Mul(x, Const))");
}

}  // namespace tffreeze::passes
