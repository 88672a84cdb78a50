#include "graph/shape_inference.h"

#include <set>
#include <string>

#include "common/window_size.h"

namespace tffreeze::graph {
namespace {

const tf::AttrValue* attr(const tf::NodeDef& n, const char* key) {
  auto it = n.attr().find(key);
  return it == n.attr().end() ? nullptr : &it->second;
}

std::vector<std::int64_t> ints(const tf::NodeDef& n, const char* key) {
  std::vector<std::int64_t> v;
  if (const auto* a = attr(n, key))
    for (auto x : a->list().i()) v.push_back(x);
  return v;
}

bool nchw(const tf::NodeDef& n) {
  const auto* a = attr(n, "data_format");
  return a && a->s() == "NCHW";
}

// NumPy broadcasting.
std::optional<Dims> broadcast(const Dims& a, const Dims& b) {
  Dims out(std::max(a.size(), b.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::int64_t x = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const std::int64_t y = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (x != y && x != 1 && y != 1) return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

// One spatial dimension of a windowed op (TensorFlow's GetWindowedOutputSize).
std::optional<std::int64_t> windowed(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t dilation, const std::string& padding) {
  if (stride < 1 || dilation < 1 || k < 1) return std::nullopt;
  const std::int64_t effective = (k - 1) * dilation + 1;
  if (padding == "VALID") return valid_window_output(in, effective, stride);
  if (padding == "SAME") return (in + stride - 1) / stride;
  return std::nullopt;  // EXPLICIT: left to the kernel
}

std::optional<Dims> windowed_op(const tf::NodeDef& n, const Dims& x, std::int64_t kh, std::int64_t kw, std::int64_t channels) {
  if (x.size() != 4) return std::nullopt;
  const bool cf = nchw(n);
  auto strides = ints(n, "strides"), dilations = ints(n, "dilations");
  if (strides.size() != 4) return std::nullopt;
  if (dilations.size() != 4) dilations = {1, 1, 1, 1};
  const auto* pad = attr(n, "padding");
  if (!pad) return std::nullopt;
  const int h = cf ? 2 : 1, w = cf ? 3 : 2;
  auto oh = windowed(x[h], kh, strides[h], dilations[h], pad->s());
  auto ow = windowed(x[w], kw, strides[w], dilations[w], pad->s());
  if (!oh || !ow) return std::nullopt;
  return cf ? Dims{x[0], channels, *oh, *ow} : Dims{x[0], *oh, *ow, channels};
}

}  // namespace

std::optional<Dims> output_shape(const tf::NodeDef& n, const std::vector<Dims>& in, const std::vector<const Tensor*>& values) {
  static const std::set<std::string> kSameShape = {
      "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Softsign", "Identity", "Softmax", "LogSoftmax",
      "Neg", "Abs", "Sqrt", "Rsqrt", "Square", "Exp", "Log", "Floor", "Ceil", "Round", "Sign", "Reciprocal", "Erf", "Cast",
      "BiasAdd", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "LRN", "ZerosLike", "OnesLike", "ClipByValue"};
  static const std::set<std::string> kBroadcast = {"Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum",
                                                   "SquaredDifference", "Pow"};
  const std::string& op = n.op();
  if (in.empty()) return std::nullopt;
  if (kSameShape.count(op)) return in[0];
  if (kBroadcast.count(op) && in.size() == 2) return broadcast(in[0], in[1]);
  if ((op == "Conv2D" || op == "DepthwiseConv2dNative") && in.size() == 2 && in[1].size() == 4) {
    const std::int64_t channels = op == "Conv2D" ? in[1][3] : in[1][2] * in[1][3];
    return windowed_op(n, in[0], in[1][0], in[1][1], channels);
  }
  if (op == "MaxPool" || op == "AvgPool") {
    auto k = ints(n, "ksize");
    if (k.size() != 4 || in[0].size() != 4) return std::nullopt;
    const bool cf = nchw(n);
    return windowed_op(n, in[0], k[cf ? 2 : 1], k[cf ? 3 : 2], in[0][cf ? 1 : 3]);
  }
  if (op == "MatMul" && in.size() == 2 && in[0].size() == 2 && in[1].size() == 2) {
    const bool ta = attr(n, "transpose_a") && attr(n, "transpose_a")->b(), tb = attr(n, "transpose_b") && attr(n, "transpose_b")->b();
    return Dims{ta ? in[0][1] : in[0][0], tb ? in[1][0] : in[1][1]};
  }
  if (op == "ConcatV2" && in.size() >= 3 && values.size() == in.size() && values.back() && values.back()->num_elements() == 1) {
    const std::int64_t rank = static_cast<std::int64_t>(in[0].size());
    std::int64_t axis = static_cast<std::int64_t>(element_as_double(*values.back(), 0));
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return std::nullopt;
    Dims out = in[0];
    out[static_cast<std::size_t>(axis)] = 0;
    for (std::size_t k = 0; k + 1 < in.size(); ++k) {
      if (in[k].size() != in[0].size()) return std::nullopt;
      out[static_cast<std::size_t>(axis)] += in[k][static_cast<std::size_t>(axis)];
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace tffreeze::graph
