// matmul_bias_as_add: MatMul -> BiasAdd becomes MatMul -> AddV2, for OpenCV DNN. Its importer
// fuses a BiasAdd into the preceding InnerProduct but then loses the 2-D layout of the result,
// so a following Split or ConcatV2 reads its axis as NHWC and fails (static GRU/LSTM cells:
// "splits > 0 && inpShape[axis] % splits == 0"). As AddV2 the bias is a separate Shift layer that
// keeps the layout; the numbers are the same.
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport matmul_bias_as_add(tf::GraphDef* graph, const PassContext&) {
  PassReport report;
  std::vector<int> rewrite;
  {
    graph::GraphView view(*graph);
    for (int i = 0; i < view.size(); ++i) {
      if (view.node(i).op() != "BiasAdd") continue;
      const graph::Edge* x = data_input(view, i, 0);
      if (x && view.node(x->producer).op() == "MatMul") rewrite.push_back(i);
    }
  }
  for (int i : rewrite) {
    auto* n = graph->mutable_node(i);
    n->set_op("AddV2");
    n->mutable_attr()->erase("data_format");
  }
  report.changed = static_cast<int>(rewrite.size());
  return report;
}

}  // namespace

void register_matmul_bias_as_add(PassRegistry& r) {
  r.add("matmul_bias_as_add", matmul_bias_as_add, "MatMul -> BiasAdd becomes MatMul -> AddV2 (keeps OpenCV's 2-D layout)");
}

}  // namespace tffreeze::passes
