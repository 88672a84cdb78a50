// Writes the README's example: a small MobileNet-style inference graph as a user's training
// code leaves it (Conv2D -> BiasAdd -> FusedBatchNorm -> Relu6, a depthwise block, dropout
// with a keep_prob placeholder, a classifier), with seeded random weights.
//   tffreeze-example-graph OUT.pb|OUT.pbtxt
#include <cstring>
#include <iostream>
#include <random>

#include "common/error.h"
#include "io/model.h"
#include "tools/graph_builder.h"

using tffreeze::tools::Builder;
namespace tf = tffreeze::tf;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tffreeze-example-graph OUT.pb|OUT.pbtxt\n";
    return 2;
  }
  Builder b;
  b.graph.mutable_versions()->set_producer(27);
  auto* input = b.op("input", "Placeholder", {}, false);
  Builder::attr(input, "dtype").set_type(tf::DT_FLOAT);
  for (long long d : {-1, 32, 32, 3}) Builder::attr(input, "shape").mutable_shape()->add_dim()->set_size(d);

  auto w1 = b.constant("conv1/weights", {3, 3, 3, 16}, -0.3f, 0.3f);
  auto* conv = b.op("conv1/Conv2D", "Conv2D", {"input", w1});
  b.ints(conv, "strides", {1, 2, 2, 1});
  Builder::attr(conv, "padding").set_s("SAME");
  auto bias1 = b.constant("conv1/biases", {16}, -0.1f, 0.1f);
  b.op("conv1/BiasAdd", "BiasAdd", {"conv1/Conv2D", bias1});
  auto bn1 = b.batch_norm("conv1/BatchNorm", "conv1/BiasAdd", 16, "FusedBatchNorm");
  b.op("conv1/Relu6", "Relu6", {bn1});

  auto wd = b.constant("block1/depthwise_weights", {3, 3, 16, 1}, -0.3f, 0.3f);
  auto* dw = b.op("block1/depthwise", "DepthwiseConv2dNative", {"conv1/Relu6", wd});
  b.ints(dw, "strides", {1, 1, 1, 1});
  Builder::attr(dw, "padding").set_s("SAME");
  auto bn2 = b.batch_norm("block1/BatchNorm", "block1/depthwise", 16, "FusedBatchNormV3");
  b.op("block1/Relu6", "Relu6", {bn2});

  auto axes = b.int_constant("pool/axes", {1, 2});
  auto* mean = b.op("pool/Mean", "Mean", {"block1/Relu6", axes});
  Builder::attr(mean, "Tidx").set_type(tf::DT_INT32);

  // tf.nn.dropout(keep_prob) as TF 1 writes it: x / keep_prob * floor(keep_prob + U[0,1)).
  auto one = b.constant("dropout/default_keep_prob", {}, 1.0f, 1.0f);
  auto* keep = b.op("keep_prob", "PlaceholderWithDefault", {one}, false);
  Builder::attr(keep, "dtype").set_type(tf::DT_FLOAT);
  Builder::attr(keep, "shape").mutable_shape();
  auto* shape = b.op("dropout/Shape", "Shape", {"pool/Mean"});
  Builder::attr(shape, "out_type").set_type(tf::DT_INT32);
  auto* random = b.op("dropout/random_uniform/RandomUniform", "RandomUniform", {"dropout/Shape"}, false);
  Builder::attr(random, "T").set_type(tf::DT_INT32);
  Builder::attr(random, "dtype").set_type(tf::DT_FLOAT);
  b.op("dropout/add", "Add", {"keep_prob", "dropout/random_uniform/RandomUniform"});
  b.op("dropout/Floor", "Floor", {"dropout/add"});
  b.op("dropout/div", "RealDiv", {"pool/Mean", "keep_prob"});
  b.op("dropout/mul", "Mul", {"dropout/div", "dropout/Floor"});

  auto wfc = b.constant("logits/weights", {16, 10}, -0.5f, 0.5f);
  b.op("logits/MatMul", "MatMul", {"dropout/mul", wfc});
  auto bfc = b.constant("logits/biases", {10}, -0.1f, 0.1f);
  b.op("logits/BiasAdd", "BiasAdd", {"logits/MatMul", bfc});
  b.op("predictions", "Softmax", {"logits/BiasAdd"});

  try {
    tffreeze::io::save_graph(b.graph, argv[1]);
  } catch (const tffreeze::Error& e) {
    std::cerr << "tffreeze-example-graph: " << e.what() << "\n";
    return static_cast<int>(e.code());
  }
  std::cerr << "wrote " << argv[1] << " (" << b.graph.node_size() << " nodes)\n";
  return 0;
}
