#include "modelgen/training_graph.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "common/dtype.h"
#include "common/error.h"
#include "graph/node_builders.h"
#include "tffreeze/tf/variable.pb.h"

namespace tffreeze::modelgen {

using graph::GraphBuilder;

namespace {

Tensor empty_float() { return Tensor{tf::DT_FLOAT, {0}, {}, {}, {}}; }

Tensor string_tensor(const std::vector<std::string>& values, bool scalar) {
  Tensor t{tf::DT_STRING, {}, {}, values, {}};
  if (!scalar) t.shape = {static_cast<std::int64_t>(values.size())};
  return t;
}

}  // namespace

std::string TrainingGraph::variable(const std::string& name, std::vector<std::int64_t> shape, Role role, bool trainable,
                                    std::int64_t fan_in) {
  auto* v = b_.node(name, "VariableV2", {}, tf::DT_INVALID);
  GraphBuilder::attr(v, "dtype").set_type(tf::DT_FLOAT);
  GraphBuilder::set_shape(v, "shape", shape);
  GraphBuilder::attr(v, "container").set_s("");
  GraphBuilder::attr(v, "shared_name").set_s("");
  // random_uniform initializer: shape -> RandomUniform -> * (max - min) + min.
  const std::string init = name + "/Initializer/random_uniform";
  std::vector<std::int32_t> dims(shape.begin(), shape.end());
  b_.ints(init + "/shape", dims);
  auto* r = b_.node(init + "/RandomUniform", "RandomUniform", {init + "/shape"}, tf::DT_INT32);
  GraphBuilder::attr(r, "dtype").set_type(tf::DT_FLOAT);
  GraphBuilder::attr(r, "seed").set_i(0);
  GraphBuilder::attr(r, "seed2").set_i(0);
  b_.node(init + "/mul", "Mul", {init + "/RandomUniform", b_.scalar(init + "/sub", 0.1f)});
  b_.node(init, "Add", {init + "/mul", b_.scalar(init + "/min", -0.05f)});
  auto* assign = b_.node(name + "/Assign", "Assign", {name, init});
  GraphBuilder::attr(assign, "validate_shape").set_b(true);
  GraphBuilder::attr(assign, "use_locking").set_b(true);
  GraphBuilder::attr(assign, "_class").mutable_list()->add_s("loc:@" + name);
  auto* read = b_.node(name + "/read", "Identity", {name});
  GraphBuilder::attr(read, "_class").mutable_list()->add_s("loc:@" + name);
  vars_.push_back({name, std::move(shape), role, trainable, fan_in, "", tf::DT_FLOAT});
  return name + "/read";
}

std::string TrainingGraph::queue_input(const std::string& scope, std::vector<std::int64_t> image_shape) {
  auto* q = b_.node(scope + "/fifo_queue", "FIFOQueueV2", {}, tf::DT_INVALID);
  GraphBuilder::attr(q, "component_types").mutable_list()->add_type(tf::DT_FLOAT);
  GraphBuilder::attr(q, "component_types").mutable_list()->add_type(tf::DT_INT64);
  auto* shapes = GraphBuilder::attr(q, "shapes").mutable_list();
  auto* image = shapes->add_shape();
  for (std::size_t d = 1; d < image_shape.size(); ++d) image->add_dim()->set_size(image_shape[d]);
  shapes->add_shape();
  GraphBuilder::attr(q, "capacity").set_i(32);
  GraphBuilder::attr(q, "container").set_s("");
  GraphBuilder::attr(q, "shared_name").set_s("");
  auto* deq = b_.node(scope, "QueueDequeueManyV2",
                      {scope + "/fifo_queue", b_.ints(scope + "/n", {static_cast<std::int32_t>(image_shape[0])}, true)}, tf::DT_INVALID);
  GraphBuilder::attr(deq, "component_types").mutable_list()->add_type(tf::DT_FLOAT);
  GraphBuilder::attr(deq, "component_types").mutable_list()->add_type(tf::DT_INT64);
  GraphBuilder::attr(deq, "timeout_ms").set_i(-1);
  labels_ = scope + ":1";
  return scope;  // output 0: the images
}

std::string TrainingGraph::is_training() {
  if (is_training_.empty()) is_training_ = b_.placeholder("is_training", tf::DT_BOOL, {});
  return is_training_;
}

tf::NodeDef* TrainingGraph::conv(const std::string& name, const std::string& x, const std::string& w, int stride_h, int stride_w,
                                 const std::string& padding, bool depthwise) {
  auto* c = b_.conv(name, depthwise ? "DepthwiseConv2dNative" : "Conv2D", x, w, 1, padding);
  GraphBuilder::set_ints(c, "strides", {1, stride_h, stride_w, 1});
  if (!depthwise) GraphBuilder::attr(c, "use_cudnn_on_gpu").set_b(true);
  return c;
}

std::string TrainingGraph::pool(const std::string& name, const std::string& op, const std::string& x, int k, int stride,
                                const std::string& padding) {
  auto* p = b_.node(name, op, {x});
  GraphBuilder::set_ints(p, "ksize", {1, k, k, 1});
  GraphBuilder::set_ints(p, "strides", {1, stride, stride, 1});
  GraphBuilder::attr(p, "padding").set_s(padding);
  GraphBuilder::attr(p, "data_format").set_s("NHWC");
  return name;
}

std::string TrainingGraph::concat(const std::string& name, const std::vector<std::string>& xs, int axis) {
  std::vector<std::string> inputs = xs;
  inputs.push_back(b_.ints(name + "/axis", {axis}, true));
  auto* c = b_.node(name, "ConcatV2", inputs);
  GraphBuilder::attr(c, "N").set_i(static_cast<std::int64_t>(xs.size()));
  GraphBuilder::attr(c, "Tidx").set_type(tf::DT_INT32);
  return name;
}

std::string TrainingGraph::mean(const std::string& name, const std::string& x, std::vector<std::int32_t> axes, bool keep_dims) {
  auto* m = b_.node(name, "Mean", {x, b_.ints(name + "/reduction_indices", axes)});
  GraphBuilder::attr(m, "Tidx").set_type(tf::DT_INT32);
  GraphBuilder::attr(m, "keep_dims").set_b(keep_dims);
  return name;
}

// The Switch that brings `x` into a cond on `pred`: output 1 feeds the true branch, 0 the false.
std::string TrainingGraph::cond_switch(const std::string& scope, const std::string& x, const std::string& pred) {
  const std::string name = b_.unique(scope + "/Switch");
  b_.node(name, "Switch", {x, pred});
  return name;
}

std::string TrainingGraph::shape_of(const std::string& scope, const std::string& x) {
  auto* s = b_.node(scope + "/Shape", "Shape", {x});
  GraphBuilder::attr(s, "out_type").set_type(tf::DT_INT32);
  return scope + "/Shape";
}

std::string TrainingGraph::batch_norm(const std::string& scope, const std::string& x, std::int64_t channels, const std::string& fused_op,
                                      bool scale) {
  const std::string beta = variable(scope + "/beta", {channels}, Role::kBeta);
  std::string gamma;
  if (scale) {
    gamma = variable(scope + "/gamma", {channels}, Role::kGamma);
  } else {
    Tensor ones{tf::DT_FLOAT, {channels}, std::string(static_cast<std::size_t>(channels) * 4, '\0'), {}, {}};
    for (std::int64_t c = 0; c < channels; ++c) {
      const float one = 1;
      std::memcpy(ones.bytes.data() + 4 * c, &one, 4);
    }
    gamma = b_.constant(scope + "/Const", ones);
  }
  const std::string mean = variable(scope + "/moving_mean", {channels}, Role::kMovingMean, false);
  const std::string var = variable(scope + "/moving_variance", {channels}, Role::kMovingVariance, false);
  // tf.cond(is_training, ...) as tf.layers / slim write it.
  const std::string c = scope + "/cond";
  const std::string pred = is_training();
  b_.node(c + "/Switch", "Switch", {pred, pred}, tf::DT_BOOL);
  b_.node(c + "/switch_t", "Identity", {c + "/Switch:1"}, tf::DT_BOOL);
  b_.node(c + "/switch_f", "Identity", {c + "/Switch"}, tf::DT_BOOL);
  b_.node(c + "/pred_id", "Identity", {pred}, tf::DT_BOOL);
  const std::string pid = c + "/pred_id";
  const std::string sx = cond_switch(c + "/FusedBatchNorm", x, pid), sg = cond_switch(c + "/FusedBatchNorm", gamma, pid),
                    sb = cond_switch(c + "/FusedBatchNorm", beta, pid);
  b_.constant(c + "/Const", empty_float());
  b_.graph().mutable_node(b_.graph().node_size() - 1)->add_input("^" + c + "/switch_t");
  b_.constant(c + "/Const_1", empty_float());
  b_.graph().mutable_node(b_.graph().node_size() - 1)->add_input("^" + c + "/switch_t");
  auto fbn = [&](const std::string& name, std::vector<std::string> inputs, bool training) {
    auto* n = b_.node(name, fused_op, std::move(inputs));
    GraphBuilder::attr(n, "epsilon").set_f(0.001f);
    GraphBuilder::attr(n, "is_training").set_b(training);
    GraphBuilder::attr(n, "data_format").set_s("NHWC");
    if (fused_op != "FusedBatchNorm") GraphBuilder::attr(n, "U").set_type(tf::DT_FLOAT);
  };
  fbn(c + "/FusedBatchNorm", {sx + ":1", sg + ":1", sb + ":1", c + "/Const", c + "/Const_1"}, true);
  const std::string fb1 = c + "/FusedBatchNorm_1";
  const std::string sx0 = cond_switch(fb1, x, pid), sg0 = cond_switch(fb1, gamma, pid), sb0 = cond_switch(fb1, beta, pid);
  const std::string sm = cond_switch(fb1, mean, pid), sv = cond_switch(fb1, var, pid);
  fbn(fb1, {sx0, sg0, sb0, sm, sv}, false);
  auto merge = [&](const std::string& name, const std::string& f, const std::string& t) {
    GraphBuilder::attr(b_.node(name, "Merge", {f, t}), "N").set_i(2);
  };
  merge(c + "/Merge", fb1, c + "/FusedBatchNorm");
  merge(c + "/Merge_1", fb1 + ":1", c + "/FusedBatchNorm:1");
  merge(c + "/Merge_2", fb1 + ":2", c + "/FusedBatchNorm:2");
  // The momentum, itself under a cond (1.0 at inference: no update), as tf.layers writes it.
  const std::string c1 = scope + "/cond_1";
  b_.node(c1 + "/Switch", "Switch", {pred, pred}, tf::DT_BOOL);
  b_.node(c1 + "/switch_t", "Identity", {c1 + "/Switch:1"}, tf::DT_BOOL);
  b_.node(c1 + "/switch_f", "Identity", {c1 + "/Switch"}, tf::DT_BOOL);
  b_.node(c1 + "/pred_id", "Identity", {pred}, tf::DT_BOOL);
  b_.scalar(c1 + "/Const", 0.997f);
  b_.graph().mutable_node(b_.graph().node_size() - 1)->add_input("^" + c1 + "/switch_t");
  b_.scalar(c1 + "/Const_1", 1.0f);
  b_.graph().mutable_node(b_.graph().node_size() - 1)->add_input("^" + c1 + "/switch_f");
  merge(c1 + "/Merge", c1 + "/Const_1", c1 + "/Const");
  // Moving-average updates (UPDATE_OPS): moving -= (moving - batch) * (1 - momentum).
  for (auto [stat, merged, suffix] : {std::tuple{mean, c + "/Merge_1", ""}, std::tuple{var, c + "/Merge_2", "_1"}}) {
    const std::string u = scope + "/AssignMovingAvg" + suffix;
    b_.node(u + "/sub", "Sub", {b_.scalar(u + "/sub/x", 1.0f), c1 + "/Merge"});
    b_.node(u + "/sub_1", "Sub", {stat, merged});
    b_.node(u + "/mul", "Mul", {u + "/sub_1", u + "/sub"});
    const std::string target = stat.substr(0, stat.size() - 5);  // without "/read"
    auto* a = b_.node(u, "AssignSub", {target, u + "/mul"});
    GraphBuilder::attr(a, "use_locking").set_b(false);
    GraphBuilder::attr(a, "_class").mutable_list()->add_s("loc:@" + target);
    update_ops_.push_back(u);
  }
  return c + "/Merge";
}

std::string TrainingGraph::batch_norm_decomposed(const std::string& scope, const std::string& x, std::int64_t channels) {
  const std::string gamma = variable(scope + "/gamma", {channels}, Role::kGamma);
  const std::string beta = variable(scope + "/beta", {channels}, Role::kBeta);
  const std::string moving_mean = variable(scope + "/moving_mean", {channels}, Role::kMovingMean, false);
  const std::string moving_var = variable(scope + "/moving_variance", {channels}, Role::kMovingVariance, false);
  // Batch statistics (tf.nn.moments), always computed.
  const std::string m = scope + "/moments";
  mean(m + "/mean", x, {0, 1, 2}, true);
  b_.node(m + "/StopGradient", "StopGradient", {m + "/mean"});
  b_.node(m + "/SquaredDifference", "SquaredDifference", {x, m + "/StopGradient"});
  mean(m + "/variance", m + "/SquaredDifference", {0, 1, 2}, true);
  for (auto [out, in] : {std::pair{m + "/Squeeze", m + "/mean"}, std::pair{m + "/Squeeze_1", m + "/variance"}}) {
    auto* sq = b_.node(out, "Squeeze", {in});
    GraphBuilder::set_ints(sq, "squeeze_dims", {0, 1, 2});
  }
  // mean = cond(training, batch mean, moving mean); the same for the variance.
  const std::string pred = is_training();
  auto choose = [&](const std::string& c, const std::string& batch, const std::string& moving) {
    b_.node(c + "/Switch", "Switch", {pred, pred}, tf::DT_BOOL);
    b_.node(c + "/switch_t", "Identity", {c + "/Switch:1"}, tf::DT_BOOL);
    b_.node(c + "/switch_f", "Identity", {c + "/Switch"}, tf::DT_BOOL);
    b_.node(c + "/pred_id", "Identity", {pred}, tf::DT_BOOL);
    const std::string st = cond_switch(c, batch, c + "/pred_id"), sf = cond_switch(c, moving, c + "/pred_id");
    b_.node(c + "/Identity", "Identity", {st + ":1"});
    b_.node(c + "/Identity_1", "Identity", {sf});
    GraphBuilder::attr(b_.node(c + "/Merge", "Merge", {c + "/Identity_1", c + "/Identity"}), "N").set_i(2);
    return c + "/Merge";
  };
  const std::string mu = choose(scope + "/cond", m + "/Squeeze", moving_mean);
  const std::string sigma2 = choose(scope + "/cond_1", m + "/Squeeze_1", moving_var);
  const std::string bn = scope + "/batchnorm";
  b_.node(bn + "/add", "Add", {sigma2, b_.scalar(bn + "/add/y", 0.001f)});
  b_.node(bn + "/Rsqrt", "Rsqrt", {bn + "/add"});
  b_.node(bn + "/mul", "Mul", {bn + "/Rsqrt", gamma});
  b_.node(bn + "/mul_1", "Mul", {x, bn + "/mul"});
  b_.node(bn + "/mul_2", "Mul", {mu, bn + "/mul"});
  b_.node(bn + "/sub", "Sub", {beta, bn + "/mul_2"});
  b_.node(bn + "/add_1", "Add", {bn + "/mul_1", bn + "/sub"});
  for (auto [stat, batch, suffix] : {std::tuple{moving_mean, m + "/Squeeze", ""}, std::tuple{moving_var, m + "/Squeeze_1", "_1"}}) {
    const std::string u = scope + "/AssignMovingAvg" + suffix;
    b_.node(u + "/sub", "Sub", {stat, batch});
    b_.node(u + "/mul", "Mul", {u + "/sub", b_.scalar(u + "/decay", 0.01f)});
    auto* a = b_.node(u, "AssignSub", {stat.substr(0, stat.size() - 5), u + "/mul"});
    GraphBuilder::attr(a, "use_locking").set_b(false);
    update_ops_.push_back(u);
  }
  return bn + "/add_1";
}

std::string TrainingGraph::dropout_cond(const std::string& scope, const std::string& x, float keep_prob, bool rate_form) {
  const std::string c = scope + "/cond", pred = is_training();
  b_.node(c + "/Switch", "Switch", {pred, pred}, tf::DT_BOOL);
  b_.node(c + "/switch_t", "Identity", {c + "/Switch:1"}, tf::DT_BOOL);
  b_.node(c + "/switch_f", "Identity", {c + "/Switch"}, tf::DT_BOOL);
  b_.node(c + "/pred_id", "Identity", {pred}, tf::DT_BOOL);
  const std::string st = cond_switch(c + "/dropout", x, c + "/pred_id");
  std::string dropped;
  if (rate_form) {
    dropped = dropout_rate(c + "/dropout", st + ":1", 1.0f - keep_prob);
    for (const char* k : {"/rate", "/scale"})
      for (auto& n : *b_.graph().mutable_node())
        if (n.name() == c + "/dropout" + k) n.add_input("^" + c + "/switch_t");
  } else {
    const std::string d = c + "/dropout";
    b_.scalar(d + "/keep_prob", keep_prob);
    b_.graph().mutable_node(b_.graph().node_size() - 1)->add_input("^" + c + "/switch_t");
    shape_of(d, st + ":1");
    auto* r = b_.node(d + "/random_uniform/RandomUniform", "RandomUniform", {d + "/Shape"}, tf::DT_INT32);
    GraphBuilder::attr(r, "dtype").set_type(tf::DT_FLOAT);
    GraphBuilder::attr(r, "seed").set_i(0);
    GraphBuilder::attr(r, "seed2").set_i(0);
    b_.node(d + "/add", "Add", {d + "/keep_prob", d + "/random_uniform/RandomUniform"});
    b_.node(d + "/Floor", "Floor", {d + "/add"});
    b_.node(d + "/div", "RealDiv", {st + ":1", d + "/keep_prob"});
    b_.node(d + "/mul", "Mul", {d + "/div", d + "/Floor"});
    dropped = d + "/mul";
  }
  const std::string sf = cond_switch(c + "/Identity", x, c + "/pred_id");
  b_.node(c + "/Identity", "Identity", {sf});
  GraphBuilder::attr(b_.node(c + "/Merge", "Merge", {c + "/Identity", dropped}), "N").set_i(2);
  return c + "/Merge";
}

std::string TrainingGraph::dropout_rate(const std::string& scope, const std::string& x, float rate) {
  shape_of(scope, x);
  auto* r = b_.node(scope + "/random_uniform/RandomUniform", "RandomUniform", {scope + "/Shape"}, tf::DT_INT32);
  GraphBuilder::attr(r, "dtype").set_type(tf::DT_FLOAT);
  GraphBuilder::attr(r, "seed").set_i(0);
  GraphBuilder::attr(r, "seed2").set_i(0);
  b_.node(scope + "/GreaterEqual", "GreaterEqual", {scope + "/random_uniform/RandomUniform", b_.scalar(scope + "/rate", rate)});
  auto* cast = b_.node(scope + "/Cast", "Cast", {scope + "/GreaterEqual"}, tf::DT_INVALID);
  GraphBuilder::attr(cast, "SrcT").set_type(tf::DT_BOOL);
  GraphBuilder::attr(cast, "DstT").set_type(tf::DT_FLOAT);
  GraphBuilder::attr(cast, "Truncate").set_b(false);
  b_.node(scope + "/mul", "Mul", {x, b_.scalar(scope + "/scale", 1.0f / (1.0f - rate))});
  b_.node(scope + "/mul_1", "Mul", {scope + "/mul", scope + "/Cast"});
  return scope + "/mul_1";
}

void TrainingGraph::add_training(const std::string& logits, const std::string& labels, Optimizer optimizer) {
  // loss = mean(sparse_softmax_cross_entropy(logits, labels))
  auto* xent = b_.node("loss/xentropy", "SparseSoftmaxCrossEntropyWithLogits", {logits, labels.empty() ? labels_ : labels});
  GraphBuilder::attr(xent, "Tlabels").set_type(tf::DT_INT64);
  mean("loss/Mean", "loss/xentropy", {0}, false);
  // global_step
  auto* step = b_.node("global_step", "VariableV2", {}, tf::DT_INVALID);
  GraphBuilder::attr(step, "dtype").set_type(tf::DT_INT64);
  GraphBuilder::set_shape(step, "shape", {});
  GraphBuilder::attr(step, "container").set_s("");
  GraphBuilder::attr(step, "shared_name").set_s("");
  Tensor zero{tf::DT_INT64, {}, std::string(8, '\0'), {}, {}};
  b_.constant("global_step/Initializer/zeros", zero);
  b_.node("global_step/Assign", "Assign", {"global_step", "global_step/Initializer/zeros"}, tf::DT_INT64);
  b_.node("global_step/read", "Identity", {"global_step"}, tf::DT_INT64);
  vars_.push_back({"global_step", {}, Role::kStep, false, 1, "", tf::DT_INT64});

  const std::vector<Variable> trainable = [&] {
    std::vector<Variable> t;
    for (const auto& v : vars_)
      if (v.trainable) t.push_back(v);
    return t;
  }();
  const char* opt = optimizer == Optimizer::kRmsProp ? "RMSProp" : optimizer == Optimizer::kAdam ? "Adam" : "Momentum";
  const std::string lr = b_.scalar(std::string(opt) + "/learning_rate", 0.01f);
  std::string beta1_power, beta2_power;
  if (optimizer == Optimizer::kAdam) {
    beta1_power = variable("beta1_power", {}, Role::kSlot, false);
    beta2_power = variable("beta2_power", {}, Role::kSlot, false);
  }
  for (const auto& v : trainable) {
    // Stand-in for the gradient subgraph: a tensor of the variable's shape.
    const std::string grad = "gradients/" + v.name + "_grad";
    b_.node(grad, "ZerosLike", {v.name + "/read"});
    const std::string update = std::string(opt) + "/update_" + v.name;
    tf::NodeDef* apply = nullptr;
    if (optimizer == Optimizer::kRmsProp) {
      variable(v.name + "/RMSProp", v.shape, Role::kSlot, false);
      variable(v.name + "/RMSProp_1", v.shape, Role::kSlot, false);
      apply = b_.node(update + "/ApplyRMSProp", "ApplyRMSProp",
                      {v.name, v.name + "/RMSProp", v.name + "/RMSProp_1", lr, b_.scalar(update + "/decay", 0.9f),
                       b_.scalar(update + "/momentum", 0.9f), b_.scalar(update + "/epsilon", 1.0f), grad});
    } else if (optimizer == Optimizer::kAdam) {
      variable(v.name + "/Adam", v.shape, Role::kSlot, false);
      variable(v.name + "/Adam_1", v.shape, Role::kSlot, false);
      apply = b_.node(update + "/ApplyAdam", "ApplyAdam",
                      {v.name, v.name + "/Adam", v.name + "/Adam_1", beta1_power, beta2_power, lr, b_.scalar(update + "/beta1", 0.9f),
                       b_.scalar(update + "/beta2", 0.999f), b_.scalar(update + "/epsilon", 1e-8f), grad});
    } else {
      variable(v.name + "/Momentum", v.shape, Role::kSlot, false);
      apply = b_.node(update + "/ApplyMomentum", "ApplyMomentum",
                      {v.name, v.name + "/Momentum", lr, grad, b_.scalar(update + "/momentum", 0.9f)});
    }
    GraphBuilder::attr(apply, "use_locking").set_b(false);
    train_ops_.push_back(apply->name());
  }
  Tensor one{tf::DT_INT64, {}, std::string(8, '\0'), {}, {}};
  one.bytes[0] = 1;  // little-endian int64 1
  b_.constant("step_increment", one);
  b_.node(std::string(opt) + "/update_global_step", "AssignAdd", {"global_step", "step_increment"}, tf::DT_INT64);
  auto* train = b_.node("train_op", "NoOp", {}, tf::DT_INVALID);
  for (const auto& t : train_ops_) train->add_input("^" + t);
  for (const auto& u : update_ops_) train->add_input("^" + u);
  train->add_input(std::string("^") + opt + "/update_global_step");
}

void TrainingGraph::add_moving_averages(float decay) {
  std::vector<Variable> averaged;
  for (const auto& v : vars_)
    if (v.trainable) averaged.push_back(v);
  auto* group = b_.node("ExponentialMovingAverage", "NoOp", {}, tf::DT_INVALID);
  const std::string group_name = group->name();
  std::vector<std::string> updates;
  int k = 0;
  for (const auto& v : averaged) {
    const std::string shadow = v.name + "/ExponentialMovingAverage";
    auto* s = b_.node(shadow, "VariableV2", {}, tf::DT_INVALID);
    GraphBuilder::attr(s, "dtype").set_type(tf::DT_FLOAT);
    GraphBuilder::set_shape(s, "shape", v.shape);
    GraphBuilder::attr(s, "container").set_s("");
    GraphBuilder::attr(s, "shared_name").set_s("");
    b_.node(shadow + "/Assign", "Assign", {shadow, v.name + "/read"});
    b_.node(shadow + "/read", "Identity", {shadow});
    const std::string u = "ExponentialMovingAverage/AssignMovingAvg" + (k ? "_" + std::to_string(k) : std::string());
    b_.node(u + "/sub", "Sub", {shadow + "/read", v.name + "/read"});
    b_.node(u + "/mul", "Mul", {u + "/sub", b_.scalar(u + "/decay", 1.0f - decay)});
    b_.node(u, "AssignSub", {shadow, u + "/mul"});
    updates.push_back(u);
    Variable sv{shadow, v.shape, Role::kShadow, false, v.fan_in, v.name, tf::DT_FLOAT};
    vars_.push_back(sv);
    ++k;
  }
  for (int i = 0; i < b_.graph().node_size(); ++i)
    if (b_.graph().node(i).name() == group_name)
      for (const auto& u : updates) b_.graph().mutable_node(i)->add_input("^" + u);
}

void TrainingGraph::add_saver() {
  std::vector<const Variable*> saved;
  for (const auto& v : vars_) saved.push_back(&v);
  std::sort(saved.begin(), saved.end(), [](const Variable* a, const Variable* b) { return a->name < b->name; });
  std::vector<std::string> names, slices(saved.size(), "");
  for (const auto* v : saved) names.push_back(v->name);
  b_.constant("save/filename/input", string_tensor({"model"}, true));
  b_.node("save/filename", "PlaceholderWithDefault", {"save/filename/input"}, tf::DT_INVALID);
  GraphBuilder::attr(b_.graph().mutable_node(b_.graph().node_size() - 1), "dtype").set_type(tf::DT_STRING);
  GraphBuilder::set_shape(b_.graph().mutable_node(b_.graph().node_size() - 1), "shape", {});
  b_.node("save/Const", "PlaceholderWithDefault", {"save/filename"}, tf::DT_INVALID);
  GraphBuilder::attr(b_.graph().mutable_node(b_.graph().node_size() - 1), "dtype").set_type(tf::DT_STRING);
  GraphBuilder::set_shape(b_.graph().mutable_node(b_.graph().node_size() - 1), "shape", {});
  b_.constant("save/SaveV2/tensor_names", string_tensor(names, false));
  b_.constant("save/SaveV2/shape_and_slices", string_tensor(slices, false));
  auto* save = b_.node("save/SaveV2", "SaveV2", {"save/Const", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices"}, tf::DT_INVALID);
  for (const auto* v : saved) {
    save->add_input(v->name);
    GraphBuilder::attr(save, "dtypes").mutable_list()->add_type(v->dtype);
  }
  auto* dep = b_.node("save/control_dependency", "Identity", {"save/Const", "^save/SaveV2"}, tf::DT_STRING);
  GraphBuilder::attr(dep, "_class").mutable_list()->add_s("loc:@save/Const");
  b_.constant("save/RestoreV2/tensor_names", string_tensor(names, false));
  b_.constant("save/RestoreV2/shape_and_slices", string_tensor(slices, false));
  auto* restore = b_.node("save/RestoreV2", "RestoreV2", {"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"},
                          tf::DT_INVALID);
  for (const auto* v : saved) GraphBuilder::attr(restore, "dtypes").mutable_list()->add_type(v->dtype);
  auto* all = b_.node("save/restore_all", "NoOp", {}, tf::DT_INVALID);
  const std::string all_name = all->name();
  std::vector<std::string> assigns;
  for (std::size_t k = 0; k < saved.size(); ++k) {
    const std::string a = "save/Assign" + (k ? "_" + std::to_string(k) : std::string());
    auto* n = b_.node(a, "Assign", {saved[k]->name, "save/RestoreV2:" + std::to_string(k)}, saved[k]->dtype);
    GraphBuilder::attr(n, "validate_shape").set_b(true);
    GraphBuilder::attr(n, "use_locking").set_b(true);
    assigns.push_back(a);
  }
  for (int i = 0; i < b_.graph().node_size(); ++i)
    if (b_.graph().node(i).name() == all_name)
      for (const auto& a : assigns) b_.graph().mutable_node(i)->add_input("^" + a);
  saver_.set_filename_tensor_name("save/Const:0");
  saver_.set_save_tensor_name("save/control_dependency:0");
  saver_.set_restore_op_name("save/restore_all");
  saver_.set_max_to_keep(5);
  saver_.set_keep_checkpoint_every_n_hours(10000.0f);
  saver_.set_version(tf::SaverDef::V2);
}

tf::MetaGraphDef TrainingGraph::meta_graph() const {
  tf::MetaGraphDef meta;
  auto* info = meta.mutable_meta_info_def();
  info->set_tensorflow_version("1.15.5");
  info->set_tensorflow_git_version("tffreeze-modelgen");
  *meta.mutable_graph_def() = b_.graph();
  meta.mutable_graph_def()->mutable_versions()->set_producer(134);
  *meta.mutable_saver_def() = saver_;
  auto& collections = *meta.mutable_collection_def();
  for (const auto& v : vars_) {
    tf::VariableDef def;
    def.set_variable_name(v.name + ":0");
    def.set_initializer_name(v.name + "/Assign");
    def.set_snapshot_name(v.name + "/read:0");
    def.set_trainable(v.trainable);
    const std::string bytes = def.SerializeAsString();
    collections["variables"].mutable_bytes_list()->add_value(bytes);
    if (v.trainable) {
      collections["trainable_variables"].mutable_bytes_list()->add_value(bytes);
      collections["moving_average_variables"].mutable_bytes_list()->add_value(bytes);
    }
  }
  for (const auto& u : update_ops_) collections["update_ops"].mutable_node_list()->add_value(u);
  collections["train_op"].mutable_node_list()->add_value("train_op");
  collections["global_step"].mutable_bytes_list();
  return meta;
}

}  // namespace tffreeze::modelgen
