// A small builder of GraphDefs with seeded random weights, for the bundled example and the
// benchmarks (the model generator of the benchmark issue will build on the same idea).
#pragma once

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::tools {

namespace tf = tffreeze::tf;

class Builder {
 public:
  tf::NodeDef* op(const std::string& name, const std::string& op, std::vector<std::string> inputs, bool typed = true) {
    auto* n = graph.add_node();
    n->set_name(name);
    n->set_op(op);
    for (auto& i : inputs) n->add_input(i);
    if (typed) attr(n, "T").set_type(tf::DT_FLOAT);
    return n;
  }
  static tf::AttrValue& attr(tf::NodeDef* n, const std::string& key) { return (*n->mutable_attr())[key]; }

  std::string constant(const std::string& name, std::vector<long long> shape, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    auto* n = op(name, "Const", {}, false);
    attr(n, "dtype").set_type(tf::DT_FLOAT);
    auto* t = attr(n, "value").mutable_tensor();
    t->set_dtype(tf::DT_FLOAT);
    long long count = 1;
    for (auto d : shape) {
      t->mutable_tensor_shape()->add_dim()->set_size(d);
      count *= d;
    }
    std::string bytes(static_cast<std::size_t>(count) * 4, '\0');
    for (long long i = 0; i < count; ++i) {
      float v = dist(rng);
      std::memcpy(bytes.data() + i * 4, &v, 4);
    }
    t->set_tensor_content(bytes);
    return name;
  }
  std::string int_constant(const std::string& name, std::vector<int> values) {
    auto* n = op(name, "Const", {}, false);
    attr(n, "dtype").set_type(tf::DT_INT32);
    auto* t = attr(n, "value").mutable_tensor();
    t->set_dtype(tf::DT_INT32);
    t->mutable_tensor_shape()->add_dim()->set_size(static_cast<long long>(values.size()));
    for (int v : values) t->add_int_val(v);
    return name;
  }
  void ints(tf::NodeDef* n, const std::string& key, std::vector<long long> values) {
    for (auto v : values) attr(n, key).mutable_list()->add_i(v);
  }
  // scope/BatchNorm with its four parameter constants.
  std::string batch_norm(const std::string& scope, const std::string& x, int channels, const char* op) {
    auto gamma = constant(scope + "/gamma", {channels}, 0.5f, 1.5f);
    auto beta = constant(scope + "/beta", {channels}, -0.1f, 0.1f);
    auto mean = constant(scope + "/moving_mean", {channels}, -0.2f, 0.2f);
    auto var = constant(scope + "/moving_variance", {channels}, 0.5f, 2.0f);
    auto* bn = op_bn(scope + "/FusedBatchNorm", op, {x, gamma, beta, mean, var});
    attr(bn, "epsilon").set_f(0.001f);
    attr(bn, "is_training").set_b(false);
    return bn->name();
  }
  tf::NodeDef* op_bn(const std::string& name, const char* op_name, std::vector<std::string> inputs) {
    auto* n = op(name, op_name, inputs);
    if (std::string(op_name) != "FusedBatchNorm") attr(n, "U").set_type(tf::DT_FLOAT);
    return n;
  }

  tf::GraphDef graph;
  std::mt19937 rng{42};
};

}  // namespace tffreeze::tools
