// unpack_to_split: Unpack (tf.unstack, how static RNNs slice their time steps) becomes Split
// plus one Reshape per piece, for importers without Unpack (OpenCV DNN):
//   Unpack(x: [1,28,28], axis=1, num=28)  ->  Reshape(Split(1, x, num_split=28):k, [1,28]) for each k
// It needs x's static shape: from a Placeholder with a full shape, or a Reshape to a constant
// shape without -1 (fold_constants first). Otherwise the Unpack is left alone, with the reason.
// When x is a Reshape that only split the last axis in two, the Split takes the Reshape's input.
#include <cstring>
#include <optional>

#include "common/dtype.h"
#include "graph/node_builders.h"
#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

std::optional<std::vector<std::int64_t>> static_shape(const graph::GraphView& view, const graph::Edge& e) {
  const auto& node = view.node(e.producer);
  std::vector<std::int64_t> dims;
  if (node.op() == "Placeholder" && node.attr().count("shape") && !node.attr().at("shape").shape().unknown_rank()) {
    for (const auto& d : node.attr().at("shape").shape().dim()) dims.push_back(d.size());
  } else if (node.op() == "Reshape") {
    int c = const_through_identity(view, e.producer, 1);
    if (c < 0) return std::nullopt;
    Tensor t = const_value(view.node(c));
    for (std::int64_t k = 0; k < t.num_elements(); ++k) dims.push_back(static_cast<std::int64_t>(element_as_double(t, k)));
  } else {
    return std::nullopt;
  }
  for (auto d : dims)
    if (d < 0) return std::nullopt;
  return dims;
}

Tensor int32_vector(const std::vector<std::int64_t>& v) {
  Tensor t{tf::DT_INT32, {static_cast<std::int64_t>(v.size())}, std::string(v.size() * 4, '\0'), {}, {}};
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::int32_t x = static_cast<std::int32_t>(v[i]);
    std::memcpy(t.bytes.data() + 4 * i, &x, 4);
  }
  return t;
}

PassReport unpack_to_split(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  graph::GraphView view(*graph);
  Rewrite rw(view.size());
  graph::UniqueNames names(*graph);
  std::vector<tf::NodeDef> added;
  for (int i = 0; i < view.size(); ++i) {
    const auto& node = view.node(i);
    if (node.op() != "Unpack") continue;
    const graph::Edge* x = data_input(view, i, 0);
    auto shape = x ? static_shape(view, *x) : std::nullopt;
    if (!shape) {
      report.refused.push_back("node '" + node.name() + "': the input's static shape is unknown (give the graph input a fixed shape)");
      continue;
    }
    if (is_interface(ctx.outputs, node.name())) {
      report.refused.push_back("node '" + node.name() + "': it is an output of the graph");
      continue;
    }
    const std::int64_t rank = static_cast<std::int64_t>(shape->size());
    std::int64_t axis = node.attr().count("axis") ? node.attr().at("axis").i() : 0;
    if (axis < 0) axis += rank;
    const std::int64_t num = node.attr().count("num") ? node.attr().at("num").i() : 0;
    if (axis < 0 || axis >= rank || (*shape)[static_cast<std::size_t>(axis)] != num || num <= 0) continue;
    std::vector<std::int64_t> piece = *shape;
    piece.erase(piece.begin() + axis);
    const tf::DataType T = node.attr().count("T") ? node.attr().at("T").type() : tf::DT_FLOAT;
    // Unpack(Reshape(y: [..., T*F], [..., T, F]), axis=-2) is Split(y, axis=-1 of y, T): the pieces
    // come out in their final shape with no 3-D intermediate (which OpenCV mislays). In y the
    // merged axis has the same index as the unpacked one.
    std::string split_input = node.input(0);
    bool pieces_final = false;
    if (view.node(x->producer).op() == "Reshape" && axis == rank - 2) {
      const graph::Edge* y = data_input(view, x->producer, 0);
      auto y_shape = y ? static_shape(view, *y) : std::nullopt;
      std::vector<std::int64_t> merged(shape->begin(), shape->end() - 2);
      merged.push_back((*shape)[static_cast<std::size_t>(rank - 2)] * (*shape)[static_cast<std::size_t>(rank - 1)]);
      if (y_shape && *y_shape == merged) {
        split_input = view.node(x->producer).input(0);
        pieces_final = true;
      }
    }
    Tensor split_dim = int32_vector({axis});
    split_dim.shape.clear();  // a scalar
    const std::string split_dim_name = names.fresh(node.name() + "/split_dim");
    added.push_back(graph::make_const(split_dim_name, split_dim));
    const std::string piece_shape_name = pieces_final ? "" : names.fresh(node.name() + "/piece_shape");
    if (!pieces_final) added.push_back(graph::make_const(piece_shape_name, int32_vector(piece)));
    tf::NodeDef split;
    split.set_name(names.fresh(node.name() + "/split"));
    split.set_op("Split");
    split.add_input(split_dim_name);
    split.add_input(split_input);
    (*split.mutable_attr())["T"].set_type(T);
    (*split.mutable_attr())["num_split"].set_i(num);
    split.set_device(node.device());
    added.push_back(split);
    for (std::int64_t k = 0; k < num && pieces_final; ++k)
      rw.tensor[graph::tensor_name(node.name(), static_cast<int>(k))] = graph::tensor_name(split.name(), static_cast<int>(k));
    for (std::int64_t k = 0; k < num && !pieces_final; ++k) {
      tf::NodeDef reshape;
      reshape.set_name(names.fresh(node.name() + "/piece_" + std::to_string(k)));
      reshape.set_op("Reshape");
      reshape.add_input(graph::tensor_name(split.name(), static_cast<int>(k)));
      reshape.add_input(piece_shape_name);
      (*reshape.mutable_attr())["T"].set_type(T);
      (*reshape.mutable_attr())["Tshape"].set_type(tf::DT_INT32);
      reshape.set_device(node.device());
      rw.tensor[graph::tensor_name(node.name(), static_cast<int>(k))] = reshape.name();
      added.push_back(reshape);
    }
    rw.remove[static_cast<std::size_t>(i)] = true;
    rw.control[node.name()] = {"^" + split.name()};
    ++report.changed;
  }
  apply_rewrite(graph, rw);
  for (auto& n : added) *graph->add_node() = std::move(n);
  remove_unneeded(graph, ctx.outputs, ctx.inputs);  // the 3-D Reshape a Split skipped
  return report;
}

}  // namespace

void register_unpack_to_split(PassRegistry& r) {
  r.add("unpack_to_split", unpack_to_split, "Unpack -> Split + Reshape per piece (static shapes), for importers without Unpack");
}

}  // namespace tffreeze::passes
