#include "export/onnx/nchw_frame.h"

#include <algorithm>
#include <cstring>

#include "common/dtype.h"
#include "export/onnx/converters.h"

namespace tffreeze::onnx_export {

bool nchw(const tf::NodeDef& node) {
  const std::string format = attr_string(node, "data_format", "NHWC");
  return format == "NCHW" || format == "NCDHW";
}

std::vector<std::int64_t> spatial(const tf::NodeDef& node, const std::string& attr, std::int64_t fallback, std::size_t dims) {
  auto v = attr_ints(node, attr);
  if (v.size() != dims + 2) return std::vector<std::int64_t>(dims, fallback);
  const std::size_t first = nchw(node) ? 2 : 1;
  return {v.begin() + static_cast<std::ptrdiff_t>(first), v.begin() + static_cast<std::ptrdiff_t>(first + dims)};
}

std::vector<std::int64_t> pads_for(const tf::NodeDef& node, const std::vector<std::int64_t>& in, const std::vector<std::int64_t>& k,
                                   const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& dilation) {
  const std::string padding = attr_string(node, "padding", "VALID");
  const std::size_t dims = in.size();
  std::vector<std::int64_t> pads(2 * dims, 0);  // ONNX: every dim's begin, then every dim's end
  if (padding == "SAME") {
    for (std::size_t d = 0; d < dims; ++d) {
      const std::int64_t out = (in[d] + stride[d] - 1) / stride[d];
      const std::int64_t total = std::max<std::int64_t>((out - 1) * stride[d] + (k[d] - 1) * dilation[d] + 1 - in[d], 0);
      pads[d] = total / 2;
      pads[dims + d] = total - total / 2;
    }
  } else if (padding == "EXPLICIT") {
    auto p = attr_ints(node, "explicit_paddings");
    if (p.size() != 2 * (dims + 2)) no_onnx_form(node, "explicit_paddings of " + std::to_string(p.size()) + " values");
    const std::size_t first = nchw(node) ? 2 : 1;
    for (std::size_t d = 0; d < dims; ++d) pads[d] = p[2 * (first + d)], pads[dims + d] = p[2 * (first + d) + 1];
  } else if (padding != "VALID") {
    no_onnx_form(node, "padding '" + padding + "'");
  }
  return pads;
}

namespace {
// Channels last -> first ([0, r-1, 1, ..., r-2]) and back ([0, 2, ..., r-1, 1]).
std::vector<std::int64_t> to_channels_first(std::size_t rank) {
  std::vector<std::int64_t> perm = {0, static_cast<std::int64_t>(rank) - 1};
  for (std::size_t d = 1; d + 1 < rank; ++d) perm.push_back(static_cast<std::int64_t>(d));
  return perm;
}
std::vector<std::int64_t> to_channels_last(std::size_t rank) {
  std::vector<std::int64_t> perm = {0};
  for (std::size_t d = 2; d < rank; ++d) perm.push_back(static_cast<std::int64_t>(d));
  perm.push_back(1);
  return perm;
}
}  // namespace

Frame enter_nchw(const tf::NodeDef& node, ExportContext& ctx, int k) {
  const std::string x = inputs_of(node).at(static_cast<std::size_t>(k));
  const auto& shape = ctx.info(x).shape;
  if (shape.size() != 4 && shape.size() != 5) no_onnx_form(node, "a rank-" + std::to_string(shape.size()) + " input");
  if (nchw(node)) return {x, ExportContext::output(node), {shape.begin() + 2, shape.end()}};
  auto* t = ctx.add_node("Transpose", {x}, {}, node.name() + "/to_nchw");
  set_ints(t, "perm", to_channels_first(shape.size()));
  return {t->output(0), ctx.fresh(node.name() + "/nchw"), {shape.begin() + 1, shape.end() - 1}};
}

void leave_nchw(const tf::NodeDef& node, ExportContext& ctx, const Frame& f) {
  if (nchw(node)) return;
  set_ints(ctx.add_node("Transpose", {f.out}, {ExportContext::output(node)}, node.name() + "/to_nhwc"), "perm", to_channels_last(f.hw.size() + 2));
}

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

std::string permuted_weight(const tf::NodeDef& node, ExportContext& ctx, int k, const std::vector<std::int64_t>& perm,
                            const std::vector<std::int64_t>& reshape) {
  const std::string w = inputs_of(node).at(static_cast<std::size_t>(k));
  if (const Tensor* value = ctx.constant(w); value && dtype_size(value->dtype) > 0) {
    Tensor t = transposed(*value, perm);
    if (!reshape.empty()) t.shape = reshape;
    return ctx.add_initializer(node.name() + "/weights", t);
  }
  auto* t = ctx.add_node("Transpose", {w}, {}, node.name() + "/weights");
  set_ints(t, "perm", perm);
  if (reshape.empty()) return t->output(0);
  return ctx.add_node("Reshape", {t->output(0), ctx.add_ints(node.name() + "/weights_shape", reshape)}, {}, node.name() + "/weights_reshaped")->output(0);
}

}  // namespace tffreeze::onnx_export
