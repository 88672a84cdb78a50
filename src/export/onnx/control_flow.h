// Control flow in the ONNX export: TF 1 while loops (Enter / Merge / Switch / LoopCond /
// NextIteration / Exit frames, as runtime/loop_frames.h finds them) become ONNX Loop nodes with
// a body subgraph, TF 1 conds (Switch / Merge on a computed predicate) ONNX If nodes with two
// branch subgraphs, and functional While / If are lowered to those forms first. TensorArrays
// inside loops map to what ONNX has: a read of an array filled by a scatter before the loop is
// a Gather, an array written once per iteration at the iteration's index is a scan output.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "export/onnx/context.h"
#include "graph/graph_view.h"

namespace tffreeze::onnx_export {

struct PreparedGraph {
  tf::GraphDef graph;
  std::vector<std::string> outputs;  // the user's outputs as tensors of `graph`
};

// The graph as the exporter maps it: functional While / If lowered to v1 loops and conds (one
// form to map); control inputs dropped (ONNX orders by data alone, and a constant pinned into
// a loop or a branch by a control edge is an outer-scope initializer).
PreparedGraph prepare_control_flow(const tf::GraphDef& graph, const std::vector<std::string>& outputs);

// Constant Enters of constants are constants too (an axis, a shape entered into a loop).
void add_constant_enters(const graph::GraphView& view, std::map<std::string, const tf::NodeDef*>& constants);

// Copies of `graph` with every cond's predicate forced true, and forced false: running them
// shows the shapes in the branches that the random inputs do not take. Empty without conds.
std::vector<tf::GraphDef> forced_cond_variants(const tf::GraphDef& graph);

// Emits ONNX for one plain node (an input, a weight, a converter's nodes).
using NodeEmitter = std::function<void(const tf::NodeDef& node, ExportContext& ctx)>;

// Emits the nodes `order` (needed, in execution order) into ctx: plain nodes through `emit`,
// each loop frame as a Loop, each cond as an If. Throws Error (exit 4) naming the node for a
// loop or cond outside the patterns above, (exit 3) for entangled frames.
void export_nodes(const graph::GraphView& view, const std::vector<int>& order, ExportContext& ctx, const NodeEmitter& emit);

// Error (exit 4) naming the node when a node of `graph` (subgraphs included) reads a value that
// nothing computes: a TF value with no ONNX form there (a TensorArray used another way).
void check_values_defined(const onnx::GraphProto& graph);

}  // namespace tffreeze::onnx_export
