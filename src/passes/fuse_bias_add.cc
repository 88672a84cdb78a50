// fuse_bias_add: Add/AddV2 of a per-channel constant after a convolution or matrix product
// becomes BiasAdd (what tf.keras and the TF.js converter write as a plain add), so deploy
// importers fuse it into the layer:
//   Add(Conv2D|DepthwiseConv2dNative|Conv2DBackpropInput|MatMul, Const [C] | [1,..,1,C])  -> BiasAdd NHWC
//   Add(NCHW conv, Const [C,1,1] | [1,C,1,1])                                             -> BiasAdd NCHW
// Left alone, saying why: a constant that is not per-channel (it would change the shape or
// differ along other axes).
#include <set>

#include "graph/node_builders.h"
#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

bool is_layer(const std::string& op) {
  static const std::set<std::string> kOps = {"Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul"};
  return kOps.count(op) > 0;
}

// Output channels of a layer, from its constant weights; 0 if unknown.
std::int64_t output_channels(const graph::GraphView& view, int layer) {
  const auto& node = view.node(layer);
  int w = const_through_identity(view, layer, 1);  // Conv2DBackpropInput: (sizes, filter, grad)
  if (w < 0) return 0;
  const auto& shape = view.node(w).attr().at("value").tensor().tensor_shape();
  auto dim = [&](int d) { return d < shape.dim_size() ? shape.dim(d).size() : 0; };
  if (node.op() == "Conv2D") return dim(3);
  if (node.op() == "DepthwiseConv2dNative") return dim(2) * dim(3);
  if (node.op() == "Conv2DBackpropInput") return dim(2);
  const bool transpose_b = node.attr().count("transpose_b") && node.attr().at("transpose_b").b();
  return transpose_b ? dim(0) : dim(1);
}

// The bias values if `t` holds one value per channel along the channel axis of the layout.
std::vector<float> per_channel(const Tensor& t, std::int64_t C, bool nchw) {
  if (t.dtype != tf::DT_FLOAT || t.num_elements() != C) return {};
  // NHWC: [C], [1,C], [1,1,1,C]. NCHW (rank 4 output): [C,1,1] or [1,C,1,1].
  std::vector<std::int64_t> dims = t.shape;
  if (nchw) {
    if (dims.size() == 4 && dims[0] == 1) dims.erase(dims.begin());
    if (dims.size() != 3 || dims[1] != 1 || dims[2] != 1) return {};
    return floats_of(t);
  }
  for (std::size_t d = 0; d + 1 < dims.size(); ++d)
    if (dims[d] != 1) return {};
  return dims.size() <= 4 ? floats_of(t) : std::vector<float>{};
}

PassReport fuse_bias_add(tf::GraphDef* graph, const PassContext&) {
  PassReport report;
  graph::GraphView view(*graph);
  graph::UniqueNames names(*graph);
  std::vector<std::pair<int, tf::NodeDef>> rewritten;
  std::vector<tf::NodeDef> new_consts;
  for (int i = 0; i < view.size(); ++i) {
    const auto& node = view.node(i);
    if (node.op() != "Add" && node.op() != "AddV2") continue;
    for (int k : {1, 0}) {
      int c = const_through_identity(view, i, k);
      const graph::Edge* x = data_input(view, i, 1 - k);
      if (c < 0 || !x || x->output != 0 || !is_layer(view.node(x->producer).op())) continue;
      const auto& layer = view.node(x->producer);
      const bool nchw = layer.op() != "MatMul" && layer.attr().count("data_format") && layer.attr().at("data_format").s() == "NCHW";
      const std::int64_t C = output_channels(view, x->producer);
      Tensor value = const_value(view.node(c));
      std::vector<float> bias = C > 0 ? per_channel(value, C, nchw) : std::vector<float>{};
      if (bias.empty()) {
        report.refused.push_back("node '" + node.name() + "': the added constant is not one value per output channel of '" + layer.name() + "'");
        break;
      }
      std::string bias_input = node.input(k);
      if (value.shape.size() != 1) {  // BiasAdd wants a vector
        new_consts.push_back(graph::make_const(names.fresh(node.name() + "/bias"), float_tensor({C}, bias)));
        bias_input = new_consts.back().name();
      }
      rewritten.emplace_back(i, bias_add_node(node.name(), node.input(1 - k), bias_input, node, nchw ? "NCHW" : "NHWC"));
      ++report.changed;
      break;
    }
  }
  for (auto& [i, n] : rewritten) *graph->mutable_node(i) = std::move(n);
  for (auto& c : new_consts) *graph->add_node() = std::move(c);
  return report;
}

}  // namespace

void register_fuse_bias_add(PassRegistry& r) {
  r.add("fuse_bias_add", fuse_bias_add, "Add/AddV2 of a per-channel constant after a conv or matmul -> BiasAdd");
}

}  // namespace tffreeze::passes
