#include "modelgen/models.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "common/error.h"
#include "io/checkpoint/bundle_writer.h"

namespace tffreeze::modelgen {
namespace {

using graph::GraphBuilder;

// A feature map flowing through the model: its tensor, channels and spatial size.
struct Feature {
  std::string t;
  std::int64_t c = 0, h = 0, w = 0;
};

std::int64_t out_size(std::int64_t in, int k, int stride, const std::string& padding) {
  return padding == "VALID" ? (in - k) / stride + 1 : (in + stride - 1) / stride;
}

// The layers the three models share, with names in each model's own style.
class Layers {
 public:
  explicit Layers(TrainingGraph& g) : g_(g) {}
  TrainingGraph& g() { return g_; }

  // slim.conv2d: weights, Conv2D, BatchNorm (scale=false), Relu.
  Feature slim_conv(const std::string& scope, const Feature& x, std::int64_t out, int kh, int kw, int stride, const std::string& padding) {
    const std::string w = g_.variable(scope + "/weights", {kh, kw, x.c, out}, Role::kWeights, true, kh * kw * x.c);
    g_.conv(scope + "/Conv2D", x.t, w, stride, stride, padding);
    const std::string bn = g_.batch_norm(scope + "/BatchNorm", scope + "/Conv2D", out, "FusedBatchNorm", false);
    g_.builder().node(scope + "/Relu", "Relu", {bn});
    return {scope + "/Relu", out, out_size(x.h, kh, stride, padding), out_size(x.w, kw, stride, padding)};
  }
  Feature pool(const std::string& name, const std::string& op, const Feature& x, int k, int stride, const std::string& padding) {
    g_.pool(name, op, x.t, k, stride, padding);
    return {name, x.c, out_size(x.h, k, stride, padding), out_size(x.w, k, stride, padding)};
  }
  Feature concat(const std::string& name, const std::vector<Feature>& parts) {
    std::vector<std::string> ts;
    std::int64_t c = 0;
    for (const auto& p : parts) {
      ts.push_back(p.t);
      c += p.c;
    }
    g_.concat(name, ts, 3);
    return {name, c, parts[0].h, parts[0].w};
  }
  // A 1x1 (or kxk) convolution with biases and no batch norm: the classifier heads.
  std::string conv_logits(const std::string& scope, const Feature& x, std::int64_t classes, int k) {
    const std::string w = g_.variable(scope + "/weights", {k, k, x.c, classes}, Role::kWeights, true, k * k * x.c);
    const std::string b = g_.variable(scope + "/biases", {classes}, Role::kBias);
    g_.conv(scope + "/Conv2D", x.t, w, 1, 1, "VALID");
    g_.builder().node(scope + "/BiasAdd", "BiasAdd", {scope + "/Conv2D", b});
    GraphBuilder::attr(g_.builder().graph().mutable_node(g_.builder().graph().node_size() - 1), "data_format").set_s("NHWC");
    return scope + "/BiasAdd";
  }
  std::string squeeze(const std::string& name, const std::string& x) {
    auto* s = g_.builder().node(name, "Squeeze", {x});
    GraphBuilder::set_ints(s, "squeeze_dims", {1, 2});
    return name;
  }
  std::string dense(const std::string& scope, const std::string& x, std::int64_t in, std::int64_t out) {
    const std::string w = g_.variable(scope + "/kernel", {in, out}, Role::kWeights, true, in);
    const std::string b = g_.variable(scope + "/bias", {out}, Role::kBias);
    auto* m = g_.builder().node(scope + "/MatMul", "MatMul", {x, w});
    GraphBuilder::attr(m, "transpose_a").set_b(false);
    GraphBuilder::attr(m, "transpose_b").set_b(false);
    g_.builder().node(scope + "/BiasAdd", "BiasAdd", {scope + "/MatMul", b});
    GraphBuilder::attr(g_.builder().graph().mutable_node(g_.builder().graph().node_size() - 1), "data_format").set_s("NHWC");
    return scope + "/BiasAdd";
  }
  std::string pad(const std::string& name, const std::string& x, int p) {
    g_.builder().ints(name + "/paddings", {0, 0, p, p, p, p, 0, 0}, {4, 2});
    auto* n = g_.builder().node(name, "Pad", {x, name + "/paddings"});
    GraphBuilder::attr(n, "Tpaddings").set_type(tf::DT_INT32);
    return name;
  }

 private:
  TrainingGraph& g_;
};

std::int64_t scaled(double width, std::int64_t depth, std::int64_t min_depth) {
  return std::max<std::int64_t>(static_cast<std::int64_t>(static_cast<double>(depth) * width), min_depth);
}

// What every training script adds after the model: loss and optimizer, moving averages, a Saver.
void finish_training(TrainingGraph& g, const std::string& logits, Optimizer optimizer, float ema_decay) {
  g.add_training(logits, "", optimizer);
  g.add_moving_averages(ema_decay);
  g.add_saver();
}

// ---- Inception V3 (tf-slim nets/inception_v3.py layout and names) -------------------------------

Feature inception_a(Layers& L, const std::string& s, const Feature& x, double w, std::int64_t pool_depth, bool v2_names) {
  auto d = [&](std::int64_t v) { return scaled(w, v, 16); };
  Feature b0 = L.slim_conv(s + "/Branch_0/Conv2d_0a_1x1", x, d(64), 1, 1, 1, "SAME");
  Feature b1 = L.slim_conv(s + "/Branch_1/Conv2d_0a_1x1", x, d(48), 1, 1, 1, "SAME");
  b1 = L.slim_conv(s + (v2_names ? "/Branch_1/Conv_1_0c_5x5" : "/Branch_1/Conv2d_0b_5x5"), b1, d(64), 5, 5, 1, "SAME");
  Feature b2 = L.slim_conv(s + "/Branch_2/Conv2d_0a_1x1", x, d(64), 1, 1, 1, "SAME");
  b2 = L.slim_conv(s + "/Branch_2/Conv2d_0b_3x3", b2, d(96), 3, 3, 1, "SAME");
  b2 = L.slim_conv(s + "/Branch_2/Conv2d_0c_3x3", b2, d(96), 3, 3, 1, "SAME");
  Feature b3 = L.pool(s + "/Branch_3/AvgPool_0a_3x3/AvgPool", "AvgPool", x, 3, 1, "SAME");
  b3 = L.slim_conv(s + "/Branch_3/Conv2d_0b_1x1", b3, d(pool_depth), 1, 1, 1, "SAME");
  return L.concat(s + "/concat", {b0, b1, b2, b3});
}

Feature inception_c(Layers& L, const std::string& s, const Feature& x, double w, std::int64_t mid) {
  auto d = [&](std::int64_t v) { return scaled(w, v, 16); };
  Feature b0 = L.slim_conv(s + "/Branch_0/Conv2d_0a_1x1", x, d(192), 1, 1, 1, "SAME");
  Feature b1 = L.slim_conv(s + "/Branch_1/Conv2d_0a_1x1", x, d(mid), 1, 1, 1, "SAME");
  b1 = L.slim_conv(s + "/Branch_1/Conv2d_0b_1x7", b1, d(mid), 1, 7, 1, "SAME");
  b1 = L.slim_conv(s + "/Branch_1/Conv2d_0c_7x1", b1, d(192), 7, 1, 1, "SAME");
  Feature b2 = L.slim_conv(s + "/Branch_2/Conv2d_0a_1x1", x, d(mid), 1, 1, 1, "SAME");
  b2 = L.slim_conv(s + "/Branch_2/Conv2d_0b_7x1", b2, d(mid), 7, 1, 1, "SAME");
  b2 = L.slim_conv(s + "/Branch_2/Conv2d_0c_1x7", b2, d(mid), 1, 7, 1, "SAME");
  b2 = L.slim_conv(s + "/Branch_2/Conv2d_0d_7x1", b2, d(mid), 7, 1, 1, "SAME");
  b2 = L.slim_conv(s + "/Branch_2/Conv2d_0e_1x7", b2, d(192), 1, 7, 1, "SAME");
  Feature b3 = L.pool(s + "/Branch_3/AvgPool_0a_3x3/AvgPool", "AvgPool", x, 3, 1, "SAME");
  b3 = L.slim_conv(s + "/Branch_3/Conv2d_0b_1x1", b3, d(192), 1, 1, 1, "SAME");
  return L.concat(s + "/concat", {b0, b1, b2, b3});
}

Feature inception_e(Layers& L, const std::string& s, const Feature& x, double w, bool v2_names) {
  auto d = [&](std::int64_t v) { return scaled(w, v, 16); };
  Feature b0 = L.slim_conv(s + "/Branch_0/Conv2d_0a_1x1", x, d(320), 1, 1, 1, "SAME");
  Feature b1 = L.slim_conv(s + "/Branch_1/Conv2d_0a_1x1", x, d(384), 1, 1, 1, "SAME");
  Feature b1a = L.slim_conv(s + "/Branch_1/Conv2d_0b_1x3", b1, d(384), 1, 3, 1, "SAME");
  Feature b1b = L.slim_conv(s + (v2_names ? "/Branch_1/Conv2d_0c_3x1" : "/Branch_1/Conv2d_0b_3x1"), b1, d(384), 3, 1, 1, "SAME");
  b1 = L.concat(s + "/Branch_1/concat", {b1a, b1b});
  Feature b2 = L.slim_conv(s + "/Branch_2/Conv2d_0a_1x1", x, d(448), 1, 1, 1, "SAME");
  b2 = L.slim_conv(s + "/Branch_2/Conv2d_0b_3x3", b2, d(384), 3, 3, 1, "SAME");
  Feature b2a = L.slim_conv(s + "/Branch_2/Conv2d_0c_1x3", b2, d(384), 1, 3, 1, "SAME");
  Feature b2b = L.slim_conv(s + "/Branch_2/Conv2d_0d_3x1", b2, d(384), 3, 1, 1, "SAME");
  b2 = L.concat(s + "/Branch_2/concat", {b2a, b2b});
  Feature b3 = L.pool(s + "/Branch_3/AvgPool_0a_3x3/AvgPool", "AvgPool", x, 3, 1, "SAME");
  b3 = L.slim_conv(s + "/Branch_3/Conv2d_0b_1x1", b3, d(192), 1, 1, 1, "SAME");
  return L.concat(s + "/concat", {b0, b1, b2, b3});
}

void inception_v3(GeneratedModel& m, const ModelOptions& o) {
  const int size = o.image_size ? o.image_size : 299;
  if (size < 75) throw Error(ExitCode::kUsage, "inception_v3: --image-size must be at least 75");
  const double w = o.width;
  auto d = [&](std::int64_t v) { return scaled(w, v, 16); };
  TrainingGraph& g = m.graph;
  Layers L(g);
  m.input = g.queue_input("batch", {o.batch, size, size, 3});
  m.input_shape = {1, size, size, 3};
  const std::string s = "InceptionV3";
  Feature x{m.input, 3, size, size};
  x = L.slim_conv(s + "/Conv2d_1a_3x3", x, d(32), 3, 3, 2, "VALID");
  x = L.slim_conv(s + "/Conv2d_2a_3x3", x, d(32), 3, 3, 1, "VALID");
  x = L.slim_conv(s + "/Conv2d_2b_3x3", x, d(64), 3, 3, 1, "SAME");
  x = L.pool(s + "/MaxPool_3a_3x3/MaxPool", "MaxPool", x, 3, 2, "VALID");
  x = L.slim_conv(s + "/Conv2d_3b_1x1", x, d(80), 1, 1, 1, "VALID");
  x = L.slim_conv(s + "/Conv2d_4a_3x3", x, d(192), 3, 3, 1, "VALID");
  x = L.pool(s + "/MaxPool_5a_3x3/MaxPool", "MaxPool", x, 3, 2, "VALID");
  x = inception_a(L, s + "/Mixed_5b", x, w, 32, false);
  x = inception_a(L, s + "/Mixed_5c", x, w, 64, true);
  x = inception_a(L, s + "/Mixed_5d", x, w, 64, false);
  {  // Mixed_6a: grid reduction
    const std::string b = s + "/Mixed_6a";
    Feature b0 = L.slim_conv(b + "/Branch_0/Conv2d_1a_1x1", x, d(384), 3, 3, 2, "VALID");
    Feature b1 = L.slim_conv(b + "/Branch_1/Conv2d_0a_1x1", x, d(64), 1, 1, 1, "SAME");
    b1 = L.slim_conv(b + "/Branch_1/Conv2d_0b_3x3", b1, d(96), 3, 3, 1, "SAME");
    b1 = L.slim_conv(b + "/Branch_1/Conv2d_1a_1x1", b1, d(96), 3, 3, 2, "VALID");
    Feature b2 = L.pool(b + "/Branch_2/MaxPool_1a_3x3/MaxPool", "MaxPool", x, 3, 2, "VALID");
    x = L.concat(b + "/concat", {b0, b1, b2});
  }
  x = inception_c(L, s + "/Mixed_6b", x, w, 128);
  x = inception_c(L, s + "/Mixed_6c", x, w, 160);
  x = inception_c(L, s + "/Mixed_6d", x, w, 160);
  x = inception_c(L, s + "/Mixed_6e", x, w, 192);
  const Feature mixed_6e = x;
  {  // Mixed_7a: grid reduction
    const std::string b = s + "/Mixed_7a";
    Feature b0 = L.slim_conv(b + "/Branch_0/Conv2d_0a_1x1", x, d(192), 1, 1, 1, "SAME");
    b0 = L.slim_conv(b + "/Branch_0/Conv2d_1a_3x3", b0, d(320), 3, 3, 2, "VALID");
    Feature b1 = L.slim_conv(b + "/Branch_1/Conv2d_0a_1x1", x, d(192), 1, 1, 1, "SAME");
    b1 = L.slim_conv(b + "/Branch_1/Conv2d_0b_1x7", b1, d(192), 1, 7, 1, "SAME");
    b1 = L.slim_conv(b + "/Branch_1/Conv2d_0c_7x1", b1, d(192), 7, 1, 1, "SAME");
    b1 = L.slim_conv(b + "/Branch_1/Conv2d_1a_3x3", b1, d(192), 3, 3, 2, "VALID");
    Feature b2 = L.pool(b + "/Branch_2/MaxPool_1a_3x3/MaxPool", "MaxPool", x, 3, 2, "VALID");
    x = L.concat(b + "/concat", {b0, b1, b2});
  }
  x = inception_e(L, s + "/Mixed_7b", x, w, false);
  x = inception_e(L, s + "/Mixed_7c", x, w, true);
  // Auxiliary classifier on Mixed_6e: used by the training loss only.
  {
    const std::string a = s + "/AuxLogits";
    Feature y = L.pool(a + "/AvgPool_1a_5x5/AvgPool", "AvgPool", mixed_6e, 5, 3, "VALID");
    y = L.slim_conv(a + "/Conv2d_1b_1x1", y, d(128), 1, 1, 1, "SAME");
    y = L.slim_conv(a + "/Conv2d_2a_" + std::to_string(y.h) + "x" + std::to_string(y.w), y, d(768), static_cast<int>(y.h),
                    static_cast<int>(y.w), 1, "VALID");
    L.squeeze(a + "/SpatialSqueeze", L.conv_logits(a + "/Conv2d_2b_1x1", y, o.classes, 1));
  }
  const std::string lg = s + "/Logits";
  Feature pooled = L.pool(lg + "/AvgPool_1a_" + std::to_string(x.h) + "x" + std::to_string(x.w) + "/AvgPool", "AvgPool", x,
                          static_cast<int>(x.h), 1, "VALID");
  const std::string dropped = g.dropout_cond(lg + "/Dropout_1b", pooled.t, 0.8f);
  const std::string logits = L.squeeze(lg + "/SpatialSqueeze", L.conv_logits(lg + "/Conv2d_1c_1x1", {dropped, pooled.c, 1, 1}, o.classes, 1));
  // Predictions: reshape to 2-D, softmax, reshape back to the logits' (dynamic) shape.
  const std::string p = s + "/Predictions";
  auto* r = g.builder().node(p + "/Reshape", "Reshape", {logits, g.builder().ints(p + "/Reshape/shape", {-1, o.classes})});
  GraphBuilder::attr(r, "Tshape").set_type(tf::DT_INT32);
  g.builder().node(p + "/Softmax", "Softmax", {p + "/Reshape"});
  auto* shape = g.builder().node(p + "/Shape", "Shape", {logits});
  GraphBuilder::attr(shape, "out_type").set_type(tf::DT_INT32);
  auto* r1 = g.builder().node(p + "/Reshape_1", "Reshape", {p + "/Softmax", p + "/Shape"});
  GraphBuilder::attr(r1, "Tshape").set_type(tf::DT_INT32);
  m.output = p + "/Reshape_1";
  finish_training(g, logits, Optimizer::kRmsProp, 0.9999f);
}

// ---- MobileNet V1 as users write it -------------------------------------------------------------

void mobilenet_v1(GeneratedModel& m, const ModelOptions& o) {
  const int size = o.image_size ? o.image_size : 224;
  if (size < 32) throw Error(ExitCode::kUsage, "mobilenet_v1: --image-size must be at least 32");
  if (o.batch_norm != "fused" && o.batch_norm != "decomposed")
    throw Error(ExitCode::kUsage, "--batch-norm must be fused or decomposed, not '" + o.batch_norm + "'");
  TrainingGraph& g = m.graph;
  Layers L(g);
  m.input = g.queue_input("input_batch", {o.batch, size, size, 3});
  m.input_shape = {1, size, size, 3};
  auto d = [&](std::int64_t v) { return scaled(o.width, v, 8); };
  const std::string s = "MobilenetV1";
  // conv (with bias) -> BiasAdd -> batch_normalization -> Relu6
  auto layer = [&](const std::string& scope, const Feature& x, std::int64_t out, int k, int stride, bool depthwise) {
    const std::string w = depthwise ? g.variable(scope + "/depthwise_weights", {k, k, x.c, 1}, Role::kWeights, true, k * k)
                                    : g.variable(scope + "/weights", {k, k, x.c, out}, Role::kWeights, true, k * k * x.c);
    const std::string b = g.variable(scope + "/biases", {depthwise ? x.c : out}, Role::kBias);
    const std::int64_t c = depthwise ? x.c : out;
    g.conv(scope + (depthwise ? "/depthwise" : "/Conv2D"), x.t, w, stride, stride, "SAME", depthwise);
    g.builder().node(scope + "/BiasAdd", "BiasAdd", {scope + (depthwise ? "/depthwise" : "/Conv2D"), b});
    GraphBuilder::attr(g.builder().graph().mutable_node(g.builder().graph().node_size() - 1), "data_format").set_s("NHWC");
    const std::string bn = o.batch_norm == "fused" ? g.batch_norm(scope + "/BatchNorm", scope + "/BiasAdd", c, "FusedBatchNorm", true)
                                                   : g.batch_norm_decomposed(scope + "/BatchNorm", scope + "/BiasAdd", c);
    g.builder().node(scope + "/Relu6", "Relu6", {bn});
    return Feature{scope + "/Relu6", c, out_size(x.h, k, stride, "SAME"), out_size(x.w, k, stride, "SAME")};
  };
  Feature x{m.input, 3, size, size};
  x = layer(s + "/Conv2d_0", x, d(32), 3, 2, false);
  const std::vector<std::pair<std::int64_t, int>> blocks = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1},
                                                            {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::string n = s + "/Conv2d_" + std::to_string(i + 1);
    x = layer(n + "_depthwise", x, x.c, 3, blocks[i].second, true);
    x = layer(n + "_pointwise", x, d(blocks[i].first), 1, 1, false);
  }
  const std::string pooled = g.mean(s + "/Logits/AvgPool", x.t, {1, 2}, false);
  const std::string dropped = g.dropout_cond(s + "/Logits/Dropout", pooled, 0.8f, true);  // tf.layers.dropout(training=is_training)
  const std::string logits = L.dense(s + "/Logits/fc", dropped, x.c, o.classes);
  g.builder().node(s + "/Predictions/Softmax", "Softmax", {logits});
  m.output = s + "/Predictions/Softmax";
  finish_training(g, logits, Optimizer::kAdam, 0.999f);
}

// ---- ResNet-50 V1 (Keras applications layout and names) ------------------------------------------

void resnet50_v1(GeneratedModel& m, const ModelOptions& o) {
  const int size = o.image_size ? o.image_size : 224;
  if (size < 32) throw Error(ExitCode::kUsage, "resnet50_v1: --image-size must be at least 32");
  TrainingGraph& g = m.graph;
  Layers L(g);
  m.input = g.queue_input("input_batch", {o.batch, size, size, 3});
  m.input_shape = {1, size, size, 3};
  auto d = [&](std::int64_t v) { return scaled(o.width, v, 8); };
  // Conv2D with bias (Keras' default), BatchNorm V3 under the learning-phase cond, optional ReLU.
  auto conv_bn = [&](const std::string& name, const Feature& x, std::int64_t out, int k, int stride, const std::string& padding, bool relu) {
    const std::string w = g.variable(name + "_conv/kernel", {k, k, x.c, out}, Role::kWeights, true, k * k * x.c);
    const std::string b = g.variable(name + "_conv/bias", {out}, Role::kBias);
    g.conv(name + "_conv/Conv2D", x.t, w, stride, stride, padding);
    g.builder().node(name + "_conv/BiasAdd", "BiasAdd", {name + "_conv/Conv2D", b});
    GraphBuilder::attr(g.builder().graph().mutable_node(g.builder().graph().node_size() - 1), "data_format").set_s("NHWC");
    std::string t = g.batch_norm(name + "_bn", name + "_conv/BiasAdd", out, "FusedBatchNormV3", true);
    if (relu) {
      g.builder().node(name + "_relu", "Relu", {t});
      t = name + "_relu";
    }
    return Feature{t, out, out_size(x.h, k, stride, padding), out_size(x.w, k, stride, padding)};
  };
  Feature x{m.input, 3, size, size};
  x.t = L.pad("conv1_pad/Pad", x.t, 3);
  x.h += 6;
  x.w += 6;
  x = conv_bn("conv1", x, d(64), 7, 2, "VALID", true);
  x.t = L.pad("pool1_pad/Pad", x.t, 1);
  x.h += 2;
  x.w += 2;
  x = L.pool("pool1_pool/MaxPool", "MaxPool", x, 3, 2, "VALID");
  const std::vector<std::pair<std::int64_t, int>> stages = {{64, 3}, {128, 4}, {256, 6}, {512, 3}};
  for (std::size_t st = 0; st < stages.size(); ++st) {
    const std::int64_t f = d(stages[st].first);
    for (int blk = 1; blk <= stages[st].second; ++blk) {
      const std::string n = "conv" + std::to_string(st + 2) + "_block" + std::to_string(blk);
      const int stride = blk == 1 && st > 0 ? 2 : 1;
      Feature shortcut = x;
      if (blk == 1) shortcut = conv_bn(n + "_0", x, 4 * f, 1, stride, "VALID", false);
      Feature y = conv_bn(n + "_1", x, f, 1, stride, "VALID", true);
      y = conv_bn(n + "_2", y, f, 3, 1, "SAME", true);
      y = conv_bn(n + "_3", y, 4 * f, 1, 1, "VALID", false);
      g.builder().node(n + "_add/add", "AddV2", {shortcut.t, y.t});
      g.builder().node(n + "_out/Relu", "Relu", {n + "_add/add"});
      x = {n + "_out/Relu", 4 * f, y.h, y.w};
    }
  }
  const std::string pooled = g.mean("avg_pool/Mean", x.t, {1, 2}, false);
  const std::string logits = L.dense("predictions", pooled, x.c, o.classes);
  g.builder().node("predictions/Softmax", "Softmax", {logits});
  m.output = "predictions/Softmax";
  finish_training(g, logits, Optimizer::kMomentum, 0.999f);
}

// xorshift64*: fast, seeded, plenty for weights.
struct Rng {
  std::uint64_t s;
  float uniform(float lo, float hi) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    const std::uint64_t r = s * 2685821657736338717ULL;
    return lo + (hi - lo) * static_cast<float>(r >> 40) * (1.0f / 16777216.0f);
  }
};

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> kNames = {"inception_v3", "mobilenet_v1", "resnet50_v1"};
  return kNames;
}

GeneratedModel build_model(const std::string& name, const ModelOptions& options) {
  if (options.width <= 0 || options.width > 16) throw Error(ExitCode::kUsage, "--width-multiplier must be in (0, 16]");
  if (options.classes < 1 || options.classes > 100000) throw Error(ExitCode::kUsage, "--classes must be in [1, 100000]");
  if (options.image_size != 0 && (options.image_size < 1 || options.image_size > 4096))
    throw Error(ExitCode::kUsage, "--image-size must be in [1, 4096]");
  GeneratedModel m(options.seed);
  if (name == "inception_v3") inception_v3(m, options);
  else if (name == "mobilenet_v1") mobilenet_v1(m, options);
  else if (name == "resnet50_v1") resnet50_v1(m, options);
  else throw Error(ExitCode::kUsage, "unknown model '" + name + "' (known: inception_v3, mobilenet_v1, resnet50_v1)");
  return m;
}

void write_training_checkpoint(const std::vector<Variable>& variables, const std::string& prefix, std::uint64_t seed) {
  io::checkpoint::BundleWriter writer(prefix);
  Rng rng{seed * 0x9E3779B97F4A7C15ULL + 1};
  std::map<std::string, const Variable*> by_name;
  for (const auto& v : variables) by_name[v.name] = &v;
  // A variable's values, regenerated from its own seed so a shadow can track it.
  auto fill = [&](const Variable& v, Rng r) {
    Tensor t{v.dtype, v.shape, {}, {}, {}};
    const std::int64_t n = t.num_elements();
    if (v.dtype == tf::DT_INT64) {
      t.bytes.assign(static_cast<std::size_t>(n) * 8, '\0');
      const std::int64_t step = 1000;
      if (n == 1) std::memcpy(t.bytes.data(), &step, 8);
      return t;
    }
    std::vector<float> x(static_cast<std::size_t>(n));
    float lo = -0.05f, hi = 0.05f;
    switch (v.role) {
      case Role::kWeights: hi = std::sqrt(6.0f / static_cast<float>(std::max<std::int64_t>(v.fan_in, 1))); lo = -hi; break;
      case Role::kGamma: lo = 0.8f; hi = 1.2f; break;
      case Role::kMovingMean: lo = -0.1f; hi = 0.1f; break;
      case Role::kMovingVariance: lo = 0.8f; hi = 1.2f; break;
      case Role::kSlot: lo = 0.0f; hi = 0.01f; break;
      default: break;
    }
    for (auto& e : x) e = r.uniform(lo, hi);
    t.bytes.resize(x.size() * 4);
    if (!x.empty()) std::memcpy(t.bytes.data(), x.data(), t.bytes.size());
    return t;
  };
  auto seed_of = [&](const std::string& name) {
    std::uint64_t h = rng.s;
    for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    return Rng{h | 1};
  };
  for (const auto& v : variables) {
    if (v.role != Role::kShadow) {
      writer.add(v.name, fill(v, seed_of(v.name)));
      continue;
    }
    // An EMA shadow: its variable's values, nudged (so --use-moving-averages visibly matters).
    const Variable& of = *by_name.at(v.shadow_of);
    Tensor t = fill(of, seed_of(of.name));
    Rng noise = seed_of(v.name);
    float* p = reinterpret_cast<float*>(t.bytes.data());
    for (std::int64_t i = 0; i < t.num_elements(); ++i) p[i] = p[i] * 0.98f + noise.uniform(-0.002f, 0.002f);
    writer.add(v.name, t);
  }
  writer.finish();
}

}  // namespace tffreeze::modelgen
