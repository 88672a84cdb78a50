#include "export/onnx/prepare.h"

#include "passes/pass.h"

namespace tffreeze::onnx_export {

namespace {

// strip_training_ops takes conds whose predicate folds to a constant to their live branch (and
// drops Asserts); ONNX could only express them as If.
constexpr const char* kOnnxPreparation =
    "strip_unused_nodes strip_training_ops unfuse_ops remove_nodes(op=Identity) fold_constants unroll_loops fold_constants lower_tensor_lists "
    "remove_nodes(op=Identity) fold_constants sort_by_execution_order";

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ";") + n;
  return out;
}

}  // namespace

std::vector<std::string> prepare_for_onnx(tf::GraphDef* graph, const std::vector<std::string>& outputs, const Layout& layout) {
  passes::PassContext ctx;
  ctx.outputs = outputs;
  passes::run_pipeline(graph, passes::parse_pipeline(kOnnxPreparation), ctx);
  passes::PassInvocation to_nchw{"to_nchw", {}};
  if (!layout.inputs_as_nchw.empty()) to_nchw.args["inputs_as_nchw"] = joined(layout.inputs_as_nchw);
  if (!layout.outputs_as_nchw.empty()) to_nchw.args["outputs_as_nchw"] = joined(layout.outputs_as_nchw);
  return passes::run_pipeline(graph, {to_nchw}, ctx).front().report.refused;
}

}  // namespace tffreeze::onnx_export
