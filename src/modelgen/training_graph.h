// A TensorFlow 1 training graph as tf.train/slim/tf.layers code leaves it, built in code:
// variables with initializers, Assign and /read; an input queue; an is_training placeholder
// driving batch norms and dropout through tf.cond (Switch/Merge); optimizer slots and apply ops;
// ExponentialMovingAverage shadows; and a tf.train.Saver (SaveV2/RestoreV2, SaverDef).
// The model generator writes it as a MetaGraphDef beside a checkpoint of seeded random values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/builder.h"
#include "tffreeze/tf/meta_graph.pb.h"

namespace tffreeze::modelgen {

namespace tf = ::tffreeze::tf;

// What a variable holds decides the values the checkpoint gets.
enum class Role { kWeights, kBias, kGamma, kBeta, kMovingMean, kMovingVariance, kSlot, kShadow, kStep };

struct Variable {
  std::string name;
  std::vector<std::int64_t> shape;
  Role role = Role::kWeights;
  bool trainable = true;
  std::int64_t fan_in = 1;              // weights: for a variance-preserving scale
  std::string shadow_of;                // kShadow: the variable it averages
  tf::DataType dtype = tf::DT_FLOAT;
};

enum class Optimizer { kRmsProp, kAdam, kMomentum };

class TrainingGraph {
 public:
  explicit TrainingGraph(std::uint64_t seed) : b_(seed) {}

  graph::GraphBuilder& builder() { return b_; }
  const tf::GraphDef& graph() const { return b_.graph(); }
  const std::vector<Variable>& variables() const { return vars_; }

  // A VariableV2 with its initializer (random_uniform, like glorot_uniform_initializer),
  // Assign and read; returns "<name>/read".
  std::string variable(const std::string& name, std::vector<std::int64_t> shape, Role role, bool trainable = true,
                       std::int64_t fan_in = 1);

  // Images and labels from a FIFOQueueV2 (what a fine-tuning input pipeline leaves);
  // returns the dequeue's image output "<scope>/fifo_queue_Dequeue:0"-style name.
  std::string queue_input(const std::string& scope, std::vector<std::int64_t> image_shape);
  // The bool `is_training` placeholder (shape []).
  std::string is_training();

  // Ops.
  tf::NodeDef* conv(const std::string& name, const std::string& x, const std::string& w, int stride_h, int stride_w,
                    const std::string& padding, bool depthwise = false);
  std::string pool(const std::string& name, const std::string& op, const std::string& x, int k, int stride, const std::string& padding);
  std::string concat(const std::string& name, const std::vector<std::string>& xs, int axis);
  std::string mean(const std::string& name, const std::string& x, std::vector<std::int32_t> axes, bool keep_dims);

  // Batch norms under tf.cond(is_training, batch statistics, moving statistics):
  //   fused: FusedBatchNorm{,V3}(is_training=true) / (is_training=false, moving mean/variance);
  //   decomposed (tf.layers, fused=False): the statistics are cond'ed, the arithmetic
  //   (Rsqrt/Mul/Sub/Add) written out.
  // scale=false: gamma is a constant of ones (slim's default for Inception). Returns the output.
  std::string batch_norm(const std::string& scope, const std::string& x, std::int64_t channels, const std::string& fused_op, bool scale);
  std::string batch_norm_decomposed(const std::string& scope, const std::string& x, std::int64_t channels);

  // Dropout under tf.cond(is_training): slim.dropout's Floor(keep_prob + U) mask, or (rate_form)
  // tf.layers.dropout's cast(U >= rate) mask, in the true branch.
  std::string dropout_cond(const std::string& scope, const std::string& x, float keep_prob, bool rate_form = false);
  // tf.nn.dropout(rate=) without a cond (mask always drawn): x * 1/(1-rate) * cast(U >= rate).
  std::string dropout_rate(const std::string& scope, const std::string& x, float rate);

  // Training scaffolding, added after the model: a loss on the dequeued labels, optimizer slots
  // and apply ops for every trainable variable, EMA shadows, global_step, and the Saver.
  void add_training(const std::string& logits, const std::string& labels, Optimizer optimizer);
  void add_moving_averages(float decay);
  void add_saver();

  // The MetaGraphDef: graph, SaverDef, collections, meta info.
  tf::MetaGraphDef meta_graph() const;

 private:
  std::string cond_switch(const std::string& scope, const std::string& x, const std::string& pred);
  std::string shape_of(const std::string& scope, const std::string& x);

  graph::GraphBuilder b_;
  std::vector<Variable> vars_;
  std::string is_training_, labels_;
  std::vector<std::string> update_ops_, train_ops_;
  tf::SaverDef saver_;
};

}  // namespace tffreeze::modelgen
