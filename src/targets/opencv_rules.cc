#include "targets/opencv_rules.h"

#include <algorithm>
#include <set>

#include "common/dtype.h"
#include "common/tensor.h"
#include "graph/mapped_constants.h"

namespace tffreeze::targets {
namespace {

namespace tf = ::tffreeze::tf;

// The producer of data input `slot` of node i, or -1.
int producer(const graph::GraphView& view, int i, int slot) {
  for (const auto& e : view.inputs(i))
    if (!e.control() && e.input_slot == slot) return e.producer;
  return -1;
}

bool is_op(const graph::GraphView& view, int i, std::initializer_list<const char*> ops) {
  if (i < 0) return false;
  for (const char* op : ops)
    if (view.node(i).op() == op) return true;
  return false;
}

int data_input_count(const tf::NodeDef& node) {
  return static_cast<int>(std::count_if(node.input().begin(), node.input().end(), [](const std::string& in) { return in.empty() || in[0] != '^'; }));
}

// Values of a constant input (axes, paddings), or empty when it is not a constant.
std::vector<std::int64_t> const_ints(const graph::GraphView& view, int i, int slot, bool* found = nullptr) {
  const int c = producer(view, i, slot);
  if (found) *found = is_op(view, c, {"Const"});
  if (!is_op(view, c, {"Const"})) return {};
  Tensor t = graph::constant_value(view.node(c));
  std::vector<std::int64_t> out;
  for (std::int64_t k = 0; k < t.num_elements(); ++k) out.push_back(static_cast<std::int64_t>(element_as_double(t, k)));
  return out;
}

int const_rank(const graph::GraphView& view, int c) {
  const auto& shape = view.node(c).attr().at("value").tensor().tensor_shape();
  return shape.dim_size();
}

bool attr_true(const tf::NodeDef& n, const char* name) { return n.attr().count(name) && n.attr().at(name).b(); }

// Where the data operands are: the other inputs are parameters (axes, shapes, paddings).
std::vector<int> data_slots(const tf::NodeDef& n) {
  const int count = data_input_count(n);
  if (n.op() == "Split") return {1};
  if (n.op() == "Conv2DBackpropInput" || n.op() == "DepthwiseConv2dNativeBackpropInput") return {2};  // input_sizes first
  if (n.op() == "ConcatV2") {
    std::vector<int> s(static_cast<std::size_t>(std::max(count - 1, 0)));
    for (int k = 0; k < count - 1; ++k) s[static_cast<std::size_t>(k)] = k;
    return s;
  }
  if (n.op() == "Pack" || n.op() == "AddN") {
    std::vector<int> s(static_cast<std::size_t>(count));
    for (int k = 0; k < count; ++k) s[static_cast<std::size_t>(k)] = k;
    return s;
  }
  return {0};
}

int placeholder_rank(const graph::GraphView& view, int i) {
  if (!is_op(view, i, {"Placeholder"}) || !view.node(i).attr().count("shape")) return -1;
  const auto& shape = view.node(i).attr().at("shape").shape();
  return shape.unknown_rank() ? -1 : shape.dim_size();
}

// Input forms measured to fail: scalars; a Split of a rank-1 input along axis -1.
OpenCvRejection input_rule(const graph::GraphView& view, int i) {
  const auto& n = view.node(i);
  if (n.op() == "Placeholder" && placeholder_rank(view, i) == 0) return {"a scalar input (OpenCV takes blobs of rank 1 or more)", ""};
  if (n.op() == "Split") {
    auto axis = const_ints(view, i, 0);
    if (!axis.empty() && axis[0] < 0 && placeholder_rank(view, producer(view, i, 1)) == 1) return {"a Split of a rank-1 input along axis -1", ""};
  }
  if (n.op() == "CropAndResize" && is_op(view, producer(view, i, 1), {"Const"}))
    return {"CropAndResize with constant boxes (OpenCV's importer reads it only in its detection-network form)", ""};
  return {};
}

OpenCvRejection dtype_rule(const tf::NodeDef& n) {
  const char* attr = n.op() == "Placeholder" ? "dtype" : "T";
  if (!n.attr().count(attr) || n.attr().at(attr).type() == tf::DT_FLOAT) return {};
  return {"OpenCV computes in float32 only (" + std::string(attr) + " = " + dtype_name(n.attr().at(attr).type()) + ")",
          n.op() == "Placeholder" ? "freeze --replace-input NAME=float32[...]" : ""};
}

// A layer's data operand must come from another layer ("Input layer not found").
OpenCvRejection constant_operand_rule(const graph::GraphView& view, int i) {
  const auto& n = view.node(i);
  const int inputs = data_input_count(n);
  int constants = 0;
  for (int k = 0; k < inputs; ++k) constants += is_op(view, producer(view, i, k), {"Const"});
  if (inputs > 0 && constants == inputs) return {"every input is a constant (OpenCV needs a layer to read from)", "fold_constants"};
  static const std::set<std::string> kConstFirstOk = {"Mul", "Add", "AddV2", "Sub", "RealDiv", "BiasAdd", "ConcatV2", "MatMul",
                                                      "Maximum", "Minimum", "Placeholder"};
  if (n.op() == "Pack" && constants > 0) return {"Pack of a constant (OpenCV finds no input layer for it)", ""};
  if (n.op() == "AddN" && constants > 0 && inputs > 2) return {"AddN of a constant and more than one tensor", ""};
  if (kConstFirstOk.count(n.op())) return {};
  for (int slot : data_slots(n))
    if (is_op(view, producer(view, i, slot), {"Const"})) return {"its data input is a constant (OpenCV finds no input layer for it)", "fold_constants"};
  return {};
}

OpenCvRejection reduction_rule(const graph::GraphView& view, int i) {
  const auto& n = view.node(i);
  if (n.op() != "Sum" && n.op() != "Mean" && n.op() != "Max") return {};
  if (n.attr().count("Tidx") && n.attr().at("Tidx").type() != tf::DT_INT32) return {"reduction axes of dtype int64", ""};
  bool found = false;
  auto axes = const_ints(view, i, 1, &found);
  std::sort(axes.begin(), axes.end());
  const bool spatial = axes == std::vector<std::int64_t>{1, 2};
  if (found && (spatial || (axes.size() == 1 && !attr_true(n, "keep_dims")))) return {};
  return {"OpenCV 4.6 reduces over the spatial axes [1,2] or over one axis without keep_dims only", ""};
}

bool nhwc(const tf::NodeDef& n) { return !n.attr().count("data_format") || n.attr().at("data_format").s() == "NHWC"; }

// S2B -> NHWC conv -> B2S, as flatten_atrous_conv finds it (OpenCV fails on the NCHW form).
bool atrous_pair(const graph::GraphView& view, int i) {
  if (view.node(i).op() == "SpaceToBatchND") {
    const auto& c = view.consumers(i);
    if (c.size() != 1 || !is_op(view, c[0].consumer, {"Conv2D", "DepthwiseConv2dNative"}) || !nhwc(view.node(c[0].consumer))) return false;
    const auto& c2 = view.consumers(c[0].consumer);
    return c2.size() == 1 && is_op(view, c2[0].consumer, {"BatchToSpaceND"});
  }
  const int conv = producer(view, i, 0);
  return is_op(view, conv, {"Conv2D", "DepthwiseConv2dNative"}) && nhwc(view.node(conv)) && is_op(view, producer(view, conv, 0), {"SpaceToBatchND"});
}

OpenCvRejection layer_rule(const graph::GraphView& view, int i) {
  const auto& n = view.node(i);
  const std::string& op = n.op();
  if (op == "Pack" && n.attr().count("axis") && n.attr().at("axis").i() != 0) return {"Pack along an axis other than 0", ""};
  if (op == "ConcatV2" && !const_ints(view, i, data_input_count(n) - 1).empty() && const_ints(view, i, data_input_count(n) - 1)[0] == 0)
    return {"concatenation along the batch axis (OpenCV computes other numbers)", ""};
  if (op == "ExpandDims" && is_op(view, producer(view, i, 0), {"Placeholder"}))
    return {"ExpandDims of a graph input (OpenCV asks the input for its shape at import)", ""};
  if ((op == "SpaceToBatchND" || op == "BatchToSpaceND") && !atrous_pair(view, i))
    return {op + " outside a SpaceToBatchND -> convolution -> BatchToSpaceND dilation", "flatten_atrous_conv"};
  if (op == "Pad" || op == "PadV2" || op == "MirrorPad") {
    auto paddings = const_ints(view, i, 1);
    if (paddings.size() != 8) return {"OpenCV pads 4-D tensors only", ""};
  }
  if (op == "MatMul") {
    if (attr_true(n, "transpose_a") || attr_true(n, "transpose_b")) return {"MatMul with transposed operands", ""};
    if (!is_op(view, producer(view, i, 1), {"Const"})) return {"MatMul of two computed tensors (OpenCV drops the next op)", ""};
  }
  if (op == "Conv2D" || op == "DepthwiseConv2dNative" || op == "Conv2DBackpropInput") {
    if (!is_op(view, producer(view, i, 1), {"Const"})) return {"a filter that is computed, not constant", ""};
    auto strides = n.attr().count("strides") ? n.attr().at("strides").list().i() : google::protobuf::RepeatedField<std::int64_t>();
    auto dilations = n.attr().count("dilations") ? n.attr().at("dilations").list().i() : google::protobuf::RepeatedField<std::int64_t>();
    for (int d = 1; d < std::min(strides.size(), dilations.size()) - 1; ++d)
      if (strides.Get(d) > 1 && dilations.Get(d) > 1) return {"stride and dilation both above 1 on one axis (OpenCV computes other numbers)", ""};
  }
  return {};
}

// Element-wise ops broadcast constants of rank 0, 1 or 4 in OpenCV; [1,4] or [3,4] fail.
OpenCvRejection broadcast_rule(const graph::GraphView& view, int i) {
  const auto& n = view.node(i);
  static const std::set<std::string> kElementwise = {"Mul", "RealDiv", "Sub", "Add", "AddV2", "Maximum", "Minimum"};
  if (!kElementwise.count(n.op())) return {};
  for (int k = 0; k < 2; ++k) {
    const int c = producer(view, i, k);
    if (is_op(view, c, {"Const"}) && (const_rank(view, c) == 2 || const_rank(view, c) == 3))
      return {"a constant operand of rank " + std::to_string(const_rank(view, c)) + " (OpenCV broadcasts scalars, vectors and 4-D only)", ""};
  }
  const bool both_inputs = is_op(view, producer(view, i, 0), {"Placeholder"}) && is_op(view, producer(view, i, 1), {"Placeholder"});
  if (both_inputs) return {"both operands are graph inputs (OpenCV asks them for shapes at import)", ""};
  return {};
}

}  // namespace

OpenCvRejection opencv_rejects(const graph::GraphView& view, int i) {
  const auto& n = view.node(i);
  if (n.op() == "Const" || n.op() == "Identity" || n.op() == "NoOp") return {};
  if (auto r = dtype_rule(n); !r.why.empty()) return r;
  using Rule = OpenCvRejection (*)(const graph::GraphView&, int);
  for (Rule rule : {input_rule, constant_operand_rule, reduction_rule, layer_rule, broadcast_rule})  // first finding wins
    if (auto r = rule(view, i); !r.why.empty()) return r;
  return {};
}

bool opencv_has_layers(const graph::GraphView& view) {
  for (int i = 0; i < view.size(); ++i)
    if (!is_op(view, i, {"Const", "Placeholder", "Identity", "NoOp"})) return true;
  return false;
}

}  // namespace tffreeze::targets
