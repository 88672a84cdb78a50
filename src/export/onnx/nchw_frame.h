// NCHW frames for layout-carrying TF nodes: ONNX's convolutions, pools, batch norms and
// resizes are NCHW. An NCHW TF node maps one to one; an NHWC one (a graph that did not go through
// to_nchw) is wrapped in a Transpose pair. Padding follows TensorFlow's rules, always explicit.
#pragma once

#include <string>
#include <vector>

#include "export/onnx/context.h"

namespace tffreeze::onnx_export {

// data_format NCHW or NCDHW.
bool nchw(const tf::NodeDef& node);

// The `dims` spatial entries ((D,) H, W) of a (dims + 2)-value attr in data_format order;
// `fallback` for each when absent.
std::vector<std::int64_t> spatial(const tf::NodeDef& node, const std::string& attr, std::int64_t fallback, std::size_t dims = 2);

// ONNX pads (every spatial dim's begin, then every end) by TensorFlow's padding rule (SAME,
// VALID, EXPLICIT), for 2 or 3 spatial dims.
std::vector<std::int64_t> pads_for(const tf::NodeDef& node, const std::vector<std::int64_t>& in_hw, const std::vector<std::int64_t>& k,
                                   const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& dilation);

// Input `k` of the node channels-first (`x`: NCHW or NCDHW), the value its channels-first result
// goes to (`out`: the node's output, or a fresh value that leave_nchw transposes back), and the
// input's spatial size.
struct Frame {
  std::string x, out;
  std::vector<std::int64_t> hw;
};
Frame enter_nchw(const tf::NodeDef& node, ExportContext& ctx, int k = 0);
void leave_nchw(const tf::NodeDef& node, ExportContext& ctx, const Frame& f);

// Element bytes of `t` permuted: out.shape[k] = t.shape[perm[k]].
Tensor transposed(const Tensor& t, const std::vector<std::int64_t>& perm);

// Input `k` (a weight) in another layout: a permuted (and reshaped) initializer when it is a
// constant, so runtimes that want constant weights (TensorRT, OpenCV) get them; else nodes.
std::string permuted_weight(const tf::NodeDef& node, ExportContext& ctx, int k, const std::vector<std::int64_t>& perm,
                            const std::vector<std::int64_t>& reshape);

}  // namespace tffreeze::onnx_export
