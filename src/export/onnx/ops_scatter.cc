// Variable updates as values, and the scatter-add family. A frozen graph's Assign(var, value)
// reads as `value`; ScatterAdd/Sub/Mul/Div/Min/Max/Update on it as ONNX ScatterND over the
// assigned value (first-axis indices become [N, 1] index tuples), with the reduction TF's op
// applies to duplicates; SparseTensorDenseAdd and UnsortedSegmentSum the same onto a dense tensor
// or zeros. ScatterND's add/mul reductions need opset 16, min/max 18.
#include <map>

#include "common/dtype.h"
#include "export/onnx/converters.h"

namespace tffreeze::onnx_export {
namespace {

void convert_assign(const tf::NodeDef& node, ExportContext& ctx) {
  ctx.add_node("Identity", {inputs_of(node)[1]}, {ExportContext::output(node)}, node.name());
}

// ScatterND of `updates` into `data` at first-axis `indices` (or ND index tuples when `nd`).
void scatter(const tf::NodeDef& node, ExportContext& ctx, const std::string& data, int indices_input, std::string updates,
             const std::string& reduction, bool nd) {
  const int needed = reduction == "min" || reduction == "max" ? 18 : reduction == "none" ? 13 : 16;
  if (ctx.opset() < needed) no_onnx_form(node, "a scatter-" + reduction + " below opset " + std::to_string(needed));
  std::string indices = int64_input(node, indices_input, ctx);
  if (!nd) indices = ctx.add_node("Unsqueeze", {indices, ctx.add_ints(node.name() + "/last", {-1})}, {}, node.name() + "/tuples")->output(0);
  auto* n = ctx.add_node("ScatterND", {data, indices, updates}, {ExportContext::output(node)}, node.name());
  if (reduction != "none") set_string(n, "reduction", reduction);
}

void convert_scatter(const tf::NodeDef& node, ExportContext& ctx) {
  static const std::map<std::string, std::string> reduction = {{"ScatterAdd", "add"}, {"ScatterSub", "add"}, {"ScatterMul", "mul"},
                                                                {"ScatterDiv", "mul"}, {"ScatterMin", "min"}, {"ScatterMax", "max"},
                                                                {"ScatterUpdate", "none"}, {"ScatterNdAdd", "add"}, {"ScatterNdSub", "add"},
                                                                {"ScatterNdUpdate", "none"}, {"TensorScatterAdd", "add"},
                                                                {"TensorScatterSub", "add"}, {"TensorScatterUpdate", "none"}};
  const auto in = inputs_of(node);
  std::string updates = in[2];
  const std::string& op = node.op();
  if (op.size() >= 3 && op.compare(op.size() - 3, 3, "Sub") == 0) updates = ctx.add_node("Neg", {updates}, {}, node.name() + "/negated")->output(0);
  if (op == "ScatterDiv") updates = ctx.add_node("Reciprocal", {updates}, {}, node.name() + "/reciprocal")->output(0);
  const bool nd = op.find("Nd") != std::string::npos || op.rfind("TensorScatter", 0) == 0;
  scatter(node, ctx, in[0], 1, updates, reduction.at(op), nd);
}

// SparseTensorDenseAdd(a_indices, a_values, a_shape, b): b plus the sparse values.
void convert_sparse_dense_add(const tf::NodeDef& node, ExportContext& ctx) {
  const auto in = inputs_of(node);
  scatter(node, ctx, in[3], 0, in[1], "add", true);
}

// UnsortedSegmentSum(data, segment_ids, num_segments): zeros of the output's shape with each
// slice of data added at its segment (every id tuple indexes the output's first axis).
void convert_unsorted_segment_sum(const tf::NodeDef& node, ExportContext& ctx) {
  const auto& out = ctx.info(ExportContext::output(node)).shape;
  const tf::DataType t = attr_type(node, "T", tf::DT_FLOAT);
  auto* zeros = ctx.add_node("ConstantOfShape", {ctx.add_ints(node.name() + "/shape", out)}, {}, node.name() + "/zeros");
  auto* value = zeros->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  to_onnx_tensor(Tensor{t, {1}, std::string(static_cast<std::size_t>(dtype_size(t)), '\0'), {}, {}}, "value", value->mutable_t());
  scatter(node, ctx, zeros->output(0), 1, inputs_of(node)[0], "add", false);
}

}  // namespace

void register_scatter_converters(ConverterRegistry& r) {
  r.add("Assign", convert_assign);
  r.add_all({"ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv", "ScatterMin", "ScatterMax", "ScatterUpdate", "ScatterNdAdd", "ScatterNdSub",
             "ScatterNdUpdate", "TensorScatterAdd", "TensorScatterSub", "TensorScatterUpdate"},
            convert_scatter);
  r.add("SparseTensorDenseAdd", convert_sparse_dense_add);
  r.add("UnsortedSegmentSum", convert_unsorted_segment_sum);
}

}  // namespace tffreeze::onnx_export
