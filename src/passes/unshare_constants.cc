// unshare_constants(op=ConcatV2|Concat|Pack): a constant read by one of these ops and by other
// nodes gets a private copy for each such reader. OpenCV DNN turns a constant concatenated in
// into a layer of its own, after which the other readers no longer find it as weights
// ("Const input blob for weights not found"; the zero state of a static GRU is one). The
// opposite of merge_duplicate_nodes: run it after that.
#include <set>
#include <sstream>

#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport unshare_constants(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  std::set<std::string> ops;
  std::stringstream spec(ctx.args.count("op") ? ctx.args.at("op") : "ConcatV2|Concat|Pack");
  for (std::string op; std::getline(spec, op, '|');) ops.insert(op);
  graph::GraphView view(*graph);
  graph::UniqueNames names(*graph);
  std::vector<tf::NodeDef> copies;
  std::vector<std::pair<int, std::pair<int, std::string>>> rewired;  // node, (input slot, new input)
  for (int i = 0; i < view.size(); ++i) {
    if (view.node(i).op() != "Const") continue;
    const auto& readers = view.consumers(i);
    if (readers.size() < 2) continue;
    for (const auto& e : readers) {
      if (e.control() || !ops.count(view.node(e.consumer).op())) continue;
      tf::NodeDef copy = view.node(i);
      copy.set_name(names.fresh(view.node(i).name() + "/for_" + view.node(e.consumer).name()));
      rewired.push_back({e.consumer, {e.input_slot, copy.name()}});
      copies.push_back(std::move(copy));
      ++report.changed;
    }
  }
  for (const auto& [node, slot] : rewired) graph->mutable_node(node)->set_input(slot.first, slot.second);
  for (auto& c : copies) *graph->add_node() = std::move(c);
  return report;
}

}  // namespace

void register_unshare_constants(PassRegistry& r) {
  r.add("unshare_constants", unshare_constants, "give ConcatV2/Concat/Pack a private copy of constants other nodes also read (op=A|B)");
}

}  // namespace tffreeze::passes
