// Reductions (EuclideanNorm is ReduceL2) and arg-reductions. Axes must be constants (they are after fold_constants). Which
// operand form the axes take depends on the opset: ReduceSum's became an input in 13, the
// others' in 18. TF reduces nothing over an empty axes list; ONNX says so with
// noop_with_empty_axes (or, in the attribute form, the node becomes an Identity).
#include <limits>
#include <map>

#include "export/onnx/converters.h"

namespace tffreeze::onnx_export {
namespace {

const std::map<std::string, std::string>& reduce_ops() {
  static const std::map<std::string, std::string> table = {
      {"Sum", "ReduceSum"}, {"Mean", "ReduceMean"}, {"Max", "ReduceMax"}, {"Min", "ReduceMin"}, {"Prod", "ReduceProd"},
      {"EuclideanNorm", "ReduceL2"}, {"All", "ReduceMin"}, {"Any", "ReduceMax"}};
  return table;
}

void reduce(const tf::NodeDef& node, ExportContext& ctx, const std::string& x, const std::string& op_type, const std::string& out) {
  auto axes = const_ints(node, 1, ctx);
  const bool keep = attr_bool(node, "keep_dims", false);
  const bool axes_input = op_type == "ReduceSum" ? ctx.opset() >= 13 : ctx.opset() >= 18;
  if (axes.empty() && (!axes_input || op_type == "ReduceL2")) {
    // Nothing reduced: x itself, or sqrt(x * x) = |x| for EuclideanNorm (ONNX's no-op ReduceL2 copies x).
    ctx.add_node(op_type == "ReduceL2" ? "Abs" : "Identity", {x}, {out}, node.name());
    return;
  }
  onnx::NodeProto* n = axes_input ? ctx.add_node(op_type, {x, ctx.add_ints(node.name() + "/axes", axes)}, {out}, node.name())
                                  : ctx.add_node(op_type, {x}, {out}, node.name());
  if (!axes_input) set_ints(n, "axes", axes);
  if (axes_input && axes.empty()) set_int(n, "noop_with_empty_axes", 1);
  set_int(n, "keepdims", keep ? 1 : 0);
}

void convert_reduce(const tf::NodeDef& node, ExportContext& ctx) {
  const std::string x = inputs_of(node)[0], out = ExportContext::output(node);
  const std::string& op_type = reduce_ops().at(node.op());
  if (node.op() != "All" && node.op() != "Any") {
    reduce(node, ctx, x, op_type, out);
    return;
  }
  // ONNX has no boolean reductions: min/max over 0/1 integers.
  const std::string as_int = cast(ctx, x, tf::DT_INT32, node.name() + "/as_int");
  const std::string reduced = ctx.fresh(node.name() + "/reduced");
  reduce(node, ctx, as_int, op_type, reduced);
  set_int(ctx.add_node("Cast", {reduced}, {out}, node.name() + "/as_bool"), "to", onnx::TensorProto::BOOL);
}

void convert_arg(const tf::NodeDef& node, ExportContext& ctx) {
  auto axis = const_ints(node, 1, ctx);
  if (axis.size() != 1) no_onnx_form(node, "an axis of " + std::to_string(axis.size()) + " values");
  const tf::DataType out_type = attr_type(node, "output_type", tf::DT_INT64);
  const std::string out = ExportContext::output(node);
  const std::string indices = out_type == tf::DT_INT64 ? out : ctx.fresh(node.name() + "/int64");
  auto* n = ctx.add_node(node.op() == "ArgMax" ? "ArgMax" : "ArgMin", {inputs_of(node)[0]}, {indices}, node.name());
  set_int(n, "axis", axis[0]);
  set_int(n, "keepdims", 0);
  // TF returns the first index of ties, ONNX too by default (select_last_index=0).
  if (out_type != tf::DT_INT64) set_int(ctx.add_node("Cast", {indices}, {out}, node.name() + "/cast"), "to", onnx_dtype(out_type));
}

}  // namespace

void register_reduce_converters(ConverterRegistry& r) {
  for (const auto& [op, onnx_op] : reduce_ops()) r.add(op, convert_reduce);
  r.add_all({"ArgMax", "ArgMin"}, convert_arg);
}

}  // namespace tffreeze::onnx_export
