#include "targets/targets.h"

#include <map>
#include <set>

#include "common/error.h"
#include "graph/graph_view.h"
#include "graph/op_registry.h"
#include "graph/training_ops.h"
#include "targets/opencv_rules.h"

namespace tffreeze::targets {
namespace {

// Every pipeline starts by dropping what the outputs do not need and what only training needs.
#define TFFREEZE_PIPELINE_HEAD "strip_unused_nodes strip_training_ops remove_nodes(op=Identity|CheckNumerics|StopGradient|Snapshot) "
constexpr const char* kGenericPipeline = TFFREEZE_PIPELINE_HEAD
    "fold_constants remove_nodes(op=Identity) fold_batch_norms fuse_bias_add merge_duplicate_nodes sort_by_execution_order";
// TFLite and TensorRT: standard ops only, dilated convolutions as such, default attrs explicit.
constexpr const char* kConverterPipeline = TFFREEZE_PIPELINE_HEAD
    "unfuse_ops flatten_atrous_conv fold_constants unroll_loops fold_constants lower_tensor_lists remove_nodes(op=Identity) fold_batch_norms fuse_bias_add "
    "canonicalize_activations merge_duplicate_nodes remove_device strip_attrs add_default_attributes sort_by_execution_order";
// OpenCV: its importer's quirks too (weights second, PReLU form, no Unpack, shared constants).
// Loops with a static trip count (Keras RNNs) are unrolled for both: neither runs TensorLists.
constexpr const char* kOpenCvPipeline = TFFREEZE_PIPELINE_HEAD
    "unfuse_ops fold_constants unroll_loops fold_constants lower_tensor_lists fold_batch_norms fuse_bias_add canonicalize_operands "
    "canonicalize_activations unpack_to_split "
    "fold_constants remove_nodes(op=Identity) matmul_bias_as_add merge_duplicate_nodes unshare_constants remove_device strip_attrs "
    "sort_by_execution_order";
#undef TFFREEZE_PIPELINE_HEAD

// OpenCV DNN 4.x (Debian 12 ships 4.6): its TF importer's dispatch table, plus the element-wise
// layers it creates by op name. Measured here: each op alone in a graph, loaded and run by
// cv2.dnn (tests/opencv/oracle_test.cc checks the list against the installed OpenCV).
const std::set<std::string>& opencv_ops() {
  static const std::set<std::string> kOps = {
      "Placeholder", "Const", "Conv2D", "DepthwiseConv2dNative", "Conv3D", "SpaceToBatchND", "BatchToSpaceND", "Pad", "MirrorPad",
      "BiasAdd", "Add", "AddV2", "Sub", "AddN", "MatMul", "Reshape", "Flatten", "Squeeze", "Transpose", "LRN", "Concat",
      "ConcatV2", "MaxPool", "MaxPool3D", "AvgPool", "AvgPool3D", "Split", "Slice", "StridedSlice", "Mul", "RealDiv",
      "FusedBatchNorm", "FusedBatchNormV3", "Conv2DBackpropInput", "BlockLSTM", "ResizeNearestNeighbor", "ResizeBilinear",
      "L2Normalize", "Softmax", "CropAndResize", "Mean", "Sum", "Max", "Pack", "ClipByValue", "LeakyRelu", "Abs", "Tanh",
      "Sigmoid", "Relu", "Elu", "Exp", "Relu6", "ExpandDims", "Square", "Sqrt", "Floor", "Ceil", "Round", "Log", "Selu",
      "Softplus", "Swish", "Erf", "Sin", "Reciprocal", "Identity"};
  return kOps;
}

// TFLite's converter: the TF ops it maps to builtin operators.
const std::set<std::string>& tflite_ops() {
  static const std::set<std::string> kOps = {
      "Placeholder", "Const", "Identity", "Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul", "BatchMatMul",
      "BatchMatMulV2", "BiasAdd", "Add", "AddV2", "AddN", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "FloorMod", "Maximum",
      "Minimum", "Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "MaxPool", "AvgPool",
      "Reshape", "Squeeze", "ExpandDims", "Transpose", "ConcatV2", "Pack", "Unpack", "Split", "SplitV", "Slice",
      "StridedSlice", "Pad", "PadV2", "MirrorPad", "Mean", "Sum", "Max", "Min", "Prod", "ArgMax", "ArgMin", "ResizeBilinear",
      "ResizeNearestNeighbor", "Cast", "Exp", "Log", "Sqrt", "Rsqrt", "Square", "SquaredDifference", "Abs", "Neg", "Floor",
      "Ceil", "Round", "Sin", "Cos", "Pow", "GatherV2", "GatherNd", "Tile", "Fill", "Shape", "Range", "Select", "SelectV2",
      "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "TopKV2",
      "SpaceToBatchND", "BatchToSpaceND", "SpaceToDepth", "DepthToSpace", "LRN", "OneHot", "ReverseV2", "ZerosLike",
      "OnesLike", "Cumsum", "Where", "Rank", "BroadcastTo", "Softplus", "L2Normalize", "FusedBatchNormV3", "Sign"};
  return kOps;
}

// TF-TRT / TensorRT's TF parsers: the ops with converters.
const std::set<std::string>& tensorrt_ops() {
  static const std::set<std::string> kOps = {
      "Placeholder", "Const", "Identity", "Snapshot", "Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul",
      "BatchMatMul", "BatchMatMulV2", "BiasAdd", "Add", "AddV2", "AddN", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Relu",
      "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "Softplus", "MaxPool", "AvgPool", "Reshape",
      "Squeeze", "ExpandDims", "Transpose", "ConcatV2", "Pack", "Unpack", "Split", "SplitV", "Slice", "StridedSlice", "Pad",
      "Mean", "Sum", "Max", "Min", "Prod", "ArgMax", "ArgMin", "ResizeBilinear", "ResizeNearestNeighbor", "FusedBatchNorm",
      "FusedBatchNormV2", "FusedBatchNormV3", "Cast", "Exp", "Log", "Sqrt", "Rsqrt", "Reciprocal", "Square",
      "SquaredDifference", "Abs", "Neg", "Floor", "Ceil", "Sin", "Cos", "Pow", "GatherV2", "Tile", "Fill", "Shape", "Range",
      "Select", "SelectV2", "Equal", "Less", "Greater", "TopKV2", "SpaceToDepth", "DepthToSpace", "LRN", "ClipByValue", "Erf"};
  return kOps;
}

const std::set<std::string>* accepted_ops(const std::string& target) {
  if (target == "opencv") return &opencv_ops();
  if (target == "tflite") return &tflite_ops();
  if (target == "tensorrt") return &tensorrt_ops();
  return nullptr;  // generic: any op TensorFlow defines, training leftovers aside
}

// The pass or flag that removes an op, where one does.
std::string fix_for(const std::string& op) {
  static const std::map<std::string, std::string> kFix = {
      {"FusedBatchNorm", "fold_batch_norms"}, {"FusedBatchNormV2", "fold_batch_norms"}, {"FusedBatchNormV3", "fold_batch_norms"},
      {"Identity", "remove_nodes(op=Identity)"}, {"CheckNumerics", "strip_training_ops"}, {"StopGradient", "strip_training_ops"},
      {"Snapshot", "remove_nodes(op=Snapshot)"}, {"_FusedConv2D", "unfuse_ops"}, {"_FusedMatMul", "unfuse_ops"},
      {"FusedDepthwiseConv2dNative", "unfuse_ops"}, {"SpaceToBatchND", "flatten_atrous_conv"}, {"BatchToSpaceND", "flatten_atrous_conv"},
      {"Switch", "freeze --set <flag>=false, then strip_training_ops"}, {"Merge", "freeze --set <flag>=false, then strip_training_ops"},
      {"PlaceholderWithDefault", "strip_training_ops"}, {"Assert", "strip_training_ops"}, {"NoOp", "strip_training_ops"},
      {"Print", "strip_training_ops"}, {"PrintV2", "strip_training_ops"}, {"RandomUniform", "strip_training_ops (dropout) or freeze --set keep_prob=1.0"},
      {"RandomStandardNormal", "strip_training_ops"}, {"Floor", "strip_training_ops (dropout)"},
      {"Maximum", "canonicalize_activations (Relu, PReLU forms)"}, {"Minimum", "canonicalize_activations (Relu6, PReLU forms)"},
      {"VariableV2", "tffreeze freeze with a checkpoint"}, {"VarHandleOp", "tffreeze freeze with a checkpoint"},
      {"ReadVariableOp", "tffreeze freeze with a checkpoint"}, {"Variable", "tffreeze freeze with a checkpoint"},
      {"Shape", "fold_constants after giving the input a fixed shape (freeze --replace-input NAME=float32[1,...])"},
      {"Size", "fold_constants after giving the input a fixed shape"}, {"Rank", "fold_constants after giving the input a fixed shape"},
      {"Fill", "fold_constants after giving the input a fixed shape"}};
  auto it = kFix.find(op);
  return it == kFix.end() ? "" : it->second;
}

bool is_commutative_with_weights(const std::string& op) { return op == "Mul" || op == "Add" || op == "AddV2"; }

bool constant_first(const graph::GraphView& view, const tf::NodeDef& node) {
  int first = view.find(graph::parse_input(node.input(0)).node), second = view.find(graph::parse_input(node.input(1)).node);
  return first >= 0 && second >= 0 && view.node(first).op() == "Const" && view.node(second).op() != "Const";
}

// OpenCV fuses Add(Relu(x), Mul(Const, Relu(Neg(x)))) into its PReLU layer (the form
// canonicalize_activations writes): that Neg, and the constant first in that Mul, are accepted.
bool single_consumer_op(const graph::GraphView& view, int i, const std::string& op, int* next) {
  const auto& c = view.consumers(i);
  if (c.size() != 1 || view.node(c[0].consumer).op() != op) return false;
  *next = c[0].consumer;
  return true;
}
bool in_opencv_prelu(const graph::GraphView& view, int i) {
  int relu = -1, mul = -1, add = -1;
  if (view.node(i).op() == "Neg")
    return single_consumer_op(view, i, "Relu", &relu) && single_consumer_op(view, relu, "Mul", &mul) &&
           single_consumer_op(view, mul, "Add", &add);
  if (view.node(i).op() == "Mul" && view.node(i).input_size() == 2) {
    int second = view.find(graph::parse_input(view.node(i).input(1)).node);
    if (second < 0 || view.node(second).op() != "Relu" || view.node(second).input_size() < 1) return false;
    int neg = view.find(graph::parse_input(view.node(second).input(0)).node);
    return neg >= 0 && in_opencv_prelu(view, neg);
  }
  return false;
}

}  // namespace

const std::vector<Target>& all_targets() {
  static const std::vector<Target> kTargets = {
      {"generic", kGenericPipeline, "any TensorFlow runtime: training leftovers stripped, constants and batch norms folded",
       "TensorFlow's op set"},
      {"opencv", kOpenCvPipeline, "OpenCV DNN's TF importer (4.x): its op set, weights as the second operand, execution order",
       "measured against OpenCV 4.6 (Debian's libopencv-dnn) on every shared model and the conformance corpus"},
      {"tflite", kConverterPipeline, "the TFLite converter's builtin op set",
       "from the TFLite converter's published op list, not measured (no TFLite converter or runtime is reachable here)"},
      {"tensorrt", kConverterPipeline, "TensorRT's TF converters (TF-TRT, UFF)",
       "from TensorRT's published TF converter list, not measured (no TensorRT is reachable here)"},
  };
  return kTargets;
}

const Target& find_target(const std::string& name) {
  std::string known;
  for (const auto& t : all_targets()) {
    if (t.name == name) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  throw Error(ExitCode::kUsage, "--target: unknown target '" + name + "' (known: " + known + ")");
}

std::vector<Rejection> check_target(const tf::GraphDef& graph, const Target& target) {
  std::vector<Rejection> out;
  graph::GraphView view(graph);
  const auto* accepted = accepted_ops(target.name);
  auto training = graph::find_training_ops(view);
  std::map<std::string, std::string> training_category;
  for (const auto& [category, names] : training)
    for (const auto& n : names)
      if (category != "training_flags") training_category[n] = category;
  if (target.name == "opencv" && !opencv_has_layers(view)) {
    // Measured: OpenCV's forward() fails on a net without layers ("!empty()").
    for (int i = 0; i < view.size(); ++i)
      if (view.consumers(i).empty())
        out.push_back({view.node(i).name(), view.node(i).op(), "nothing for OpenCV to compute: the outputs are constants or inputs", "none needed: the values are known"});
    return out;
  }
  for (int i = 0; i < view.size(); ++i) {
    const auto& node = view.node(i);
    const std::string& op = node.op();
    Rejection r{node.name(), op, "", fix_for(op)};
    if (auto it = training_category.find(node.name()); it != training_category.end()) {
      r.why = "training-only (" + it->second + ")";
      if (r.fix.empty()) r.fix = "strip_training_ops, or freeze with the right --outputs";
    } else if (target.name == "opencv" && in_opencv_prelu(view, i)) {
      // fused by OpenCV's importer
    } else if (accepted && !accepted->count(op)) {
      r.why = "op " + op + " is not supported by " + target.name;
    } else if (!accepted && !graph::OpRegistry::global().find(op)) {
      r.why = "op " + op + " is not a known TensorFlow op";
    } else if (target.name == "opencv" && is_commutative_with_weights(op) && node.input_size() >= 2 && constant_first(view, node)) {
      // OpenCV reads weights from the second operand: Mul(Const, x) fails to load.
      r.why = "constant operand first (OpenCV looks for weights second)";
      r.fix = "canonicalize_operands";
    } else if (target.name == "opencv") {
      auto rejected = opencv_rejects(view, i);
      r.why = rejected.why;
      if (!rejected.fix.empty()) r.fix = rejected.fix;
    }
    if (!r.why.empty()) {
      if (r.fix.empty()) r.fix = "no pass removes it: the target cannot run this op";
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace tffreeze::targets
