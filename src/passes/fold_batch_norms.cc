// fold_batch_norms: an inference-mode batch norm after a convolution or matrix product is
// folded into the weights, leaving conv + BiasAdd:
//
//   FusedBatchNorm{,V2,V3}(is_training=false)        ->  BiasAdd(name of the batch norm)
//     x: Conv2D|DepthwiseConv2dNative|MatMul(*, W)   ->    Conv2D|...|MatMul(*, W * scale)
//        or BiasAdd|Add|AddV2(that, Const b)         ->    bias: (b - mean) * scale + offset
//     scale, offset, mean, variance: Const            (scale = gamma / sqrt(variance + epsilon))
//
// Decomposed batch norms (Mul/Rsqrt/Sub/Add) fold too once fold_constants has reduced them to a
// per-channel scale and shift (see fold_decomposed below).
// The BiasAdd-between form is the one optimize_for_inference rejects ("Didn't find expected
// Conv2D input to bn"). Refused, with the reason: weights or intermediate results that other
// nodes also read, batch norms in training mode, non-constant parameters, layout mismatches.
#include <cmath>
#include <optional>

#include "common/dtype.h"
#include "graph/node_builders.h"
#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

bool is_batch_norm(const std::string& op) {
  return op == "FusedBatchNorm" || op == "FusedBatchNormV2" || op == "FusedBatchNormV3" || op == "BatchNormWithGlobalNormalization";
}
bool is_foldable_producer(const std::string& op) {
  return op == "Conv2D" || op == "DepthwiseConv2dNative" || op == "MatMul" || op == "Conv2DBackpropInput";
}

// Where the output channel sits in a layer's weights: how many there are, and the stride
// between consecutive weights of one channel's run (flat index k has channel (k / stride) % C).
struct ChannelLayout {
  std::size_t channels = 0, stride = 1;
};
ChannelLayout channel_layout(const std::string& op, const std::vector<std::int64_t>& w) {
  if (w.empty()) return {};
  if (op == "DepthwiseConv2dNative" && w.size() == 4) return {static_cast<std::size_t>(w[2] * w[3]), 1};
  if (op == "Conv2DBackpropInput" && w.size() == 4) return {static_cast<std::size_t>(w[2]), static_cast<std::size_t>(w[3])};  // [kh, kw, out, in]
  return {static_cast<std::size_t>(w.back()), 1};
}
// Runs of `stride` weights, channel after channel (no division per weight: this touches every
// weight of the model).
void scale_weights(FloatConst* w, const ChannelLayout& l, const std::vector<float>& scale) {
  const std::size_t period = l.stride * l.channels;
  float* at = w->values();
  for (std::size_t base = 0; base + period <= w->size(); base += period)
    for (std::size_t c = 0; c < l.channels; ++c)
      for (std::size_t s = 0; s < l.stride; ++s, ++at) *at *= scale[c];
}

// ---- decomposed batch norms -------------------------------------------------------------
// After fold_constants, a batch norm written out as Mul/Rsqrt/Sub/Add is a per-channel scale and
// shift:  Add(Mul(y, Const s), Const t)  with y = conv-like (+ constant bias). Both fold:
//   Mul(y, s)            ->  weights * s, bias * s        (the Mul becomes the BiasAdd)
//   Add(BiasAdd(c, b), t) ->  BiasAdd(c, b + t)
//   Add(conv-like, t)     ->  BiasAdd(conv-like, t)

struct ConvLike {
  int conv = -1, bias_node = -1, weights = -1, bias_const = -1;
  std::size_t channels = 0;
  ChannelLayout layout;
};

// y as conv-like (+ constant BiasAdd/Add), with every intermediate read only by its successor.
std::optional<ConvLike> match_conv_like(const graph::GraphView& view, int y) {
  ConvLike m;
  int node = y;
  const std::string& op = view.node(node).op();
  if (op == "BiasAdd" || op == "Add" || op == "AddV2") {
    m.bias_node = node;
    m.bias_const = const_through_identity(view, node, 1);
    const graph::Edge* in = data_input(view, node, 0);
    if (m.bias_const < 0 || !in) return std::nullopt;
    node = in->producer;
  }
  if (!is_foldable_producer(view.node(node).op())) return std::nullopt;
  if (view.node(node).op() == "MatMul" && view.node(node).attr().count("transpose_b") && view.node(node).attr().at("transpose_b").b())
    return std::nullopt;
  std::vector<int> chain;
  m.conv = node;
  m.weights = const_through_identity(view, node, 1, &chain);
  if (m.weights < 0 || consumer_count(view, m.weights) != 1 || consumer_count(view, m.conv) != 1) return std::nullopt;
  for (int c : chain)
    if (consumer_count(view, c) != 1) return std::nullopt;
  if (m.bias_node >= 0 && consumer_count(view, m.bias_node) != 1) return std::nullopt;
  std::vector<std::int64_t> dims;
  for (const auto& d : view.node(m.weights).attr().at("value").tensor().tensor_shape().dim()) dims.push_back(d.size());
  m.layout = channel_layout(view.node(node).op(), dims);
  m.channels = m.layout.channels;
  if (m.channels == 0) return std::nullopt;
  return m;
}

void fold_decomposed(tf::GraphDef* graph, const PassContext& ctx, PassReport* report) {
  for (bool progress = true; progress;) {
    progress = false;
    graph::GraphView view(*graph);
    for (int i = 0; i < view.size() && !progress; ++i) {
      const tf::NodeDef& node = view.node(i);
      const bool is_mul = node.op() == "Mul", is_add = node.op() == "Add" || node.op() == "AddV2";
      if (!is_mul && !is_add) continue;
      // Which operand is the constant (either order: Mul(Const, x) is common).
      int k = const_through_identity(view, i, 1) >= 0 ? 1 : const_through_identity(view, i, 0) >= 0 ? 0 : -1;
      const graph::Edge* other = k >= 0 ? data_input(view, i, 1 - k) : nullptr;
      if (!other || other->output != 0) continue;
      auto m = match_conv_like(view, other->producer);
      if (!m || is_interface(ctx.outputs, view.node(other->producer).name())) continue;
      if (m->conv != other->producer && view.node(m->conv).op() != "MatMul") {
        const std::string fmt = view.node(m->conv).attr().count("data_format") ? view.node(m->conv).attr().at("data_format").s() : "NHWC";
        if (fmt != "NHWC") continue;  // per-channel vectors broadcast along the last axis only
      }
      const int constant = const_through_identity(view, i, k);
      auto vec = channel_vector(const_value(view.node(constant)), m->channels);
      if (vec.empty()) continue;
      if (is_add && m->bias_node < 0 && view.node(other->producer).op() != "MatMul" && view.node(other->producer).op() != "Conv2D" &&
          view.node(other->producer).op() != "DepthwiseConv2dNative") {
        continue;
      }
      std::vector<float> bias(m->channels, 0.0f);
      if (m->bias_node >= 0) {
        auto b = channel_vector(const_value(view.node(m->bias_const)), m->channels);
        if (b.empty()) continue;
        bias = b;
      }
      const std::string name = node.name(), conv_name = view.node(m->conv).name();
      std::vector<bool> remove(static_cast<std::size_t>(view.size()), false);
      if (is_mul) {
        FloatConst w = read_float_const(view.node(m->weights));
        if (w.dtype != tf::DT_FLOAT) continue;
        scale_weights(&w, m->layout, vec);
        for (std::size_t c = 0; c < m->channels; ++c) bias[c] *= vec[c];
        write_float_const(graph->mutable_node(m->weights), std::move(w));
      } else {
        for (std::size_t c = 0; c < m->channels; ++c) bias[c] += vec[c];
      }
      if (m->bias_node >= 0) remove[static_cast<std::size_t>(m->bias_node)] = true;
      if (consumer_count(view, constant) == 1) remove[static_cast<std::size_t>(constant)] = true;
      const std::string bias_name = graph::UniqueNames(*graph).fresh(name + "/folded_bias");
      *graph->mutable_node(i) = bias_add_node(name, conv_name, bias_name, node);
      *graph->add_node() = graph::make_const(bias_name, float_tensor({static_cast<std::int64_t>(m->channels)}, bias));
      remove.push_back(false);
      erase_nodes(graph, remove);
      ++report->changed;
      progress = true;
    }
  }
}

PassReport fold_batch_norms(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  for (bool progress = true; progress;) {  // one fold per view: indices change after each
    progress = false;
    graph::GraphView view(*graph);
    for (int bn = 0; bn < view.size() && !progress; ++bn) {
      const tf::NodeDef& node = view.node(bn);
      if (!is_batch_norm(node.op())) continue;
      const std::string at = "node '" + node.name() + "': ";
      auto refuse = [&](const std::string& why) { report.refused.push_back(at + why); };
      const bool global = node.op() == "BatchNormWithGlobalNormalization";  // (t, mean, var, beta, gamma), never training
      auto it = node.attr().find("is_training");
      if (!global && (it == node.attr().end() || it->second.b())) {
        refuse("in training mode (is_training=true): its statistics come from the batch");
        continue;
      }
      bool extra_outputs = false;
      for (const auto& e : view.consumers(bn)) extra_outputs |= !e.control() && e.output > 0;
      if (extra_outputs) {
        refuse("its batch mean/variance outputs are used");
        continue;
      }
      int params[4];
      bool all_const = true;
      // Fused order: scale (gamma), offset (beta), mean, variance.
      const int slots[4] = {global ? 4 : 1, global ? 3 : 2, global ? 1 : 3, global ? 2 : 4};
      for (int k = 0; k < 4; ++k) all_const &= (params[k] = const_through_identity(view, bn, slots[k])) >= 0;
      if (!all_const) {
        refuse("scale, offset, mean or variance is not a constant");
        continue;
      }
      const graph::Edge* x = data_input(view, bn, 0);
      if (!x || x->output != 0) continue;
      const bool scaled = !global || !node.attr().count("scale_after_normalization") || node.attr().at("scale_after_normalization").b();
      int bias_node = -1, producer = x->producer;
      const std::string& pop = view.node(producer).op();
      if (pop == "BiasAdd" || pop == "Add" || pop == "AddV2") {
        bias_node = producer;
        const graph::Edge* inner = data_input(view, producer, 0);
        if (!inner || const_through_identity(view, producer, 1) < 0) {
          refuse("its input " + pop + " does not add a constant");
          continue;
        }
        producer = inner->producer;
      }
      const tf::NodeDef& conv = view.node(producer);
      if (!is_foldable_producer(conv.op())) {
        refuse("its input is a " + conv.op() + ", not a Conv2D, DepthwiseConv2dNative, Conv2DBackpropInput or MatMul (with an optional constant bias)");
        continue;
      }
      if (consumer_count(view, producer) != 1 || (bias_node >= 0 && consumer_count(view, bias_node) != 1)) {
        refuse("'" + conv.name() + "' (or its bias) has other consumers, which expect the unfolded values");
        continue;
      }
      if (is_interface(ctx.outputs, conv.name()) || (bias_node >= 0 && is_interface(ctx.outputs, view.node(bias_node).name()))) {
        refuse("'" + conv.name() + "' is an output of the graph");
        continue;
      }
      std::vector<int> chain;
      const int weights = const_through_identity(view, producer, 1, &chain);
      if (weights < 0) {
        refuse("the weights of '" + conv.name() + "' are not a constant");
        continue;
      }
      bool shared = consumer_count(view, weights) != 1;
      for (int c : chain) shared |= consumer_count(view, c) != 1;
      if (shared) {
        refuse("the weights of '" + conv.name() + "' are shared with other nodes");
        continue;
      }
      const std::string bn_format = node.attr().count("data_format") ? node.attr().at("data_format").s() : "NHWC";
      const std::string conv_format = conv.attr().count("data_format") ? conv.attr().at("data_format").s() : "NHWC";
      if (conv.op() != "MatMul" && bn_format != conv_format) {
        refuse("data formats differ (" + conv_format + " conv, " + bn_format + " batch norm)");
        continue;
      }
      if (conv.op() == "MatMul" && conv.attr().count("transpose_b") && conv.attr().at("transpose_b").b()) {
        refuse("MatMul with transpose_b is not folded yet");
        continue;
      }
      FloatConst w = read_float_const(view.node(weights));
      if (w.dtype != tf::DT_FLOAT) {
        refuse("weights are " + dtype_name(w.dtype) + ", not float32");
        continue;
      }
      auto gamma = floats_of(const_value(view.node(params[0]))), beta = floats_of(const_value(view.node(params[1])));
      auto mean = floats_of(const_value(view.node(params[2]))), var = floats_of(const_value(view.node(params[3])));
      const char* eps_attr = global ? "variance_epsilon" : "epsilon";
      const float eps = node.attr().count(eps_attr) ? node.attr().at(eps_attr).f() : global ? 0.001f : 1e-4f;
      if (!scaled) gamma.assign(gamma.size(), 1.0f);
      const ChannelLayout layout = channel_layout(conv.op(), w.shape);
      const std::size_t C = layout.channels;
      if (gamma.size() != C || beta.size() != C || mean.size() != C || var.size() != C) {
        refuse("parameters have " + std::to_string(gamma.size()) + " values for " + std::to_string(C) + " channels");
        continue;
      }
      std::vector<float> scale(C), bias(C, 0.0f);
      if (bias_node >= 0) {
        auto b = floats_of(const_value(view.node(const_through_identity(view, bias_node, 1))));
        if (b.size() != C) {
          refuse("the bias has " + std::to_string(b.size()) + " values for " + std::to_string(C) + " channels");
          continue;
        }
        bias = b;
      }
      for (std::size_t c = 0; c < C; ++c) {
        scale[c] = gamma[c] / std::sqrt(var[c] + eps);
        bias[c] = (bias[c] - mean[c]) * scale[c] + beta[c];
      }
      // Output channel: the last index of the weights (depthwise: in_channel * M + m; transposed
      // convolution: [kh, kw, out, in]).
      scale_weights(&w, layout, scale);
      const std::string conv_name = conv.name(), bn_name = node.name(), weights_name = view.node(weights).name();
      const std::string conv_out = conv_name, data_format = conv.op() == "MatMul" ? "NHWC" : conv_format;
      std::vector<bool> remove(static_cast<std::size_t>(view.size()), false);
      if (bias_node >= 0) remove[static_cast<std::size_t>(bias_node)] = true;
      for (int k = 0; k < 4; ++k)
        if (consumer_count(view, params[k]) == 1) remove[static_cast<std::size_t>(params[k])] = true;
      // Rewrite in place: the weights constant, and the batch norm becomes the BiasAdd.
      write_float_const(graph->mutable_node(weights), std::move(w));
      const std::string bias_name = graph::UniqueNames(*graph).fresh(bn_name + "/folded_bias");
      *graph->mutable_node(bn) = bias_add_node(bn_name, conv_out, bias_name, node, data_format);
      *graph->add_node() = graph::make_const(bias_name, float_tensor({static_cast<std::int64_t>(C)}, bias));
      remove.push_back(false);
      erase_nodes(graph, remove);
      ++report.changed;
      progress = true;
    }
  }
  fold_decomposed(graph, ctx, &report);
  return report;
}

}  // namespace

void register_fold_batch_norms(PassRegistry& r) {
  r.add("fold_batch_norms", fold_batch_norms,
        "fold inference batch norms (FusedBatchNorm V1-V3, BatchNormWithGlobalNormalization, and Mul/Add by per-channel constants: the decomposed form "
        "after fold_constants) into the weights of a preceding Conv2D, DepthwiseConv2dNative, Conv2DBackpropInput or MatMul, also "
        "across a "
        "constant BiasAdd/Add");
}

}  // namespace tffreeze::passes
