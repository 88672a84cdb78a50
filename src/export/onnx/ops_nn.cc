// Convolutions, pooling, bias, batch norm, matrix products, softmax. ONNX's are NCHW: an NCHW
// TF node maps one to one (weights permuted as constants); an NHWC node (a graph that did not
// go through to_nchw) is wrapped in a Transpose pair. Padding is always explicit `pads`,
// computed with TensorFlow's SAME rule from the static input shape, never `auto_pad`.
#include <algorithm>
#include <cstring>

#include "common/dtype.h"
#include "common/error.h"
#include "export/onnx/converters.h"

namespace tffreeze::onnx_export {
namespace {

bool nchw(const tf::NodeDef& node) { return attr_string(node, "data_format", "NHWC") == "NCHW"; }

// Spatial entries (H, W) of a 4-value attr in data_format order; `fallback` when absent.
std::vector<std::int64_t> spatial(const tf::NodeDef& node, const std::string& attr, std::int64_t fallback) {
  auto v = attr_ints(node, attr);
  if (v.size() != 4) return {fallback, fallback};
  return nchw(node) ? std::vector<std::int64_t>{v[2], v[3]} : std::vector<std::int64_t>{v[1], v[2]};
}

// ONNX pads [top, left, bottom, right] by TensorFlow's padding rule.
std::vector<std::int64_t> pads_for(const tf::NodeDef& node, const std::vector<std::int64_t>& in_hw, const std::vector<std::int64_t>& k,
                                   const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& dilation) {
  const std::string padding = attr_string(node, "padding", "VALID");
  std::vector<std::int64_t> before(2, 0), after(2, 0);
  if (padding == "SAME") {
    for (int d = 0; d < 2; ++d) {
      const std::int64_t out = (in_hw[d] + stride[d] - 1) / stride[d];
      const std::int64_t total = std::max<std::int64_t>((out - 1) * stride[d] + (k[d] - 1) * dilation[d] + 1 - in_hw[d], 0);
      before[d] = total / 2;
      after[d] = total - before[d];
    }
  } else if (padding == "EXPLICIT") {
    auto p = attr_ints(node, "explicit_paddings");
    if (p.size() != 8) no_onnx_form(node, "explicit_paddings of " + std::to_string(p.size()) + " values");
    const int h = nchw(node) ? 2 : 1, w = nchw(node) ? 3 : 2;
    before = {p[2 * h], p[2 * w]};
    after = {p[2 * h + 1], p[2 * w + 1]};
  } else if (padding != "VALID") {
    no_onnx_form(node, "padding '" + padding + "'");
  }
  return {before[0], before[1], after[0], after[1]};
}

// The node's input 0 in NCHW, and where its NCHW result must go: straight to the node's output,
// or through a Transpose back to NHWC.
struct Frame {
  std::string x, out;
  std::vector<std::int64_t> hw;  // input spatial size
};

Frame enter_nchw(const tf::NodeDef& node, ExportContext& ctx) {
  const auto in = inputs_of(node);
  const auto& shape = ctx.info(node.input(0)).shape;
  if (shape.size() != 4) no_onnx_form(node, "a rank-" + std::to_string(shape.size()) + " input");
  if (nchw(node)) return {in[0], ExportContext::output(node), {shape[2], shape[3]}};
  auto* t = ctx.add_node("Transpose", {in[0]}, {}, node.name() + "/to_nchw");
  set_ints(t, "perm", {0, 3, 1, 2});
  return {t->output(0), ctx.fresh(node.name() + "/nchw"), {shape[1], shape[2]}};
}

void leave_nchw(const tf::NodeDef& node, ExportContext& ctx, const Frame& f) {
  if (nchw(node)) return;
  set_ints(ctx.add_node("Transpose", {f.out}, {ExportContext::output(node)}, node.name() + "/to_nhwc"), "perm", {0, 2, 3, 1});
}

// Element bytes of `t` permuted: out.shape[k] = t.shape[perm[k]].
Tensor transposed(const Tensor& t, const std::vector<std::int64_t>& perm) {
  const std::size_t rank = t.shape.size(), size = static_cast<std::size_t>(dtype_size(t.dtype));
  Tensor out{t.dtype, std::vector<std::int64_t>(rank), std::string(t.bytes.size(), '\0'), {}, {}};
  std::vector<std::int64_t> in_strides(rank, 1);
  for (std::size_t k = rank; k-- > 1;) in_strides[k - 1] = in_strides[k] * t.shape[k];
  for (std::size_t k = 0; k < rank; ++k) out.shape[k] = t.shape[static_cast<std::size_t>(perm[k])];
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t i = 0, n = t.num_elements(); i < n; ++i) {
    std::int64_t from = 0;
    for (std::size_t k = 0; k < rank; ++k) from += index[k] * in_strides[static_cast<std::size_t>(perm[k])];
    std::memcpy(out.bytes.data() + static_cast<std::size_t>(i) * size, t.bytes.data() + static_cast<std::size_t>(from) * size, size);
    for (std::size_t k = rank; k-- > 0;) {
      if (++index[k] < out.shape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

// A weight in another layout: a permuted (and reshaped) initializer when it is a constant, so
// that runtimes which want constant weights (TensorRT, OpenCV) get them; else Transpose nodes.
std::string permuted_weight(const tf::NodeDef& node, ExportContext& ctx, const std::vector<std::int64_t>& perm,
                            const std::vector<std::int64_t>& reshape) {
  const std::string w = inputs_of(node)[1];
  if (const Tensor* value = ctx.constant(node.input(1)); value && dtype_size(value->dtype) > 0) {
    Tensor t = transposed(*value, perm);
    if (!reshape.empty()) t.shape = reshape;
    return ctx.add_initializer(node.name() + "/weights", t);
  }
  auto* t = ctx.add_node("Transpose", {w}, {}, node.name() + "/weights");
  set_ints(t, "perm", perm);
  if (reshape.empty()) return t->output(0);
  return ctx.add_node("Reshape", {t->output(0), ctx.add_ints(node.name() + "/weights_shape", reshape)}, {}, node.name() + "/weights_reshaped")->output(0);
}

void convert_conv(const tf::NodeDef& node, ExportContext& ctx) {
  const auto& fshape = ctx.info(node.input(1)).shape;
  if (fshape.size() != 4) no_onnx_form(node, "a rank-" + std::to_string(fshape.size()) + " filter");
  Frame f = enter_nchw(node, ctx);
  const bool depthwise = node.op() == "DepthwiseConv2dNative";
  const std::int64_t C = fshape[2], M = fshape[3];
  const std::string w = depthwise ? permuted_weight(node, ctx, {2, 3, 0, 1}, {C * M, 1, fshape[0], fshape[1]})
                                  : permuted_weight(node, ctx, {3, 2, 0, 1}, {});
  auto stride = spatial(node, "strides", 1), dilation = spatial(node, "dilations", 1);
  auto* conv = ctx.add_node("Conv", {f.x, w}, {f.out}, node.name());
  set_ints(conv, "kernel_shape", {fshape[0], fshape[1]});
  set_ints(conv, "strides", stride);
  set_ints(conv, "dilations", dilation);
  set_ints(conv, "pads", pads_for(node, f.hw, {fshape[0], fshape[1]}, stride, dilation));
  if (depthwise) set_int(conv, "group", C);
  leave_nchw(node, ctx, f);
}

void convert_pool(const tf::NodeDef& node, ExportContext& ctx) {
  Frame f = enter_nchw(node, ctx);
  auto k = spatial(node, "ksize", 1), stride = spatial(node, "strides", 1);
  if (attr_ints(node, "ksize").size() == 4) {
    auto all = attr_ints(node, "ksize");
    if (all[0] != 1 || all[nchw(node) ? 1 : 3] != 1) no_onnx_form(node, "pooling across the batch or channels");
  }
  const bool max = node.op() == "MaxPool";
  auto* pool = ctx.add_node(max ? "MaxPool" : "AveragePool", {f.x}, {f.out}, node.name());
  set_ints(pool, "kernel_shape", k);
  set_ints(pool, "strides", stride);
  set_ints(pool, "pads", pads_for(node, f.hw, k, stride, {1, 1}));
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
  auto* r = ctx.add_node("Reshape", {in[1], ctx.add_ints(node.name() + "/bias_shape", shape)}, {}, node.name() + "/bias");
  ctx.add_node("Add", {in[0], r->output(0)}, {ExportContext::output(node)}, node.name());
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
  r.add_all({"MaxPool", "AvgPool"}, convert_pool);
  r.add("BiasAdd", convert_bias_add);
  r.add_all({"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}, convert_batch_norm);
  r.add_all({"MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"}, convert_matmul);
  r.add_all({"Softmax", "LogSoftmax"}, convert_softmax);
}

}  // namespace tffreeze::onnx_export
