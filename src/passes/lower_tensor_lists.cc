// lower_tensor_lists: TensorList traffic with constant indices (what an unrolled Keras RNN
// leaves) becomes plain tensor ops that every runtime has:
//   TensorListGetItem(TensorListFromTensor(x), k)            ->  StridedSlice(x, [k], [k+1], shrink axis 0)
//   TensorListStack(SetItem(...SetItem(Reserve(n), 0, a)..., n-1, z))  ->  Pack(a, ..., z)
// A stack is lowered only when every index 0..n-1 is set by a chain of SetItems that nothing
// else reads (a later write of an index replaces an earlier one, as Keras's last-output-only
// RNNs do); anything else is left alone with the reason. Run fold_constants
// first so that the indices are constants.
#include <cstring>
#include <map>
#include <optional>

#include "graph/node_builders.h"
#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

// The node behind data input `slot` of node i, through Identity.
int producer_through_identity(const graph::GraphView& view, int i, int slot) {
  const graph::Edge* e = data_input(view, i, slot);
  int p = e ? e->producer : -1;
  for (int hops = 0; p >= 0 && hops < 64 && view.node(p).op() == "Identity"; ++hops) {
    const graph::Edge* in = data_input(view, p, 0);
    p = in ? in->producer : -1;
  }
  return p;
}

std::optional<std::int64_t> const_index(const graph::GraphView& view, int i, int slot) {
  int c = const_through_identity(view, i, slot);
  if (c < 0) return std::nullopt;
  Tensor t = const_value(view.node(c));
  if (t.num_elements() != 1) return std::nullopt;
  return static_cast<std::int64_t>(element_as_double(t, 0));
}

Tensor int32_vector(std::int32_t v) {
  Tensor t{tf::DT_INT32, {1}, std::string(4, '\0'), {}, {}};
  std::memcpy(t.bytes.data(), &v, 4);
  return t;
}

PassReport lower_tensor_lists(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  graph::GraphView view(*graph);
  graph::UniqueNames names(*graph);
  std::map<int, tf::NodeDef> replaced;  // in place, keeping the name: outputs may be lowered too
  std::vector<tf::NodeDef> added;
  for (int i = 0; i < view.size(); ++i) {
    const auto& node = view.node(i);
    const tf::DataType dtype = node.attr().count("element_dtype") ? node.attr().at("element_dtype").type() : tf::DT_FLOAT;
    if (node.op() == "TensorListGetItem") {
      int list = producer_through_identity(view, i, 0);
      auto k = const_index(view, i, 1);
      if (list < 0 || view.node(list).op() != "TensorListFromTensor") continue;
      if (!k || *k < 0) {
        report.refused.push_back("node '" + node.name() + "': its index is not a constant (fold_constants first; unroll_loops for loops)");
        continue;
      }
      const std::string base = node.name() + "/slice";  // the constants' prefix
      const std::string begin = names.fresh(base + "/begin"), end = names.fresh(base + "/end"), strides = names.fresh(base + "/strides");
      added.push_back(graph::make_const(begin, int32_vector(static_cast<std::int32_t>(*k))));
      added.push_back(graph::make_const(end, int32_vector(static_cast<std::int32_t>(*k + 1))));
      added.push_back(graph::make_const(strides, int32_vector(1)));
      tf::NodeDef slice;
      slice.set_name(node.name());
      slice.set_op("StridedSlice");
      slice.add_input(view.node(list).input(0));
      for (const std::string* part : {&begin, &end, &strides}) slice.add_input(*part);
      auto& a = *slice.mutable_attr();
      a["T"].set_type(dtype);
      a["Index"].set_type(tf::DT_INT32);
      for (const char* m : {"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask"}) a[m].set_i(0);
      a["shrink_axis_mask"].set_i(1);
      slice.set_device(node.device());
      replaced[i] = std::move(slice);
      ++report.changed;
    } else if (node.op() == "TensorListStack") {
      // Walk the SetItem chain back to its Reserve.
      std::map<std::int64_t, std::string> items;
      std::string why;
      int list = producer_through_identity(view, i, 0);
      while (list >= 0 && view.node(list).op() == "TensorListSetItem" && why.empty()) {
        auto k = const_index(view, list, 1);
        if (!k) why = "SetItem '" + view.node(list).name() + "' has no constant index";
        else if (consumer_count(view, list) != 1) why = "SetItem '" + view.node(list).name() + "' is read by more than the next step";
        else items.emplace(*k, view.node(list).input(2));  // walking back: the latest write of an index wins
        list = producer_through_identity(view, list, 0);
      }
      if (why.empty() && (list < 0 || view.node(list).op() != "TensorListReserve")) why = "the list does not come from a TensorListReserve";
      std::optional<std::int64_t> n;
      if (why.empty() && !(n = const_index(view, list, 1))) why = "the reserved size is not a constant";
      if (why.empty() && (static_cast<std::int64_t>(items.size()) != *n || items.begin()->first != 0 || items.rbegin()->first != *n - 1)) {
        why = "not every index of 0.." + std::to_string(*n - 1) + " is set";
      }
      if (!why.empty()) {
        report.refused.push_back("node '" + node.name() + "': " + why);
        continue;
      }
      tf::NodeDef pack;
      pack.set_name(node.name());
      pack.set_op("Pack");
      for (const auto& [k, item] : items) pack.add_input(item);
      (*pack.mutable_attr())["T"].set_type(dtype);
      (*pack.mutable_attr())["N"].set_i(static_cast<std::int64_t>(items.size()));
      (*pack.mutable_attr())["axis"].set_i(0);
      pack.set_device(node.device());
      replaced[i] = std::move(pack);
      ++report.changed;
    }
  }
  if (report.changed == 0) return report;
  for (auto& [i, n] : replaced) graph->mutable_node(i)->Swap(&n);
  for (auto& n : added) *graph->add_node() = std::move(n);
  remove_unneeded(graph, ctx.outputs, ctx.inputs);  // the lists nothing reads any more
  return report;
}

}  // namespace

void register_lower_tensor_lists(PassRegistry& r) {
  r.add("lower_tensor_lists", lower_tensor_lists, "TensorList get/stack with constant indices -> StridedSlice / Pack");
}

}  // namespace tffreeze::passes
