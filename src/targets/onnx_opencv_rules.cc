// What OpenCV DNN 4.6's ONNX importer (Debian's libopencv-dnn, cv2.dnn.readNetFromONNX) loads and
// computes correctly, measured here op by op and operand form by tools/measure_opencv_onnx.py
// (each model run in OpenCV and in onnxruntime, within 1e-4). A form the script did not measure
// is rejected as such: the verdict only accepts what was seen to work. The measured failure is
// quoted where it explains the rule ("Can't create layer", "kernel_size not specified", ...).
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <map>
#include <set>

#include "targets/onnx_rules.h"

namespace tffreeze::targets {
namespace {

// Ops whose every measured form ran to onnxruntime's numbers, with no operand rules of their own.
const std::set<std::string>& plain_ops() {
  static const std::set<std::string> kOps = {
      "Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Neg", "Floor", "Ceil", "Round", "Erf", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
      "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Reciprocal", "Softplus", "Softsign", "Sign", "Elu", "Selu", "HardSigmoid",
      "HardSwish", "Identity", "Celu", "ThresholdedRelu", "Shrink", "Log", "Sqrt", "LeakyRelu", "MaxPool", "GlobalAveragePool",
      "GlobalMaxPool", "BatchNormalization", "LRN", "Flatten", "Transpose", "Softmax", "LogSoftmax", "DepthToSpace",
      "SpaceToDepth", "ArgMax", "ArgMin", "Dropout", "Unsqueeze", "Expand", "ConstantOfShape", "CumSum", "Constant"};
  return kOps;
}

// Measured: OpenCV has no layer for these ("Can't create layer ... of type X") or cannot parse
// their standard form.
const std::map<std::string, std::string>& missing_ops() {
  static const std::map<std::string, std::string> kOps = {
      {"Mean", "no layer"}, {"Mod", "no layer"}, {"Where", "no layer"}, {"GreaterOrEqual", "no layer"}, {"LessOrEqual", "no layer"},
      {"And", "no layer"}, {"Or", "no layer"}, {"Xor", "no layer"}, {"Not", "no layer"}, {"LpNormalization", "no layer"},
      {"Einsum", "no layer"}, {"Tile", "no layer"}, {"GatherElements", "no layer"}, {"GatherND", "no layer"}, {"Hardmax", "no layer"},
      {"TopK", "no layer"}, {"Range", "no layer"}, {"NonZero", "no layer"}, {"OneHot", "no layer"},
      {"Mish", "not at opset 17 (an opset 18 op)"}};
  return kOps;
}

std::string measured_fails(const std::string& what) { return "measured: OpenCV 4.6 " + what; }
std::string unmeasured(const std::string& form) { return form + ": a form not measured against OpenCV (tools/measure_opencv_onnx.py)"; }

bool is_const(const OnnxView& view, const std::string& v) { return !v.empty() && view.constant(v) != nullptr; }

int rank_of(const OnnxView& view, const std::string& v) {
  auto s = view.shape(v);
  return s ? static_cast<int>(s->size()) : -1;
}

std::int64_t numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// How a constant operand broadcasts against a computed one of rank `rank` (shapes as measured).
std::string const_form(const std::vector<std::int64_t>& c, const std::vector<std::int64_t>& x) {
  if (numel(c) == 1) return "scalar";
  if (c == x) return "same shape";
  const int rank = static_cast<int>(x.size());
  if (rank == 4 && ((c.size() == 4 && c[0] == 1 && c[2] == 1 && c[3] == 1) || (c.size() == 3 && c[1] == 1 && c[2] == 1)))
    return "per-channel";
  if (c.size() == 1 && rank >= 1 && c[0] == x.back()) return rank == 2 ? "2-D last axis" : "last axis";
  if (rank == 2 && c.size() == 2 && c[0] == 1 && c[1] == x[1]) return "2-D row";
  return "other";
}

// Add/Sub/Mul/Div/Max/Min/Pow/Sum/Equal/Greater/Less: which operand forms ran correctly.
std::string binary_rule(const OnnxView& view, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  int constants = 0, first_const = -1;
  for (int k = 0; k < node.input_size(); ++k)
    if (is_const(view, node.input(k))) constants++, first_const = first_const < 0 ? k : first_const;
  if (constants == 0) {
    if (op == "Pow") return measured_fails("takes only a constant scalar exponent (\"Unsupported Pow op with variable power\")");
    return "";
  }
  if (op == "Max" || op == "Min") return measured_fails("fails on a constant operand of " + op + " (\"inputs.size() >= 2\")");
  if (node.input_size() != 2) return unmeasured(op + " of more than two operands with a constant");
  const std::string c = node.input(first_const), x = node.input(1 - first_const);
  auto cs = view.shape(c), xs = view.shape(x);
  if (!cs || !xs) return unmeasured(op + " with a constant operand of unknown broadcast");
  const std::string form = const_form(*cs, *xs);
  if (op == "Pow") return first_const == 1 && form == "scalar" ? "" : measured_fails("takes only a constant scalar exponent");
  if (first_const == 0 && op == "Div" && form != "scalar") return measured_fails("computes other numbers for a constant dividend");
  if (first_const == 0 && form != "scalar" && form != "per-channel") return unmeasured(op + " with a constant first operand (" + form + ")");
  const bool additive = op == "Add" || op == "Sub" || op == "Sum";
  if (form == "2-D row" && additive) return measured_fails("fails on a [1,N] constant added to a 2-D tensor");
  if (form == "last axis" && !additive) return measured_fails("fails on a constant along the last axis of a 4-D tensor (" + op + ")");
  if (op == "Equal" || op == "Greater" || op == "Less") return form == "scalar" ? "" : unmeasured(op + " with a constant " + form + " operand");
  if (form == "other") return unmeasured(op + " with a constant of shape broadcast other than scalar, same shape, per-channel, last axis");
  return "";
}

std::string conv_rule(const OnnxView& view, const onnx::NodeProto& node) {
  if (!onnx_has_attr(node, "kernel_shape")) {
    return measured_fails("needs the kernel_shape attribute of " + node.op_type() + " (\"kernel_size not specified\")");
  }
  if (node.op_type() == "ConvTranspose" && onnx_has_attr(node, "output_shape"))
    return measured_fails("gives another shape for ConvTranspose with output_shape (it ignores the attribute)");
  const int rank = rank_of(view, onnx_input(node, 0));
  if (rank == 3) return measured_fails("fails on a 1-D convolution (a 3-D input)");
  if (rank != 4 && rank != 5) return unmeasured(node.op_type() + " of an input of unknown rank");
  return "";
}

std::string pool_rule(const onnx::NodeProto& node) {
  if (node.op_type() == "AveragePool" && onnx_attr_int(node, "count_include_pad", 0) != 0) {
    auto pads = onnx_attr_ints(node, "pads");
    if (onnx_attr_string(node, "auto_pad", "NOTSET") != "NOTSET" || (pads && std::any_of(pads->begin(), pads->end(), [](std::int64_t p) { return p != 0; })))
      return measured_fails("computes other numbers for AveragePool with count_include_pad=1 and padding");
  }
  return "";
}

std::string matmul_rule(const OnnxView& view, const onnx::NodeProto& node) {
  const std::string a = onnx_input(node, 0), b = onnx_input(node, 1);
  if (is_const(view, a)) return measured_fails("fails on MatMul with a constant first operand");
  const int rank = rank_of(view, a);
  if (is_const(view, b)) {
    if (rank == 3) return measured_fails("fails on a 3-D MatMul with constant weights (\"normalize_axis\")");
    return rank == 2 || rank == 4 ? "" : unmeasured("MatMul of rank " + std::to_string(rank));
  }
  return rank == 2 ? "" : unmeasured("MatMul of two computed tensors of rank " + std::to_string(rank));
}

std::string gemm_rule(const onnx::NodeProto& node) {
  if (onnx_attr_int(node, "transB", 0) != 1) return measured_fails("fails on Gemm without transB=1 (\"FullyConnected\" bias assertion)");
  if (onnx_attr_int(node, "transA", 0) != 0 || onnx_attr_float(node, "alpha", 1) != 1 || onnx_attr_float(node, "beta", 1) != 1)
    return unmeasured("Gemm with transA, alpha or beta");
  return "";
}

// OpenCV 4.6 reads reduction axes from the attribute only: the axes input (ReduceSum from opset
// 13, the others from 18) fails to load or is ignored (everything is reduced).
std::string reduce_rule(const OnnxView& view, const onnx::NodeProto& node) {
  if (node.input_size() > 1 && !node.input(1).empty())
    return measured_fails(node.op_type() == "ReduceSum" ? "fails on ReduceSum's axes input (opset 13 and later)" : "ignores the axes input (opset 18 and later) and reduces every axis");
  auto axes = onnx_attr_ints(node, "axes");
  if (!axes) return measured_fails("gives another shape when no axes are given (a [1,1] for a scalar)");
  const int rank = rank_of(view, onnx_input(node, 0));
  if (onnx_attr_int(node, "keepdims", 1) == 0 && rank >= 0 && rank - static_cast<int>(axes->size()) < 2)
    return measured_fails("gives another shape when keepdims=0 leaves fewer than 2 axes");
  if (rank != 4) return unmeasured(node.op_type() + " of a " + std::to_string(rank) + "-D input");
  return "";
}

// Resize: constant sizes or scales, and the coordinate modes measured to agree with onnxruntime.
std::string resize_rule(const OnnxView& view, const onnx::NodeProto& node) {
  const std::string scales = onnx_input(node, 2), sizes = onnx_input(node, 3);
  if (!is_const(view, sizes) && !is_const(view, scales)) return measured_fails("fails on Resize with computed sizes");
  const std::string mode = onnx_attr_string(node, "mode", "nearest");
  const std::string coord = onnx_attr_string(node, "coordinate_transformation_mode", "half_pixel");
  if (mode == "linear") {
    static const std::set<std::string> kLinear = {"asymmetric", "align_corners", "half_pixel", "pytorch_half_pixel"};
    return kLinear.count(coord) ? "" : unmeasured("linear Resize with " + coord);
  }
  if (mode != "nearest") return measured_fails("fails on Resize mode " + mode);
  const std::string nearest = onnx_attr_string(node, "nearest_mode", "round_prefer_floor");
  if (coord == "tf_half_pixel_for_nn") return measured_fails("rejects tf_half_pixel_for_nn (\"interp_mode != tf_half_pixel_for_nn\")");
  if ((coord == "asymmetric" && nearest == "floor") || (coord == "align_corners" && nearest == "round_prefer_ceil")) return "";
  if (coord == "half_pixel" || coord == "asymmetric") return measured_fails("computes other numbers for nearest " + coord + " with " + nearest + " (some sizes)");
  return unmeasured("nearest Resize with " + coord + " and " + nearest);
}

std::string shape_op_rule(const OnnxView& view, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op == "Squeeze" && view.opset() >= 13) return measured_fails("fails on Squeeze from opset 13 (\"node_proto.input_size() == 1\")");
  if (op == "Squeeze" && !onnx_has_attr(node, "axes")) return measured_fails("fails on Squeeze without axes");
  if (op == "Reshape" && !is_const(view, onnx_input(node, 1))) return measured_fails("fails on a computed Reshape shape");
  if (op == "Expand" && !is_const(view, onnx_input(node, 1))) return unmeasured("Expand to a computed shape");
  if (op == "Split" && ((node.input_size() > 1 && !node.input(1).empty()) || onnx_has_attr(node, "split")))
    return measured_fails("fails or computes other numbers for Split with sizes (only equal parts work)");
  if (op == "Slice") {
    for (int k = 1; k < node.input_size(); ++k)
      if (!node.input(k).empty() && !is_const(view, node.input(k))) return unmeasured("Slice with computed starts, ends, axes or steps");
    auto steps = view.ints(onnx_input(node, 4));
    if (steps && std::any_of(steps->begin(), steps->end(), [](std::int64_t s) { return s < 1; })) return measured_fails("fails on Slice steps below 1");
  }
  if (op == "Pad" && (!is_const(view, onnx_input(node, 1)) || !onnx_input(node, 3).empty())) return unmeasured("Pad with computed pads or axes");
  if (op == "Gather") {
    auto idx = view.ints(onnx_input(node, 1));
    if (!idx) return unmeasured("Gather of computed indices");
    if (idx->size() != 1) return measured_fails("gathers a single index only (\"indexMat.total() == 1\")");
  }
  if (op == "Concat") {
    for (const auto& in : node.input())
      if (is_const(view, in)) return measured_fails("computes other numbers for a Concat with a constant input");
  }
  return "";
}

std::string misc_rule(const OnnxView& view, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op == "Clip" && node.input_size() > 1) return measured_fails("fails on Clip with min/max inputs (opset 11 and later: \"node_proto.input_size() == 1\")");
  if (op == "Cast" && onnx_attr_int(node, "to", 0) != onnx::TensorProto::FLOAT) return measured_fails("computes in float: a Cast to another type changes the numbers");
  if (op == "InstanceNormalization" && !onnx_has_attr(node, "epsilon")) return measured_fails("fails on InstanceNormalization without epsilon (\"Required argument epsilon\")");
  if (op == "PRelu" && !is_const(view, onnx_input(node, 1))) return unmeasured("PRelu with a computed slope");
  if ((op == "ConstantOfShape" || op == "CumSum") && !is_const(view, onnx_input(node, 1 - (op == "ConstantOfShape")))) return unmeasured(op + " with a computed operand");
  return "";
}

std::string dispatch(const OnnxView& view, const onnx::NodeProto& node) {
  static const std::set<std::string> kBinary = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Sum", "Equal", "Greater", "Less"};
  static const std::set<std::string> kShape = {"Squeeze", "Reshape", "Expand", "Split", "Slice", "Pad", "Gather", "Concat"};
  const std::string& op = node.op_type();
  if (kBinary.count(op)) return binary_rule(view, node);
  if (op == "Conv" || op == "ConvTranspose") return conv_rule(view, node);
  if (op == "AveragePool") return pool_rule(node);
  if (op == "MatMul") return matmul_rule(view, node);
  if (op == "Gemm") return gemm_rule(node);
  if (op.rfind("Reduce", 0) == 0 && op != "ReduceLogSum") return reduce_rule(view, node);
  if (op == "Resize") return resize_rule(view, node);
  if (kShape.count(op)) return shape_op_rule(view, node);
  if (op == "Clip" || op == "Cast" || op == "InstanceNormalization" || op == "PRelu") return misc_rule(view, node);
  if (plain_ops().count(op)) return misc_rule(view, node);
  return unmeasured("op " + op);
}

// OpenCV computes in float32: inputs of other types, and BOOL weights (measured: "Unsupported
// data type: BOOL"), do not load.
bool measured_type(int type) { return type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::INT64; }

}  // namespace

std::string opencv_onnx_rejects(const OnnxView& view, const onnx::NodeProto& node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx") return "op " + node.op_type() + " of domain " + node.domain();
  if (auto it = missing_ops().find(node.op_type()); it != missing_ops().end())
    return measured_fails("has no " + node.op_type() + " (" + it->second + ")");
  for (const auto& in : node.input()) {
    const auto* t = view.constant(in);
    if (t && !measured_type(t->data_type()))
      return t->data_type() == onnx::TensorProto::BOOL ? measured_fails("fails on BOOL weights (\"Unsupported data type: BOOL\")")
                                                      : unmeasured("a weight of type " + onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(t->data_type())));
  }
  // Of constants alone, OpenCV's importer computes some ops itself (measured: Reshape, Unsqueeze,
  // Transpose, Cast, Concat, ConstantOfShape) and fails on Identity ("inputs.size()").
  static const std::set<std::string> kFolded = {"Reshape", "Unsqueeze", "Transpose", "Cast", "Concat", "ConstantOfShape"};
  const bool all_const = node.input_size() > 0 && std::all_of(node.input().begin(), node.input().end(), [&](const std::string& in) {
    return in.empty() || is_const(view, in);
  });
  if (all_const && node.op_type() == "Identity") return measured_fails("fails on Identity of a weight (\"inputs.size()\")");
  if (all_const) return kFolded.count(node.op_type()) ? "" : unmeasured(node.op_type() + " of constants only");
  return dispatch(view, node);
}

namespace {

void rename_inputs(onnx::GraphProto* graph, const std::string& from, const std::string& to) {
  for (auto& n : *graph->mutable_node())
    for (auto& in : *n.mutable_input())
      if (in == from) in = to;
}

bool is_graph_output(const onnx::GraphProto& graph, const std::string& value) {
  for (const auto& o : graph.output())
    if (o.name() == value) return true;
  return false;
}

// Squeeze from opset 13 takes its axes as an input, which OpenCV 4.6 cannot read; a Reshape to
// the squeezed shape (static here) is the same op, and one OpenCV reads.
std::string squeeze_as_reshape(const OnnxView& view, onnx::NodeProto* node, onnx::GraphProto* graph) {
  if (node->op_type() != "Squeeze" || view.opset() < 13 || node->output_size() != 1) return "";
  auto shape = view.shape(node->output(0));
  if (!shape || std::any_of(shape->begin(), shape->end(), [](std::int64_t d) { return d < 0; })) return "";
  onnx::TensorProto* t = graph->add_initializer();
  t->set_name(node->output(0) + "/shape_for_opencv");
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<std::int64_t>(shape->size()));
  for (auto d : *shape) t->add_int64_data(d);
  node->set_op_type("Reshape");
  node->clear_attribute();
  if (node->input_size() < 2) node->add_input("");
  node->set_input(1, t->name());
  return "Squeeze '" + onnx_node_name(*node) + "' as a Reshape to its static shape (OpenCV 4.6 cannot read Squeeze's axes input)";
}

void drop_unread_initializers(onnx::GraphProto* graph) {
  std::set<std::string> read;
  for (const auto& n : graph->node())
    for (const auto& in : n.input()) read.insert(in);
  for (const auto& o : graph->output()) read.insert(o.name());
  auto* inits = graph->mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (!read.count(inits->Get(i).name())) inits->DeleteSubrange(i, 1);
}

onnx::NodeProto unary_node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(output);
  for (const auto& i : inputs) n.add_input(i);
  n.add_output(output);
  return n;
}

// Clip(x, 0, hi) with constant bounds (Relu6 from TF) as Relu(x) - Relu(x - hi): OpenCV 4.6 reads
// Clip only in its attribute form (opset < 11) and Min/Max only against a computed operand. The
// difference is the clip exactly where x <= hi; above it, x - (x - hi) can differ from hi by one
// rounding of x - hi (relative 2^-24 of x), far inside the export's proof tolerance.
bool clip_as_relus(const OnnxView& view, const onnx::NodeProto& clip, onnx::GraphProto* graph, std::vector<onnx::NodeProto>* out) {
  if (clip.op_type() != "Clip" || clip.input_size() != 3 || clip.output_size() != 1) return false;
  auto lo = view.floats(clip.input(1)), hi = view.floats(clip.input(2));
  if (!lo || !hi || lo->size() != 1 || hi->size() != 1 || (*lo)[0] != 0 || view.elem_type(clip.input(0)) != onnx::TensorProto::FLOAT) return false;
  const std::string base = clip.output(0);
  onnx::TensorProto* bound = graph->add_initializer();
  bound->set_name(base + "/upper_for_opencv");
  bound->set_data_type(onnx::TensorProto::FLOAT);
  bound->add_float_data(static_cast<float>((*hi)[0]));
  out->push_back(unary_node("Relu", {clip.input(0)}, base + "/relu"));
  out->push_back(unary_node("Sub", {clip.input(0), bound->name()}, base + "/above"));
  out->push_back(unary_node("Relu", {base + "/above"}, base + "/excess"));
  out->push_back(unary_node("Sub", {base + "/relu", base + "/excess"}, base));
  out->back().set_name(onnx_node_name(clip));
  return true;
}

}  // namespace

std::vector<std::string> opencv_onnx_rewrites(onnx::ModelProto* model) {
  std::vector<std::string> changes;
  // The view holds pointers to weights and Constant nodes' values: removing an Identity node or
  // adding an initializer moves neither (protobuf keeps elements where they are).
  OnnxView view(*model);
  auto* graph = model->mutable_graph();
  // An Identity of a weight (OpenCV fails on it): its readers read the weight itself.
  for (int i = graph->node_size() - 1; i >= 0; --i) {
    const auto& n = graph->node(i);
    if (n.op_type() != "Identity" || n.input_size() != 1 || n.output_size() != 1 || !view.constant(n.input(0)) || is_graph_output(*graph, n.output(0))) continue;
    const std::string from = n.output(0), to = n.input(0), name = onnx_node_name(n);
    graph->mutable_node()->DeleteSubrange(i, 1);
    rename_inputs(graph, from, to);
    changes.push_back("Identity '" + name + "' of a weight removed (OpenCV 4.6 fails on it); its readers read '" + to + "'");
  }
  for (auto& n : *graph->mutable_node())
    if (auto c = squeeze_as_reshape(view, &n, graph); !c.empty()) changes.push_back(c);
  std::vector<onnx::NodeProto> nodes;
  int clips = 0;
  for (const auto& n : graph->node())
    if (clip_as_relus(view, n, graph, &nodes)) ++clips;
    else nodes.push_back(n);
  if (clips) {
    graph->clear_node();
    for (auto& n : nodes) *graph->add_node() = std::move(n);
    changes.push_back(std::to_string(clips) + " Clip(x, 0, hi) as Relu(x) - Relu(x - hi) (OpenCV 4.6 reads Clip only without min/max inputs)");
    drop_unread_initializers(graph);  // the Clips' bounds
  }
  return changes;
}

std::vector<OnnxRejection> opencv_onnx_model_rules(const OnnxView& view) {
  std::vector<OnnxRejection> out;
  const int opset = view.opset();
  if (opset < 9 || opset > 20) out.push_back({"(model)", "", unmeasured("opset " + std::to_string(opset))});
  for (const auto& o : view.graph().output()) {
    if (!o.type().tensor_type().has_shape()) out.push_back({o.name(), "", measured_fails("needs a shape on every graph output (\"tensor.has_shape()\")")});
    if (view.constant(o.name())) out.push_back({o.name(), "", measured_fails("fails on an output that is a constant (nothing to compute)")});
  }
  for (const auto& i : view.graph().input()) {
    if (view.constant(i.name())) continue;
    const int type = i.type().tensor_type().elem_type();
    if (type != onnx::TensorProto::FLOAT) out.push_back({i.name(), "", unmeasured("a graph input of type " + onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type)))});
  }
  return out;
}

}  // namespace tffreeze::targets
