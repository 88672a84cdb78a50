#include "cli/onnx_output.h"

#include <iostream>

#include "common/file_util.h"
#include "export/onnx/export.h"
#include "io/onnx_file.h"
#include "passes/pass.h"

namespace tffreeze::cli {

namespace {
// ONNX has no TensorLists and no fused TF ops: loops with a static trip count are unrolled (their
// lists lowered), fused ops split back into their standard ops.
constexpr const char* kOnnxPreparation =
    "strip_unused_nodes unfuse_ops remove_nodes(op=Identity) fold_constants unroll_loops fold_constants lower_tensor_lists "
    "remove_nodes(op=Identity) fold_constants sort_by_execution_order";
}  // namespace

bool is_onnx_output(const std::string& path) { return extension(path) == ".onnx"; }

void add_onnx_options(CLI::App* cmd, OnnxOutputOptions* o) {
  cmd->add_option("--opset", o->opset, "ONNX opset of an .onnx output (13 to 20; default 17)")->default_str("17");
  cmd->add_flag("--external-data", o->external_data, "Write an .onnx output's weights to OUT.onnx.data beside it");
}

void write_onnx(const tf::GraphDef& graph, const std::vector<std::string>& outputs, const std::map<std::string, std::vector<std::int64_t>>& shapes,
                const OnnxOutputOptions& o, const std::string& output, nlohmann::json* report) {
  // Operands ONNX wants constant (axes, shapes, pads) are constants once folded.
  tf::GraphDef prepared = graph;
  passes::PassContext ctx;
  ctx.outputs = outputs;
  passes::run_pipeline(&prepared, passes::parse_pipeline(kOnnxPreparation), ctx);
  onnx_export::ExportOptions options;
  options.opset = o.opset;
  options.outputs = outputs;
  options.shapes = shapes;
  onnx::ModelProto model = onnx_export::to_onnx(prepared, options);
  std::map<std::string, int> histogram;
  int transposes = 0;
  for (const auto& n : model.graph().node()) ++histogram[n.op_type()], transposes += n.op_type() == "Transpose";
  (*report)["onnx"] = {{"opset", o.opset}, {"nodes", model.graph().node_size()}, {"ops", histogram}, {"transposes", transposes},
                       {"external_data", o.external_data}};
  io::save_onnx(std::move(model), output, o.external_data);
  std::cout << "wrote " << output << " (ONNX opset " << o.opset << ", " << (*report)["onnx"]["nodes"].get<int>() << " nodes, "
            << transposes << " Transpose)\n";
}

}  // namespace tffreeze::cli
