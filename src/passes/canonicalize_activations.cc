// canonicalize_activations: activations written out with Maximum/Minimum become the forms deploy
// importers know (OpenCV DNN 4.x has no Maximum/Minimum layer; it fuses the Relu/Neg PReLU form):
//   Maximum(x, 0)                                 -> Relu(x)
//   Minimum(Relu(x), 6)                           -> Relu6(x)
//   Add(Maximum(x, 0), Mul(Minimum(x, 0), g))     -> Add(Relu(x), Mul(-g, Relu(Neg(x))))   (PReLU)
// Either operand order is accepted. The PReLU form keeps the constant first in the Mul: that is
// the exact pattern OpenCV's importer fuses into its PReLU layer.
#include <cmath>

#include "graph/node_builders.h"
#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

// The non-constant operand of a binary node whose other operand is the scalar constant `value`.
const graph::Edge* operand_beside(const graph::GraphView& view, int i, float value) {
  for (int k : {0, 1}) {
    int c = const_through_identity(view, i, k);
    if (c < 0) continue;
    Tensor t = const_value(view.node(c));
    if (t.dtype != tf::DT_FLOAT || t.num_elements() != 1 || element_as_double(t, 0) != value) continue;
    const graph::Edge* x = data_input(view, i, 1 - k);
    if (x && const_through_identity(view, i, 1 - k) < 0) return x;
  }
  return nullptr;
}

std::string ref(const graph::GraphView& view, const graph::Edge& e) { return graph::tensor_name(view.node(e.producer).name(), e.output); }

tf::NodeDef unary(const std::string& name, const std::string& op, const std::string& input, const tf::NodeDef& like) {
  tf::NodeDef n;
  n.set_name(name);
  n.set_op(op);
  n.add_input(input);
  (*n.mutable_attr())["T"].set_type(tf::DT_FLOAT);
  n.set_device(like.device());
  return n;
}

bool only_consumer(const graph::GraphView& view, int producer, int consumer) {
  for (const auto& e : view.consumers(producer))
    if (e.consumer != consumer) return false;
  return true;
}

PassReport canonicalize_activations(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  for (bool progress = true; progress;) {
    progress = false;
    graph::GraphView view(*graph);
    graph::UniqueNames names(*graph);
    std::map<int, tf::NodeDef> replace;
    std::vector<tf::NodeDef> added;
    auto touched = [&](int i) { return replace.count(i) > 0; };
    for (int i = 0; i < view.size(); ++i) {
      const auto& node = view.node(i);
      if (touched(i)) continue;
      if (node.op() == "Add" || node.op() == "AddV2") {  // PReLU
        const graph::Edge* a = data_input(view, i, 0);
        const graph::Edge* b = data_input(view, i, 1);
        if (!a || !b) continue;
        for (auto [max_e, mul_e] : {std::pair{a, b}, std::pair{b, a}}) {
          const int mx = max_e->producer, mul = mul_e->producer;
          if (view.node(mx).op() != "Maximum" || view.node(mul).op() != "Mul" || touched(mx) || touched(mul)) continue;
          const graph::Edge* x = operand_beside(view, mx, 0);
          int g_slot = const_through_identity(view, mul, 1) >= 0 ? 1 : 0;
          int g = const_through_identity(view, mul, g_slot);
          const graph::Edge* mn_e = data_input(view, mul, 1 - g_slot);
          if (!x || g < 0 || !mn_e || view.node(mn_e->producer).op() != "Minimum" || touched(mn_e->producer)) continue;
          const int mn = mn_e->producer;
          const graph::Edge* x2 = operand_beside(view, mn, 0);
          if (!x2 || x2->producer != x->producer || x2->output != x->output) continue;
          if (!only_consumer(view, mx, i) || !only_consumer(view, mul, i) || !only_consumer(view, mn, mul) ||
              is_interface(ctx.outputs, view.node(mx).name()) || is_interface(ctx.outputs, view.node(mul).name()) ||
              is_interface(ctx.outputs, view.node(mn).name())) {
            report.refused.push_back("node '" + node.name() + "': a PReLU whose parts have other readers");
            continue;
          }
          Tensor gamma = const_value(view.node(g));
          if (gamma.dtype != tf::DT_FLOAT) continue;
          std::vector<float> v = floats_of(gamma);
          for (float& s : v) s = -s;
          const std::string xin = ref(view, *x);
          const std::string& mn_name = view.node(mn).name();
          replace[mx] = unary(view.node(mx).name(), "Relu", xin, view.node(mx));
          replace[mn] = unary(mn_name, "Neg", xin, view.node(mn));
          const std::string neg_relu = names.fresh(mn_name + "/Relu");
          added.push_back(unary(neg_relu, "Relu", mn_name, view.node(mn)));
          added.push_back(graph::make_const(names.fresh(view.node(mul).name() + "/neg_gamma"), float_tensor(gamma.shape, v)));
          tf::NodeDef m = view.node(mul);
          m.set_input(0, added.back().name());
          m.set_input(1, neg_relu);
          replace[mul] = m;
          tf::NodeDef add = node;
          add.set_op("Add");  // the op type OpenCV's PReLU pattern names
          add.set_input(0, view.node(mx).name());
          add.set_input(1, view.node(mul).name());
          replace[i] = add;
          ++report.changed;
          break;
        }
      } else if (node.op() == "Maximum") {
        if (const graph::Edge* x = operand_beside(view, i, 0)) {
          // Part of a PReLU? Leave it for the Add above.
          bool feeds_prelu = false;
          for (const auto& c : view.consumers(i)) {
            const std::string& op = view.node(c.consumer).op();
            feeds_prelu |= op == "Add" || op == "AddV2";
          }
          if (feeds_prelu) continue;
          replace[i] = unary(node.name(), "Relu", ref(view, *x), node);
          ++report.changed;
        }
      } else if (node.op() == "Minimum") {
        const graph::Edge* r = operand_beside(view, i, 6);
        if (r && view.node(r->producer).op() == "Relu" && only_consumer(view, r->producer, i) && !touched(r->producer)) {
          const graph::Edge* x = data_input(view, r->producer, 0);
          if (!x) continue;
          replace[i] = unary(node.name(), "Relu6", ref(view, *x), node);
          ++report.changed;
        }
      }
    }
    if (replace.empty()) break;
    for (auto& [i, n] : replace) {
      for (const auto& in : graph->node(i).input())
        if (!in.empty() && in[0] == '^') n.add_input(in);
      *graph->mutable_node(i) = std::move(n);
    }
    for (auto& n : added) *graph->add_node() = std::move(n);
    remove_unneeded(graph, ctx.outputs, ctx.inputs);
    progress = true;
  }
  return report;
}

}  // namespace

void register_canonicalize_activations(PassRegistry& r) {
  r.add("canonicalize_activations", canonicalize_activations,
        "Maximum(x,0) -> Relu, Minimum(Relu(x),6) -> Relu6, Maximum/Minimum PReLU -> Relu/Neg PReLU form");
}

}  // namespace tffreeze::passes
