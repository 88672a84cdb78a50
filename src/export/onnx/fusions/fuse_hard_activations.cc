// The hard sigmoid and hard swish compositions as ONNX's HardSigmoid (max(0, min(1, alpha x +
// beta))) and HardSwish (x * HardSigmoid(x) with alpha 1/6, beta 1/2, opset 14):
//   Keras 2's hard_sigmoid      clip(0.2 x + 0.5, 0, 1)          -> HardSigmoid(0.2, 0.5)
//   MobileNet V3 / Keras 3      relu6(x + 3) * (1/6), or / 6     -> HardSigmoid(1/6, 1/2)
//   hard swish                  x * HardSigmoid(x; 1/6, 1/2)      -> HardSwish
//   TF-Slim's hard_swish        x * relu6(x + 3) * (1/6)          -> HardSwish
// A clip is Clip(y, lo, hi) with constant bounds, or Max(Min(y, hi), lo) / Min(Max(y, lo), hi)
// (TF's clip_by_value). The two forms differ from the fused op by a rounding or two of float32
// (scaling before or after the clip), far inside the export's tolerance.
#include <cmath>

#include "export/onnx/context.h"
#include "export/onnx/fusions/fusion_graph.h"

namespace tffreeze::onnx_export {
namespace {

struct Clip {
  std::string input;
  double lo = 0, hi = 0;
  std::vector<const onnx::NodeProto*> nodes;  // the clip's nodes, last one first
};

bool near(double a, double b) { return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b)); }

// min(y, bound) or max(y, bound) of a scalar constant bound: y and the bound.
std::optional<std::pair<std::string, double>> bounded(const onnx::NodeProto& n, const FusionGraph& g, const char* op) {
  if (n.op_type() != op || n.input_size() != 2) return std::nullopt;
  for (int k = 0; k < 2; ++k)
    if (auto s = g.scalar(n.input(1 - k))) return std::make_pair(n.input(k), *s);
  return std::nullopt;
}

// The clip `node` computes, if it is one; inner nodes must be read by the clip alone.
std::optional<Clip> match_clip(const onnx::NodeProto& node, const FusionGraph& g) {
  if (node.op_type() == "Clip" && node.input_size() == 3) {
    auto lo = g.scalar(node.input(1)), hi = g.scalar(node.input(2));
    if (lo && hi) return Clip{node.input(0), *lo, *hi, {&node}};
    return std::nullopt;
  }
  const bool max_outside = node.op_type() == "Max";
  auto outer = bounded(node, g, max_outside ? "Max" : "Min");
  if (!outer) return std::nullopt;
  const auto* inner_node = g.producer(outer->first);
  if (!inner_node || !g.only_read_once(*inner_node)) return std::nullopt;
  auto inner = bounded(*inner_node, g, max_outside ? "Min" : "Max");
  if (!inner) return std::nullopt;
  const double lo = max_outside ? outer->second : inner->second, hi = max_outside ? inner->second : outer->second;
  return Clip{inner->first, lo, hi, {&node, inner_node}};
}

// y = x + b or x * a of a scalar constant, produced for `reader` alone: x and the constant.
std::optional<std::pair<std::string, double>> scalar_op(const std::string& y, const char* op, const FusionGraph& g) {
  const auto* n = g.producer(y);
  if (!n || !g.only_read_once(*n)) return std::nullopt;
  auto r = bounded(*n, g, op);
  return r;
}

// v * s or v / d of a scalar constant: v and the factor (s, or 1/d).
std::optional<std::pair<std::string, double>> scaled(const onnx::NodeProto& n, const FusionGraph& g) {
  if (n.op_type() == "Mul") return bounded(n, g, "Mul");
  if (n.op_type() != "Div" || n.input_size() != 2) return std::nullopt;
  auto d = g.scalar(n.input(1));
  if (!d || *d == 0) return std::nullopt;
  return std::make_pair(n.input(0), 1.0 / *d);
}

// clip(x + b, 0, hi) under a factor s with hi * s = 1: HardSigmoid(x; s, b * s). `clip_value` is
// the clip's output; `nodes` collects the pattern's nodes.
std::optional<std::pair<std::string, std::pair<double, double>>> shifted_relu6(const std::string& clip_value, double s, const FusionGraph& g,
                                                                               std::vector<const onnx::NodeProto*>* nodes) {
  const auto* c = g.producer(clip_value);
  if (!c || !g.only_read_once(*c)) return std::nullopt;
  auto clip = match_clip(*c, g);
  if (!clip || clip->lo != 0 || !near(clip->hi * s, 1)) return std::nullopt;
  auto add = scalar_op(clip->input, "Add", g);
  if (!add) return std::nullopt;
  nodes->insert(nodes->end(), clip->nodes.begin(), clip->nodes.end());
  nodes->push_back(g.producer(clip->input));
  return std::make_pair(add->first, std::make_pair(s, add->second * s));
}

onnx::NodeProto* hard_sigmoid(FusionGraph& g, const onnx::NodeProto& last, const std::string& x, double alpha, double beta,
                              const std::vector<const onnx::NodeProto*>& removed) {
  auto* n = g.fuse(last, "HardSigmoid", {x}, removed);
  set_float(n, "alpha", static_cast<float>(alpha));
  set_float(n, "beta", static_cast<float>(beta));
  return n;
}

bool is_float(const FusionGraph& g, const std::string& v) { return g.elem_type(v) == onnx::TensorProto::FLOAT; }

}  // namespace

std::string fuse_hard_sigmoid(const onnx::NodeProto& node, FusionGraph& g) {
  const std::string name = targets::onnx_node_name(node);
  if (auto clip = match_clip(node, g); clip && clip->lo == 0 && clip->hi == 1) {  // clip(a x + b, 0, 1)
    auto add = scalar_op(clip->input, "Add", g);
    auto mul = add ? scalar_op(add->first, "Mul", g) : std::nullopt;
    if (!mul || !is_float(g, mul->first)) return "";
    auto removed = clip->nodes;
    removed.erase(removed.begin());
    removed.insert(removed.end(), {g.producer(clip->input), g.producer(add->first)});
    hard_sigmoid(g, node, mul->first, mul->second, add->second, removed);
    return "HardSigmoid '" + name + "': clip(a x + b, 0, 1)";
  }
  auto scale = scaled(node, g);
  if (!scale) return "";
  std::vector<const onnx::NodeProto*> removed;
  auto hs = shifted_relu6(scale->first, scale->second, g, &removed);
  if (!hs || !is_float(g, hs->first)) return "";
  hard_sigmoid(g, node, hs->first, hs->second.first, hs->second.second, removed);
  return "HardSigmoid '" + name + "': relu6(x + 3) / 6";
}

std::string fuse_hard_swish(const onnx::NodeProto& node, FusionGraph& g) {
  if (g.opset() < 14 || node.op_type() != "Mul" || node.input_size() != 2) return "";
  const std::string name = targets::onnx_node_name(node);
  for (int k = 0; k < 2; ++k) {  // x * HardSigmoid(x; 1/6, 1/2)
    const auto* sig = g.producer(node.input(k));
    if (!sig || sig->op_type() != "HardSigmoid" || !g.only_read_once(*sig) || sig->input(0) != node.input(1 - k)) continue;
    if (!near(targets::onnx_attr_float(*sig, "alpha", 0.2f), 1.0 / 6) || !near(targets::onnx_attr_float(*sig, "beta", 0.5f), 0.5)) continue;
    g.fuse(node, "HardSwish", {sig->input(0)}, {sig});
    return "HardSwish '" + name + "': x * HardSigmoid(x)";
  }
  auto scale = scaled(node, g);  // (x * relu6(x + 3)) * (1/6)
  const auto* product = scale ? g.producer(scale->first) : nullptr;
  if (!product || product->op_type() != "Mul" || product->input_size() != 2 || !g.only_read_once(*product)) return "";
  for (int k = 0; k < 2; ++k) {
    std::vector<const onnx::NodeProto*> removed = {product};
    auto hs = shifted_relu6(product->input(k), scale->second, g, &removed);
    if (!hs || hs->first != product->input(1 - k) || !near(hs->second.first, 1.0 / 6) || !near(hs->second.second, 0.5) || !is_float(g, hs->first)) continue;
    g.fuse(node, "HardSwish", {hs->first}, removed);
    return "HardSwish '" + name + "': x * relu6(x + 3) / 6";
  }
  return "";
}

}  // namespace tffreeze::onnx_export
