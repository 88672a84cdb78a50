#include "graph/builder.h"

#include <algorithm>
#include <cstring>

#include "graph/node_builders.h"

namespace tffreeze::graph {

std::string GraphBuilder::unique(const std::string& base) {
  auto taken = [&](const std::string& n) {
    for (const auto& node : graph_.node())
      if (node.name() == n) return true;
    return false;
  };
  if (!taken(base)) return base;
  for (int k = 1;; ++k)
    if (!taken(base + "_" + std::to_string(k))) return base + "_" + std::to_string(k);
}

tf::NodeDef* GraphBuilder::node(const std::string& name, const std::string& op, std::vector<std::string> inputs, tf::DataType T) {
  auto* n = graph_.add_node();
  n->set_name(name);
  n->set_op(op);
  for (auto& i : inputs) n->add_input(i);
  if (T != tf::DT_INVALID) attr(n, "T").set_type(T);
  return n;
}

std::string GraphBuilder::constant(const std::string& name, const Tensor& value) {
  *graph_.add_node() = make_const(name, value);
  return name;
}

std::string GraphBuilder::random_constant(const std::string& name, std::vector<std::int64_t> shape, float lo, float hi) {
  Tensor t{tf::DT_FLOAT, std::move(shape), {}, {}, {}};
  t.bytes.resize(static_cast<std::size_t>(t.num_elements()) * 4);
  std::uniform_real_distribution<float> u(lo, hi);
  for (std::int64_t i = 0; i < t.num_elements(); ++i) {
    const float v = u(rng_);
    std::memcpy(t.bytes.data() + 4 * i, &v, 4);
  }
  return constant(name, t);
}

std::string GraphBuilder::scalar(const std::string& name, float value) {
  Tensor t{tf::DT_FLOAT, {}, std::string(4, '\0'), {}, {}};
  std::memcpy(t.bytes.data(), &value, 4);
  return constant(name, t);
}

std::string GraphBuilder::ints(const std::string& name, std::vector<std::int32_t> values, bool is_scalar) {
  Tensor t{tf::DT_INT32, {}, std::string(values.size() * 4, '\0'), {}, {}};
  if (!is_scalar) t.shape = {static_cast<std::int64_t>(values.size())};
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size() * 4);  // (an empty vector's data() may be null)
  return constant(name, t);
}

std::string GraphBuilder::ints(const std::string& name, std::vector<std::int32_t> values, std::vector<std::int64_t> shape) {
  Tensor t{tf::DT_INT32, std::move(shape), std::string(values.size() * 4, '\0'), {}, {}};
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size() * 4);  // (an empty vector's data() may be null)
  return constant(name, t);
}

std::string GraphBuilder::placeholder(const std::string& name, tf::DataType dtype, std::vector<std::int64_t> shape) {
  auto* n = node(name, "Placeholder", {}, tf::DT_INVALID);
  attr(n, "dtype").set_type(dtype);
  set_shape(n, "shape", shape);
  return name;
}

tf::NodeDef* GraphBuilder::conv(const std::string& name, const std::string& op, const std::string& x, const std::string& w, int stride,
                                const std::string& padding) {
  auto* c = node(name, op, {x, w});
  set_ints(c, "strides", {1, stride, stride, 1});
  attr(c, "padding").set_s(padding);
  attr(c, "data_format").set_s("NHWC");
  set_ints(c, "dilations", {1, 1, 1, 1});
  return c;
}

tf::NodeDef* GraphBuilder::batch_norm(const std::string& name, const std::string& op, const std::string& x, int channels) {
  const std::string scope = name.substr(0, name.rfind('/') == std::string::npos ? name.size() : name.rfind('/'));
  auto* bn = node(name, op,
                  {x, random_constant(scope + "/gamma", {channels}, 0.5f, 1.5f), random_constant(scope + "/beta", {channels}, -0.2f, 0.2f),
                   random_constant(scope + "/moving_mean", {channels}, -0.2f, 0.2f),
                   random_constant(scope + "/moving_variance", {channels}, 0.5f, 2.0f)});
  attr(bn, "epsilon").set_f(0.001f);
  attr(bn, "is_training").set_b(false);
  attr(bn, "data_format").set_s("NHWC");
  if (op != "FusedBatchNorm") attr(bn, "U").set_type(tf::DT_FLOAT);
  return bn;
}

void GraphBuilder::set_ints(tf::NodeDef* n, const std::string& key, const std::vector<std::int64_t>& values) {
  auto* list = attr(n, key).mutable_list();
  list->clear_i();
  for (auto v : values) list->add_i(v);
}

void GraphBuilder::set_shape(tf::NodeDef* n, const std::string& key, const std::vector<std::int64_t>& dims) {
  auto* shape = attr(n, key).mutable_shape();
  shape->Clear();
  for (auto d : dims) shape->add_dim()->set_size(d);
}

}  // namespace tffreeze::graph
