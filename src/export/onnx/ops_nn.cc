// Convolutions, pooling, bias, batch norm, matrix products, softmax. ONNX's are NCHW: an NCHW
// TF node maps one to one (weights permuted as constants); an NHWC node (a graph that did not
// go through to_nchw) is wrapped in a Transpose pair. Padding is always explicit `pads`,
// computed with TensorFlow's SAME rule from the static input shape, never `auto_pad`.
#include <algorithm>
#include <cstring>

#include "common/dtype.h"
#include "common/error.h"
#include "export/onnx/converters.h"
#include "export/onnx/nchw_frame.h"

namespace tffreeze::onnx_export {
namespace {

void convert_conv(const tf::NodeDef& node, ExportContext& ctx) {
  const auto& fshape = ctx.info(node.input(1)).shape;
  if (fshape.size() != 4) no_onnx_form(node, "a rank-" + std::to_string(fshape.size()) + " filter");
  Frame f = enter_nchw(node, ctx);
  const bool depthwise = node.op() == "DepthwiseConv2dNative";
  const std::int64_t C = fshape[2], M = fshape[3];
  const std::string w = depthwise ? permuted_weight(node, ctx, 1, {2, 3, 0, 1}, {C * M, 1, fshape[0], fshape[1]})
                                  : permuted_weight(node, ctx, 1, {3, 2, 0, 1}, {});
  auto stride = spatial(node, "strides", 1), dilation = spatial(node, "dilations", 1);
  auto* conv = ctx.add_node("Conv", {f.x, w}, {f.out}, node.name());
  set_ints(conv, "kernel_shape", {fshape[0], fshape[1]});
  set_ints(conv, "strides", stride);
  set_ints(conv, "dilations", dilation);
  set_ints(conv, "pads", pads_for(node, f.hw, {fshape[0], fshape[1]}, stride, dilation));
  if (depthwise) set_int(conv, "group", C);
  leave_nchw(node, ctx, f);
}

// Conv2DBackpropInput (conv2d_transpose): ConvTranspose with the forward convolution's pads and
// the output_padding that gives TF's input_sizes exactly.
void convert_conv_transpose(const tf::NodeDef& node, ExportContext& ctx) {
  const auto& fshape = ctx.info(node.input(1)).shape;
  const auto& out_shape = ctx.info(ExportContext::output(node)).shape;
  if (fshape.size() != 4 || out_shape.size() != 4) no_onnx_form(node, "a filter or output that is not 4-D");
  Frame f = enter_nchw(node, ctx, 2);
  const std::vector<std::int64_t> out_hw = nchw(node) ? std::vector<std::int64_t>{out_shape[2], out_shape[3]} : std::vector<std::int64_t>{out_shape[1], out_shape[2]};
  auto stride = spatial(node, "strides", 1), dilation = spatial(node, "dilations", 1);
  const std::vector<std::int64_t> k = {fshape[0], fshape[1]};
  auto pads = pads_for(node, out_hw, k, stride, dilation);
  std::vector<std::int64_t> output_padding(2);
  for (int d = 0; d < 2; ++d) {
    const std::int64_t produced = stride[d] * (f.hw[d] - 1) + (k[d] - 1) * dilation[d] + 1 - pads[d] - pads[d + 2];
    output_padding[d] = out_hw[d] - produced;
    if (output_padding[d] < 0 || output_padding[d] >= std::max(stride[d], dilation[d])) no_onnx_form(node, "this output size");
  }
  // TF's filter is [KH, KW, output channels, input channels]; ONNX's [input, output, KH, KW].
  auto* conv = ctx.add_node("ConvTranspose", {f.x, permuted_weight(node, ctx, 1, {3, 2, 0, 1}, {})}, {f.out}, node.name());
  set_ints(conv, "kernel_shape", k);
  set_ints(conv, "strides", stride);
  set_ints(conv, "dilations", dilation);
  set_ints(conv, "pads", pads);
  if (output_padding[0] || output_padding[1]) set_ints(conv, "output_padding", output_padding);
  leave_nchw(node, ctx, f);
}

// Conv3D: NDHWC/NCDHW input, [KD, KH, KW, C, O] filter -> ONNX Conv over 3 spatial dims.
void convert_conv3d(const tf::NodeDef& node, ExportContext& ctx) {
  const auto& fshape = ctx.info(node.input(1)).shape;
  if (fshape.size() != 5) no_onnx_form(node, "a rank-" + std::to_string(fshape.size()) + " filter");
  Frame f = enter_nchw(node, ctx);
  if (f.hw.size() != 3) no_onnx_form(node, "an input that is not 5-D");
  const std::vector<std::int64_t> k = {fshape[0], fshape[1], fshape[2]};
  auto stride = spatial(node, "strides", 1, 3), dilation = spatial(node, "dilations", 1, 3);
  auto* conv = ctx.add_node("Conv", {f.x, permuted_weight(node, ctx, 1, {4, 3, 0, 1, 2}, {})}, {f.out}, node.name());
  set_ints(conv, "kernel_shape", k);
  set_ints(conv, "strides", stride);
  set_ints(conv, "dilations", dilation);
  set_ints(conv, "pads", pads_for(node, f.hw, k, stride, dilation));
  leave_nchw(node, ctx, f);
}

void convert_pool(const tf::NodeDef& node, ExportContext& ctx) {
  Frame f = enter_nchw(node, ctx);
  const std::size_t dims = f.hw.size();
  auto k = spatial(node, "ksize", 1, dims), stride = spatial(node, "strides", 1, dims);
  if (auto all = attr_ints(node, "ksize"); all.size() == dims + 2 && (all[0] != 1 || all[nchw(node) ? 1 : dims + 1] != 1)) {
    no_onnx_form(node, "pooling across the batch or channels");
  }
  const bool max = node.op() == "MaxPool" || node.op() == "MaxPool3D";
  auto* pool = ctx.add_node(max ? "MaxPool" : "AveragePool", {f.x}, {f.out}, node.name());
  set_ints(pool, "kernel_shape", k);
  set_ints(pool, "strides", stride);
  set_ints(pool, "pads", pads_for(node, f.hw, k, stride, std::vector<std::int64_t>(dims, 1)));
  if (!max) set_int(pool, "count_include_pad", 0);  // TF averages over the window's real pixels only
  leave_nchw(node, ctx, f);
}

// BiasAdd in NCHW adds along axis 1: the bias becomes [C, 1, ..., 1].
void convert_bias_add(const tf::NodeDef& node, ExportContext& ctx) {
  const auto in = inputs_of(node);
  const auto& x = ctx.info(node.input(0)).shape;
  if (!nchw(node) || x.size() < 3) {
    emit_same(node, ctx, "Add");
    return;
  }
  std::vector<std::int64_t> shape(x.size() - 1, 1);
  shape[0] = -1;
  std::string bias;
  if (const Tensor* value = ctx.constant(in[1])) {  // a weight stays a weight (TensorRT, OpenCV want it so)
    Tensor reshaped = *value;
    shape[0] = value->num_elements();
    reshaped.shape = shape;
    bias = ctx.add_initializer(node.name() + "/bias", reshaped);
  } else {
    bias = ctx.add_node("Reshape", {in[1], ctx.add_ints(node.name() + "/bias_shape", shape)}, {}, node.name() + "/bias")->output(0);
  }
  ctx.add_node("Add", {in[0], bias}, {ExportContext::output(node)}, node.name());
}

void convert_batch_norm(const tf::NodeDef& node, ExportContext& ctx) {
  if (attr_bool(node, "is_training", true)) no_onnx_form(node, "is_training=true (batch statistics)");
  auto in = inputs_of(node);
  Frame f = enter_nchw(node, ctx);
  auto* bn = ctx.add_node("BatchNormalization", {f.x, in[1], in[2], in[3], in[4]}, {f.out}, node.name());
  set_float(bn, "epsilon", attr_float(node, "epsilon", 1e-4f));
  leave_nchw(node, ctx, f);
}

std::string swap_last_two(ExportContext& ctx, const std::string& v, std::size_t rank, const std::string& name) {
  std::vector<std::int64_t> perm;
  for (std::size_t k = 0; k < rank; ++k) perm.push_back(static_cast<std::int64_t>(k));
  std::swap(perm[rank - 1], perm[rank - 2]);
  auto* t = ctx.add_node("Transpose", {v}, {}, name);
  set_ints(t, "perm", perm);
  return t->output(0);
}

void convert_matmul(const tf::NodeDef& node, ExportContext& ctx) {
  auto in = inputs_of(node);
  const bool batch = node.op() != "MatMul";
  const bool ta = attr_bool(node, batch ? "adj_x" : "transpose_a", false), tb = attr_bool(node, batch ? "adj_y" : "transpose_b", false);
  if (ta) in[0] = swap_last_two(ctx, in[0], ctx.info(node.input(0)).shape.size(), node.name() + "/a_transposed");
  if (tb) in[1] = swap_last_two(ctx, in[1], ctx.info(node.input(1)).shape.size(), node.name() + "/b_transposed");
  ctx.add_node("MatMul", {in[0], in[1]}, {ExportContext::output(node)}, node.name());
}

void convert_softmax(const tf::NodeDef& node, ExportContext& ctx) {
  set_int(emit_same(node, ctx, node.op() == "Softmax" ? "Softmax" : "LogSoftmax"), "axis", -1);
}

}  // namespace

void register_nn_converters(ConverterRegistry& r) {
  r.add_all({"Conv2D", "DepthwiseConv2dNative"}, convert_conv);
  r.add_all({"MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D"}, convert_pool);
  r.add("Conv3D", convert_conv3d);
  r.add("Conv2DBackpropInput", convert_conv_transpose);
  r.add("BiasAdd", convert_bias_add);
  r.add_all({"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}, convert_batch_norm);
  r.add_all({"MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"}, convert_matmul);
  r.add_all({"Softmax", "LogSoftmax"}, convert_softmax);
}

}  // namespace tffreeze::onnx_export
