// Building GraphDefs in code: nodes with their attrs, seeded random weights, and the layer
// patterns TensorFlow 1 training code writes. Used by the model generator, the bundled example
// and the tests (graphs where a transform must fire, and where it must not).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::graph {

namespace tf = ::tffreeze::tf;

class GraphBuilder {
 public:
  explicit GraphBuilder(std::uint64_t seed = 42) : rng_(seed) {}

  tf::GraphDef& graph() { return graph_; }
  const tf::GraphDef& graph() const { return graph_; }
  std::mt19937_64& rng() { return rng_; }
  // A name not used yet: `base`, else base_1, base_2, ... (as TensorFlow uniquifies).
  std::string unique(const std::string& base);

  // A node; T is set unless it is DT_INVALID.
  tf::NodeDef* node(const std::string& name, const std::string& op, std::vector<std::string> inputs, tf::DataType T = tf::DT_FLOAT);
  std::string constant(const std::string& name, const Tensor& value);
  std::string random_constant(const std::string& name, std::vector<std::int64_t> shape, float lo = -1, float hi = 1);
  std::string scalar(const std::string& name, float value);
  std::string ints(const std::string& name, std::vector<std::int32_t> values, bool scalar = false);
  std::string ints(const std::string& name, std::vector<std::int32_t> values, std::vector<std::int64_t> shape);
  std::string placeholder(const std::string& name, tf::DataType dtype, std::vector<std::int64_t> shape);

  // Layers (NHWC). Weights are constants; names follow TensorFlow's layer scopes.
  tf::NodeDef* conv(const std::string& name, const std::string& op, const std::string& x, const std::string& w, int stride = 1,
                    const std::string& padding = "SAME");
  // FusedBatchNorm{,V2,V3} in inference mode with gamma, beta, mean and variance constants.
  tf::NodeDef* batch_norm(const std::string& name, const std::string& op, const std::string& x, int channels);

  static tf::AttrValue& attr(tf::NodeDef* n, const std::string& key) { return (*n->mutable_attr())[key]; }
  static void set_ints(tf::NodeDef* n, const std::string& key, const std::vector<std::int64_t>& values);
  static void set_shape(tf::NodeDef* n, const std::string& key, const std::vector<std::int64_t>& dims);

 private:
  tf::GraphDef graph_;
  std::mt19937_64 rng_;
  std::vector<std::string> names_;
};

}  // namespace tffreeze::graph
