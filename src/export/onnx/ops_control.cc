// Control flow ops and TensorArrays. Loops and conds are mapped as a whole (control_flow.h):
// their Enter / Merge / Switch / LoopCond / NextIteration / Exit nodes are consumed there, and
// reach these converters only when they are outside the patterns ONNX Loop / If express.
// A TensorArray's flow value carries, in ONNX, the array's whole contents stacked on axis 0:
// the value a scatter fills it with, or a Loop's scan output.
#include "common/error.h"
#include "export/onnx/converters.h"

namespace tffreeze::onnx_export {

namespace {

void refuse_control(const tf::NodeDef& node, ExportContext&) {
  no_onnx_form(node, "a control flow node outside the v1 while loop and cond patterns (Enter -> Merge -> Switch -> Exit; Switch -> branches -> Merge)");
}

void refuse_functional(const tf::NodeDef& node, ExportContext&) {
  no_onnx_form(node, "a functional loop or cond left unlowered");
}

// A constant Enter is the outer value inside the Loop body (ONNX lets a body read it); a
// TensorArray handle carries nothing in ONNX. Other Enters are loop variables, mapped with
// their loop.
void convert_enter(const tf::NodeDef& node, ExportContext& ctx) {
  if (!attr_bool(node, "is_constant", false)) refuse_control(node, ctx);
  if (attr_type(node, "T", tf::DT_FLOAT) == tf::DT_RESOURCE) return;
  emit_same(node, ctx, "Identity");
}

// The handle carries nothing in ONNX; the flow is defined by what fills the array.
void convert_tensor_array(const tf::NodeDef&, ExportContext&) {}

// The array's contents are the scattered value when the indices are 0, 1, ..., n - 1.
void convert_scatter(const tf::NodeDef& node, ExportContext& ctx) {
  const auto indices = const_ints(node, 1, ctx);
  for (std::size_t k = 0; k < indices.size(); ++k)
    if (indices[k] != static_cast<std::int64_t>(k)) no_onnx_form(node, "a TensorArray scatter to indices other than 0, 1, ..., n - 1");
  ctx.add_node("Identity", {inputs_of(node).at(2)}, {ExportContext::output(node)}, node.name());
}

// Read (one index) and Gather (several) pick rows of the contents.
void convert_read(const tf::NodeDef& node, ExportContext& ctx) {
  const auto in = inputs_of(node);
  set_int(ctx.add_node("Gather", {in.at(2), in.at(1)}, {ExportContext::output(node)}, node.name()), "axis", 0);
}

void convert_size(const tf::NodeDef& node, ExportContext& ctx) {
  const std::string shape = ctx.add_node("Shape", {inputs_of(node).at(1)}, {}, node.name() + "/shape")->output(0);
  auto* first = ctx.add_node("Gather", {shape, ctx.add_ints(node.name() + "/zero", {0}, true)}, {}, node.name() + "/size");
  set_int(first, "axis", 0);
  set_int(ctx.add_node("Cast", {first->output(0)}, {ExportContext::output(node)}, node.name()), "to", onnx_dtype(tf::DT_INT32));
}

void refuse_write(const tf::NodeDef& node, ExportContext&) {
  no_onnx_form(node, "a TensorArray write outside a while loop's once-per-iteration pattern");
}

}  // namespace

void register_control_converters(ConverterRegistry& r) {
  r.add_all({"Exit", "Merge", "Switch", "LoopCond", "NextIteration"}, refuse_control);
  r.add("Enter", convert_enter);
  // Lowered to v1 loops and conds before the mapping (prepare_control_flow).
  r.add_all({"While", "StatelessWhile", "If", "StatelessIf"}, refuse_functional);
  r.add("TensorArrayV3", convert_tensor_array);
  r.add("TensorArrayScatterV3", convert_scatter);
  r.add_all({"TensorArrayReadV3", "TensorArrayGatherV3"}, convert_read);
  r.add("TensorArraySizeV3", convert_size);
  r.add("TensorArrayWriteV3", refuse_write);
}

}  // namespace tffreeze::onnx_export
