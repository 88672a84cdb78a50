// TensorRT's ONNX parser (onnx-tensorrt), for TensorRT 8.6 and 10 both: the operator table of
// docs/operators.md (release/8.6-GA and 10.x) with its per-op types and restrictions, and what
// its parser source does with INT64 weights. No TensorRT is reachable here: nothing below is
// measured, every rule cites the table.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <map>
#include <set>
#include <sstream>

#include "targets/onnx_rules.h"

namespace tffreeze::targets {
namespace {

struct TrtOp {
  const char* op;
  // The table's "Supported Types" per version: "" the op is not in that version's table, "-" the
  // table says N (unsupported).
  const char* types86;
  const char* types10;
};

// docs/operators.md of onnx/onnx-tensorrt at release/8.6-GA and 10.1-GA (10.0 differs only in
// TopK's restriction and a few notes); ConstantOfShape's "INF64" there read as INT64.
constexpr TrtOp kTable[] = {
    {"Abs", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Acos", "FP32 FP16", "FP32 FP16 BF16"},
    {"Acosh", "FP32 FP16", "FP32 FP16 BF16"},
    {"Add", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"AffineGrid", "", "-"},
    {"And", "BOOL", "BOOL"},
    {"ArgMax", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"ArgMin", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Asin", "FP32 FP16", "FP32 FP16 BF16"},
    {"Asinh", "FP32 FP16", "FP32 FP16 BF16"},
    {"Atan", "FP32 FP16", "FP32 FP16 BF16"},
    {"Atanh", "FP32 FP16", "FP32 FP16 BF16"},
    {"AveragePool", "FP32 FP16 INT8 INT32", "FP32 FP16 BF16"},
    {"BatchNormalization", "FP32 FP16", "FP32 FP16 BF16"},
    {"Bernoulli", "-", "-"},
    {"BitShift", "-", "-"},
    {"BitwiseAnd", "", "-"},
    {"BitwiseNot", "", "-"},
    {"BitwiseOr", "", "-"},
    {"BitwiseXor", "", "-"},
    {"BlackmanWindow", "-", "-"},
    {"Cast", "FP32 FP16 INT32 INT8 UINT8 BOOL", "FP32 FP16 BF16 INT32 INT64 UINT8 BOOL"},
    {"CastLike", "", "FP32 FP16 BF16 INT32 INT64 UINT8 BOOL"},
    {"Ceil", "FP32 FP16", "FP32 FP16 BF16"},
    {"Celu", "FP32 FP16", "FP32 FP16 BF16"},
    {"CenterCropPad", "", "-"},
    {"Clip", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Col2Im", "", "-"},
    {"Compress", "-", "-"},
    {"Concat", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"ConcatFromSequence", "-", "-"},
    {"Constant", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"ConstantOfShape", "FP32", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Conv", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"ConvInteger", "-", "-"},
    {"ConvTranspose", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Cos", "FP32 FP16", "FP32 FP16 BF16"},
    {"Cosh", "FP32 FP16", "FP32 FP16 BF16"},
    {"CumSum", "FP32 FP16", "FP32 FP16 BF16"},
    {"DeformConv", "", "FP32 FP16"},
    {"DepthToSpace", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"DequantizeLinear", "INT8", "INT8 FP8 INT4"},
    {"Det", "-", "-"},
    {"DFT", "-", "-"},
    {"Div", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Dropout", "FP32 FP16", "FP32 FP16 BF16"},
    {"DynamicQuantizeLinear", "-", "-"},
    {"Einsum", "FP32 FP16", "FP32 FP16 BF16"},
    {"Elu", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Equal", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Erf", "FP32 FP16", "FP32 FP16 BF16"},
    {"Exp", "FP32 FP16", "FP32 FP16 BF16"},
    {"Expand", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"EyeLike", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Flatten", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Floor", "FP32 FP16", "FP32 FP16 BF16"},
    {"Gather", "FP32 FP16 INT8 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"GatherElements", "FP32 FP16 INT8 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"GatherND", "FP32 FP16 INT8 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Gelu", "", "FP32 FP16 BF16 INT8 INT32 INT64"},
    {"Gemm", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"GlobalAveragePool", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"GlobalLpPool", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"GlobalMaxPool", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Greater", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"GreaterOrEqual", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"GridSample", "FP32 FP16", "FP32 FP16"},
    {"GroupNormalization", "FP32 FP16", "FP32 FP16 BF16"},
    {"GRU", "FP32 FP16", "FP32 FP16 BF16"},
    {"HammingWindow", "-", "-"},
    {"HannWindow", "-", "-"},
    {"Hardmax", "-", "FP32 FP16 BF16"},
    {"HardSigmoid", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"HardSwish", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Identity", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"If", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"ImageDecoder", "", "-"},
    {"ImageScaler", "FP32 FP16", "FP32 FP16 BF16"},
    {"InstanceNormalization", "FP32 FP16", "FP32 FP16 BF16"},
    {"IsInf", "FP32 FP16", "FP32 FP16 BF16"},
    {"IsNaN", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"LayerNormalization", "FP32 FP16", "FP32 FP16 BF16"},
    {"LeakyRelu", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Less", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"LessOrEqual", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Log", "FP32 FP16", "FP32 FP16 BF16"},
    {"LogSoftmax", "FP32 FP16", "FP32 FP16 BF16"},
    {"Loop", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"LpNormalization", "FP32 FP16", "FP32 FP16 BF16"},
    {"LpPool", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"LRN", "FP32 FP16", "FP32 FP16 BF16"},
    {"LSTM", "FP32 FP16", "FP32 FP16 BF16"},
    {"MatMul", "FP32 FP16", "FP32 FP16 BF16"},
    {"MatMulInteger", "-", "-"},
    {"Max", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"MaxPool", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"MaxRoiPool", "-", "-"},
    {"MaxUnpool", "-", "-"},
    {"Mean", "FP32 FP16 INT32", "FP32 FP16 BF16 FP8 INT32 INT64"},
    {"MeanVarianceNormalization", "FP32 FP16", "FP32 FP16 BF16"},
    {"MelWeightMatrix", "-", "-"},
    {"Min", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Mish", "", "FP32 FP16"},
    {"Mod", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Mul", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Multinomial", "-", "-"},
    {"Neg", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"NegativeLogLikelihoodLoss", "-", "-"},
    {"NonMaxSuppression", "FP32 FP16", "FP32 FP16"},
    {"NonZero", "FP32 FP16", "FP32 FP16"},
    {"Not", "BOOL", "BOOL"},
    {"OneHot", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Optional", "-", "-"},
    {"OptionalGetElement", "-", "-"},
    {"OptionalHasElement", "-", "-"},
    {"Or", "BOOL", "BOOL"},
    {"Pad", "FP32 FP16 INT8 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"ParametricSoftplus", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Pow", "FP32 FP16", "FP32 FP16 BF16"},
    {"PRelu", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"QLinearConv", "-", "-"},
    {"QLinearMatMul", "-", "-"},
    {"QuantizeLinear", "FP32 FP16", "FP32 FP16 BF16"},
    {"RandomNormal", "FP32 FP16", "FP32 FP16 BF16"},
    {"RandomNormalLike", "FP32 FP16", "FP32 FP16 BF16"},
    {"RandomUniform", "FP32 FP16", "FP32 FP16 BF16"},
    {"RandomUniformLike", "FP32 FP16", "FP32 FP16 BF16"},
    {"Range", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Reciprocal", "FP32 FP16", "FP32 FP16 BF16"},
    {"ReduceL1", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceL2", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceLogSum", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceLogSumExp", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceMax", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceMean", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceMin", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceProd", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceSum", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"ReduceSumSquare", "FP32 FP16", "FP32 FP16 BF16 INT32 INT64"},
    {"RegexFullMatch", "", "-"},
    {"Relu", "FP32 FP16 INT8", "FP32 FP16 BF16 INT32 INT64"},
    {"Reshape", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Resize", "FP32 FP16", "FP32 FP16 BF16"},
    {"ReverseSequence", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"RNN", "FP32 FP16", "FP32 FP16 BF16"},
    {"RoiAlign", "FP32 FP16", "FP32 FP16"},
    {"Round", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"ScaledTanh", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Scan", "FP32 FP16", "FP32 FP16 BF16"},
    {"Scatter", "FP32 FP16 INT8 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"ScatterElements", "FP32 FP16 INT8 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"ScatterND", "FP32 FP16 INT8 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Selu", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"SequenceAt", "-", "-"},
    {"SequenceConstruct", "-", "-"},
    {"SequenceEmpty", "-", "-"},
    {"SequenceErase", "-", "-"},
    {"SequenceInsert", "-", "-"},
    {"SequenceLength", "-", "-"},
    {"SequenceMap", "-", "-"},
    {"Shape", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Shrink", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Sigmoid", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Sign", "FP32 FP16 INT8 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Sin", "FP32 FP16", "FP32 FP16 BF16"},
    {"Sinh", "FP32 FP16", "FP32 FP16 BF16"},
    {"Size", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Slice", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Softmax", "FP32 FP16", "FP32 FP16 BF16"},
    {"SoftmaxCrossEntropyLoss", "-", "-"},
    {"Softplus", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Softsign", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"SpaceToDepth", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Split", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"SplitToSequence", "-", "-"},
    {"Sqrt", "FP32 FP16", "FP32 FP16 BF16"},
    {"Squeeze", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"STFT", "-", "-"},
    {"StringConcat", "", "-"},
    {"StringNormalizer", "-", "-"},
    {"StringSplit", "", "-"},
    {"Sub", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Sum", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Tan", "FP32 FP16", "FP32 FP16 BF16"},
    {"Tanh", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"TfIdfVectorizer", "-", "-"},
    {"ThresholdedRelu", "FP32 FP16 INT8", "FP32 FP16 BF16"},
    {"Tile", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"TopK", "FP32 FP16 INT32", "FP32 FP16 BF16 INT32 INT64"},
    {"Transpose", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Trilu", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Unique", "-", "-"},
    {"Unsqueeze", "FP32 FP16 INT32 INT8 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Upsample", "FP32 FP16", "FP32 FP16 BF16"},
    {"Where", "FP32 FP16 INT32 BOOL", "FP32 FP16 BF16 INT32 INT64 BOOL"},
    {"Xor", "BOOL", "BOOL"},
};

const TrtOp* find_op(const std::string& op) {
  for (const auto& t : kTable)
    if (op == t.op) return &t;
  return nullptr;
}

bool listed(const char* types, const std::string& type) {
  std::istringstream in(types);
  for (std::string t; in >> t;)
    if (t == type) return true;
  return false;
}

// The table's spelling of an ONNX element type.
std::string table_type(int elem_type) {
  switch (elem_type) {
    case onnx::TensorProto::FLOAT: return "FP32";
    case onnx::TensorProto::FLOAT16: return "FP16";
    case onnx::TensorProto::BFLOAT16: return "BF16";
    default: return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(elem_type));
  }
}

// TensorRT 8.6 has no INT64: its parser reads INT64 tensors as INT32 (convertDtype), so an op
// listed with INT32 there takes INT64 too.
bool type_accepted(const TrtOp& t, int elem_type) {
  const std::string type = table_type(elem_type);
  const bool in86 = listed(t.types86, type) || (type == "INT64" && listed(t.types86, "INT32"));
  return in86 && listed(t.types10, type);
}

std::string op_rule(const std::string& op) {
  const TrtOp* t = find_op(op);
  if (!t) return "op " + op + " is not in onnx-tensorrt's operator table";
  if (std::string(t->types86) == "-" && std::string(t->types10) == "-") return "op " + op + " is unsupported (N in onnx-tensorrt's operator table)";
  if (std::string(t->types86) == "-" || std::string(t->types86).empty()) return "op " + op + " needs TensorRT 10 (TensorRT 8.6's table: not supported)";
  if (std::string(t->types10) == "-" || std::string(t->types10).empty()) return "op " + op + " is not supported by TensorRT 10 (its table)";
  return "";
}

// The tensor whose type the table's "Supported Types" column constrains.
std::string typed_value(const onnx::NodeProto& node) {
  if (node.op_type() == "Where") return onnx_input(node, 1);
  if (node.op_type() == "ConstantOfShape" || node.op_type() == "Constant" || node.op_type() == "If" || node.op_type() == "Loop" ||
      node.op_type() == "Scan" || node.op_type().rfind("Random", 0) == 0)
    return node.output_size() > 0 ? node.output(0) : "";
  return onnx_input(node, 0);
}

std::string type_rule(const OnnxView& view, const onnx::NodeProto& node, const TrtOp& t) {
  if (node.op_type() == "If" || node.op_type() == "Loop" || node.op_type() == "Scan") return "";
  const int type = view.elem_type(typed_value(node));
  if (type != 0 && !type_accepted(t, type))
    return node.op_type() + " on " + table_type(type) + " (the table's types: 8.6 " + t.types86 + "; 10 " + t.types10 + ")";
  if (node.op_type() == "Cast" || node.op_type() == "CastLike") {
    const int to = node.op_type() == "Cast" ? static_cast<int>(onnx_attr_int(node, "to", 0)) : view.elem_type(onnx_input(node, 1));
    if (to != 0 && !type_accepted(t, to)) return "Cast to " + table_type(to) + " (the table's types: 8.6 " + t.types86 + "; 10 " + t.types10 + ")";
  }
  return "";
}

bool is_reduce(const std::string& op) { return op.rfind("Reduce", 0) == 0; }

// "`axes` must be an initializer" (Slice, Squeeze, Pad, Reduce*), "a constant tensor" (Unsqueeze),
// CumSum's `axis`, OneHot's `depth`: where such an input is given, it must be a constant.
std::string constant_input_rule(const OnnxView& view, const onnx::NodeProto& node) {
  static const std::map<std::string, std::pair<int, const char*>> kInputs = {
      {"Slice", {3, "axes"}}, {"Squeeze", {1, "axes"}}, {"Unsqueeze", {1, "axes"}}, {"Pad", {3, "axes"}},
      {"CumSum", {1, "axis"}}, {"OneHot", {1, "depth"}}};
  auto it = kInputs.find(node.op_type());
  std::pair<int, const char*> slot = it != kInputs.end() ? it->second : std::pair<int, const char*>{1, "axes"};
  if (it == kInputs.end() && !is_reduce(node.op_type())) return "";
  const std::string in = onnx_input(node, slot.first);
  if (in.empty() || view.constant(in)) return "";
  return node.op_type() + "'s `" + slot.second + "` must be an initializer (it is computed)";
}

std::string topk_rule(const OnnxView& view, const onnx::NodeProto& node) {
  if (onnx_attr_int(node, "sorted", 1) != 1) return "TopK's `sorted` must be 1";
  if (view.opset() < 10) return "";
  auto k = view.ints(onnx_input(node, 1));
  if (!k || k->size() != 1) return "TopK's K must be a constant (the table: K must be less than 3840; a computed K cannot be shown to be)";
  if ((*k)[0] >= 3840) return "TopK's K is " + std::to_string((*k)[0]) + "; it must be less than 3840";
  return "";
}

std::string resize_rule(const OnnxView& view, const onnx::NodeProto& node) {
  static const std::set<std::string> kCoord = {"half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners"};
  static const std::set<std::string> kNearest = {"floor", "ceil", "round_prefer_floor", "round_prefer_ceil"};
  const std::string mode = onnx_attr_string(node, "mode", "nearest");
  const std::string coord = onnx_attr_string(node, "coordinate_transformation_mode", "half_pixel");
  if (mode != "nearest" && mode != "linear") return "Resize mode " + mode + " (supported: nearest, linear)";
  if (!kCoord.count(coord)) return "Resize coordinate_transformation_mode " + coord;
  if (mode == "nearest" && !kNearest.count(onnx_attr_string(node, "nearest_mode", "round_prefer_floor")))
    return "Resize nearest_mode " + onnx_attr_string(node, "nearest_mode", "");
  if (onnx_attr_string(node, "keep_aspect_ratio_policy", "stretch") != "stretch") return "Resize keep_aspect_ratio_policy other than stretch";
  if (onnx_attr_int(node, "antialias", 0) != 0) return "Resize with antialias";
  const std::string scales = onnx_input(node, 2);
  auto axes = onnx_attr_ints(node, "axes");
  if (!scales.empty() && !view.constant(scales) && axes) {
    for (std::size_t i = 0; i < axes->size(); ++i)
      if ((*axes)[i] != static_cast<std::int64_t>(i)) return "Resize with computed `scales` and `axes` other than 0..rank-1";
  }
  return "";
}

std::string pool_rule(const OnnxView& view, const onnx::NodeProto& node) {
  auto kernel = onnx_attr_ints(node, "kernel_shape");
  if (kernel && kernel->size() != 2 && kernel->size() != 3) return node.op_type() + " over " + std::to_string(kernel->size()) + "-D (2D or 3D pooling only)";
  auto dilations = onnx_attr_ints(node, "dilations");
  if (dilations && std::any_of(dilations->begin(), dilations->end(), [](std::int64_t d) { return d != 1; }))
    return node.op_type() + " with dilations (must be empty or all ones)";
  if (node.op_type() == "MaxPool" && node.output_size() > 1 && !node.output(1).empty() && view.readers(node.output(1)) > 0)
    return "MaxPool's `Indices` output is unsupported";
  return "";
}

std::string zero_point_rule(const OnnxView& view, const onnx::NodeProto& node) {
  const std::string zp = onnx_input(node, 2);
  if (zp.empty()) return "";
  auto v = view.floats(zp);
  if (v && std::all_of(v->begin(), v->end(), [](double x) { return x == 0; })) return "";
  return node.op_type() + "'s zero point must be a constant 0";
}

std::string recurrent_rule(const onnx::NodeProto& node) {
  if (node.op_type() == "LSTM" && (onnx_attr_int(node, "input_forget", 0) != 0 || onnx_attr_int(node, "layout", 0) != 0))
    return "LSTM's `input_forget` and `layout` must be 0";
  if (onnx_attr_string(node, "direction", "forward") != "bidirectional") return "";
  for (const auto& a : node.attribute()) {
    if (a.name() != "activations" || a.strings_size() % 2 != 0) continue;
    const int half = a.strings_size() / 2;
    for (int i = 0; i < half; ++i)
      if (a.strings(i) != a.strings(half + i)) return "bidirectional " + node.op_type() + " with different activations per direction";
  }
  return "";
}

// Per-op restrictions of the table's last column that a file shows.
std::string restriction_rule(const OnnxView& view, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (auto r = constant_input_rule(view, node); !r.empty()) return r;
  if (op == "TopK") return topk_rule(view, node);
  if (op == "Resize") return resize_rule(view, node);
  if (op == "MaxPool" || op == "AveragePool" || op == "LpPool") return pool_rule(view, node);
  if (op == "DequantizeLinear" || op == "QuantizeLinear") return zero_point_rule(view, node);
  if (op == "LSTM" || op == "GRU" || op == "RNN") return recurrent_rule(node);
  if (op == "ScatterND" && onnx_attr_string(node, "reduction", "none") != "none") return "ScatterND's `reduction` is not supported";
  if (op == "Constant" && (onnx_has_attr(node, "sparse_value") || onnx_has_attr(node, "value_string") || onnx_has_attr(node, "value_strings")))
    return "Constant with sparse_value, value_string or value_strings";
  if (op == "LayerNormalization" && node.output_size() > 1 && std::any_of(node.output().begin() + 1, node.output().end(), [&](const std::string& o) {
        return !o.empty() && view.readers(o) > 0;
      }))
    return "LayerNormalization: only the first output `Y` is supported";
  if (op == "GridSample") {
    auto s = view.shape(onnx_input(node, 0));
    if (s && s->size() != 4) return "GridSample of a " + std::to_string(s->size()) + "-D input (4-D only)";
  }
  if (op == "Dropout" && !onnx_input(node, 2).empty()) {
    auto t = view.floats(onnx_input(node, 2));
    if (!t || std::any_of(t->begin(), t->end(), [](double x) { return x != 0; })) return "Dropout's `training_mode` must be an initializer that is false";
  }
  if (op == "Einsum" && onnx_attr_string(node, "equation", "").find("...") != std::string::npos)
    return "Einsum with an ellipsis (TensorRT 8.6)";
  return "";
}

}  // namespace

std::string tensorrt_onnx_rejects(const OnnxView& view, const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") return "op " + node.op_type() + " of domain " + node.domain() + " (needs a TensorRT plugin)";
  if (auto r = op_rule(node.op_type()); !r.empty()) return r;
  if (auto r = type_rule(view, node, *find_op(node.op_type())); !r.empty()) return r;
  return restriction_rule(view, node);
}

bool tensorrt_clamps_harmlessly(const onnx::NodeProto& node, int slot) {
  // ONNX clamps Slice's starts and ends to the dimension: INT32_MAX means what INT64_MAX does.
  return node.op_type() == "Slice" && (slot == 1 || slot == 2);
}

std::vector<OnnxRejection> tensorrt_onnx_model_rules(const OnnxView& view) {
  std::vector<OnnxRejection> out;
  const int opset = view.opset();
  if (opset < 9 || opset > 20) out.push_back({"(model)", "", "opset " + std::to_string(opset) + " (TensorRT's parser reads opsets 9 to 20)"});
  // TensorRT 8.6 reads INT64 weights as INT32, clamping what does not fit (convertINT64): only
  // where the clamp keeps the meaning is that acceptable.
  for (const auto& node : view.graph().node()) {
    for (int k = 0; k < node.input_size(); ++k) {
      const auto* t = view.constant(node.input(k));
      if (!t || t->data_type() != onnx::TensorProto::INT64 || tensorrt_clamps_harmlessly(node, k)) continue;
      auto v = view.ints(node.input(k));
      if (v && std::any_of(v->begin(), v->end(), [](std::int64_t x) { return x > INT32_MAX || x < INT32_MIN; }))
        out.push_back({onnx_node_name(node), node.op_type(), "INT64 constant '" + node.input(k) + "' has values beyond INT32, which TensorRT 8.6 clamps"});
    }
  }
  static const std::set<int> kTypes = {onnx::TensorProto::FLOAT, onnx::TensorProto::FLOAT16, onnx::TensorProto::DOUBLE, onnx::TensorProto::INT8,
                                       onnx::TensorProto::UINT8, onnx::TensorProto::INT32, onnx::TensorProto::INT64, onnx::TensorProto::BOOL};
  for (const auto* list : {&view.graph().input(), &view.graph().output()})
    for (const auto& v : *list) {
      const int type = view.elem_type(v.name());
      if (type != 0 && !kTypes.count(type)) out.push_back({v.name(), "", "a graph input or output of type " + table_type(type) + " (TensorRT 8.6's parser has no such type)"});
    }
  return out;
}

}  // namespace tffreeze::targets
