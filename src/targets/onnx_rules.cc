#include "targets/onnx_rules.h"

#include <onnx/defs/schema.h>

#include <map>

#include "common/error.h"

namespace tffreeze::targets {
namespace {

// ONNX ops newer than the schemas of Debian's ONNX 1.12 (which knows opsets up to 17): the
// opset that introduced each, from ONNX's Changelog.md.
const std::map<std::string, int>& ops_after_opset_17() {
  static const std::map<std::string, int> kOps = {
      {"BitwiseAnd", 18}, {"BitwiseNot", 18}, {"BitwiseOr", 18}, {"BitwiseXor", 18}, {"CenterCropPad", 18}, {"Col2Im", 18},
      {"GroupNormalization", 18}, {"Mish", 18}, {"DeformConv", 19}, {"AffineGrid", 20}, {"Gelu", 20}, {"ImageDecoder", 20},
      {"RegexFullMatch", 20}, {"StringConcat", 20}, {"StringSplit", 20}};
  return kOps;
}

// A standard op at the model's opset: ONNX's schema registry knows it and has not deprecated it.
std::string onnxruntime_op_rule(const OnnxView& view, const onnx::NodeProto& node) {
  const std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  if (!domain.empty() && domain != "ai.onnx.ml") return "op " + node.op_type() + " of domain " + domain + " (not a standard ONNX domain)";
  const int opset = view.opset(domain);
  if (opset < 0) return "op " + node.op_type() + " of domain " + domain + ", which the model does not import";
  if (const auto* schema = onnx::OpSchemaRegistry::Schema(node.op_type(), opset, domain)) {
    if (schema->Deprecated()) return "op " + node.op_type() + " is deprecated at opset " + std::to_string(opset);
    return "";
  }
  auto it = ops_after_opset_17().find(node.op_type());
  if (domain.empty() && it != ops_after_opset_17().end()) {
    if (opset >= it->second) return "";
    return "op " + node.op_type() + " needs opset " + std::to_string(it->second) + " (the model imports " + std::to_string(opset) + ")";
  }
  return "op " + node.op_type() + " is not a standard ONNX op at opset " + std::to_string(opset);
}

// onnxruntime checks the ops inside If/Loop/Scan bodies too.
void check_onnxruntime_nodes(const OnnxView& view, const onnx::GraphProto& graph, std::vector<OnnxRejection>* out) {
  for (const auto& node : graph.node()) {
    if (auto r = onnxruntime_op_rule(view, node); !r.empty()) out->push_back({onnx_node_name(node), node.op_type(), r});
    for (const auto& a : node.attribute()) {
      if (a.has_g()) check_onnxruntime_nodes(view, a.g(), out);
      for (const auto& g : a.graphs()) check_onnxruntime_nodes(view, g, out);
    }
  }
}

bool has_subgraphs(const onnx::GraphProto& graph) {
  for (const auto& node : graph.node())
    for (const auto& a : node.attribute())
      if (a.has_g() || a.graphs_size() > 0) return true;
  return false;
}

OnnxCheck check_onnxruntime(const OnnxView& view) {
  OnnxCheck c;
  const int opset = view.opset();
  if (opset < 13 || opset > 20)
    c.rejections.push_back({"(model)", "", "opset " + std::to_string(opset) + " (measured here: onnxruntime 1.30 on opsets 13 to 20)"});
  check_onnxruntime_nodes(view, view.graph(), &c.rejections);
  return c;
}

using NodeRule = std::string (*)(const OnnxView&, const onnx::NodeProto&);

OnnxCheck check_nodes(const OnnxView& view, std::vector<OnnxRejection> model_rules, NodeRule rule) {
  OnnxCheck c{std::move(model_rules), {}};
  for (const auto& node : view.graph().node())
    if (auto r = rule(view, node); !r.empty()) c.rejections.push_back({onnx_node_name(node), node.op_type(), r});
  if (has_subgraphs(view.graph())) c.notes.push_back("the nodes inside If/Loop/Scan bodies are not checked");
  return c;
}

// TopK with sorted=0 leaves the order open; sorted=1 is one of the orders it allows.
std::string sort_topk(onnx::NodeProto* node) {
  for (auto& a : *node->mutable_attribute()) {
    if (a.name() != "sorted" || a.i() == 1) continue;
    a.set_i(1);
    return "TopK '" + onnx_node_name(*node) + "': sorted=1 (TensorRT's table requires it; sorted output is one that sorted=0 allows)";
  }
  return "";
}

// Optional outputs nobody reads (MaxPool's Indices, LayerNormalization's Mean and InvStdDev) go.
std::string drop_unread_outputs(const OnnxView& view, onnx::NodeProto* node) {
  if (node->op_type() != "MaxPool" && node->op_type() != "LayerNormalization") return "";
  int keep = node->output_size();
  while (keep > 1 && (node->output(keep - 1).empty() || view.readers(node->output(keep - 1)) == 0)) --keep;
  if (keep == node->output_size()) return "";
  while (node->output_size() > keep) node->mutable_output()->RemoveLast();
  return node->op_type() + " '" + onnx_node_name(*node) + "': unread optional outputs removed (TensorRT supports only the first)";
}

std::vector<std::string> tensorrt_rewrites(onnx::ModelProto* model) {
  std::vector<std::string> changes;
  OnnxView view(*model);  // the rewrites below change attributes and outputs only: what the view holds stays valid
  for (auto& node : *model->mutable_graph()->mutable_node()) {
    std::string change = node.op_type() == "TopK" ? sort_topk(&node) : drop_unread_outputs(view, &node);
    if (!change.empty()) changes.push_back(change);
  }
  return changes;
}

}  // namespace

const std::vector<OnnxTarget>& onnx_targets() {
  static const std::vector<OnnxTarget> kTargets = {
      {"onnxruntime", "onnxruntime: every standard ONNX op of opsets 13 to 20",
       "measured: the test suite runs every export in onnxruntime 1.30 (its Node.js package)", "generic"},
      {"tensorrt", "TensorRT 8.6 and 10's ONNX parser: its operator table, types and restrictions",
       "from onnx-tensorrt's published operator table (docs/operators.md, 8.6-GA and 10.x), not measured (no TensorRT is reachable here)",
       "tensorrt"},
      {"opencv", "OpenCV DNN 4.6's ONNX importer (cv2.dnn.readNetFromONNX): the ops and operand forms it loads and computes",
       "measured against OpenCV 4.6 (Debian's python3-opencv) op by op with tools/measure_opencv_onnx.py", "opencv"},
  };
  return kTargets;
}

const OnnxTarget& find_onnx_target(const std::string& name) {
  const std::string wanted = name == "generic" ? "onnxruntime" : name;
  std::string known;
  for (const auto& t : onnx_targets()) {
    if (t.name == wanted) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  throw Error(ExitCode::kUsage, "--target " + name + ": not a target for ONNX files (known: " + known + ")");
}

OnnxCheck check_onnx_target(const onnx::ModelProto& model, const OnnxTarget& target) {
  OnnxView view(model);
  if (target.name == "onnxruntime") return check_onnxruntime(view);
  if (target.name == "tensorrt") {
    OnnxCheck c = check_nodes(view, tensorrt_onnx_model_rules(view), tensorrt_onnx_rejects);
    if (view.opset() > 17 && view.opset() <= 20) c.notes.push_back("opset " + std::to_string(view.opset()) + ": TensorRT 8.6's table covers opsets up to 17");
    return c;
  }
  return check_nodes(view, opencv_onnx_model_rules(view), opencv_onnx_rejects);
}

std::vector<std::string> make_onnx_acceptable(onnx::ModelProto* model, const OnnxTarget& target) {
  if (target.name == "tensorrt") return tensorrt_rewrites(model);
  if (target.name == "opencv") return opencv_onnx_rewrites(model);
  return {};
}

}  // namespace tffreeze::targets
