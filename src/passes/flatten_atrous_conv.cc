// flatten_atrous_conv: the SpaceToBatchND -> conv -> BatchToSpaceND sandwich that
// tf.nn.atrous_conv2d and old Keras dilated convolutions produce becomes one convolution with
// `dilations`:
//   BatchToSpaceND(Conv2D|DepthwiseConv2dNative(SpaceToBatchND(x, block, pad), w), block, crop)
//     -> Conv2D|DepthwiseConv2dNative(x, w; dilations=[1,b0,b1,1], padding=SAME|VALID)
// The space-to-batch padding minus the crops is the padding the dilated convolution needs; it is
// rewritten only when that equals SAME or VALID exactly, the conv is NHWC with stride 1, and the
// intermediate results have no other reader. Otherwise it is left alone, with the reason.
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

std::vector<std::int64_t> ints_of(const Tensor& t) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(t.num_elements()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::int64_t>(element_as_double(t, static_cast<std::int64_t>(i)));
  return v;
}

// "SAME", "VALID" or "" for the effective padding (before, after) of a filter of extent k.
std::string padding_name(std::int64_t before, std::int64_t after, std::int64_t k) {
  if (before == 0 && after == 0) return "VALID";
  if (before == (k - 1) / 2 && after == k - 1 - (k - 1) / 2) return "SAME";
  return "";
}

PassReport flatten_atrous_conv(tf::GraphDef* graph, const PassContext&) {
  PassReport report;
  graph::GraphView view(*graph);
  std::vector<bool> remove(static_cast<std::size_t>(view.size()), false);
  std::vector<std::pair<int, tf::NodeDef>> rewritten;
  for (int i = 0; i < view.size(); ++i) {
    const auto& b2s = view.node(i);
    if (b2s.op() != "BatchToSpaceND") continue;
    const graph::Edge* c = data_input(view, i, 0);
    if (!c || (view.node(c->producer).op() != "Conv2D" && view.node(c->producer).op() != "DepthwiseConv2dNative")) continue;
    const int conv = c->producer;
    const graph::Edge* s = data_input(view, conv, 0);
    if (!s || view.node(s->producer).op() != "SpaceToBatchND") continue;
    const int s2b = s->producer;
    auto refuse = [&](const std::string& why) { report.refused.push_back("node '" + b2s.name() + "': " + why); };
    const auto& cv = view.node(conv);
    const int block = const_through_identity(view, s2b, 1), pad = const_through_identity(view, s2b, 2);
    const int block2 = const_through_identity(view, i, 1), crop = const_through_identity(view, i, 2);
    const int w = const_through_identity(view, conv, 1);
    if (block < 0 || pad < 0 || block2 < 0 || crop < 0 || w < 0) {
      refuse("block shape, paddings, crops or weights are not constants");
      continue;
    }
    if (consumer_count(view, s2b) != 1 || consumer_count(view, conv) != 1) {
      refuse("an intermediate result has other readers");
      continue;
    }
    auto b = ints_of(const_value(view.node(block))), b2 = ints_of(const_value(view.node(block2)));
    auto p = ints_of(const_value(view.node(pad))), cr = ints_of(const_value(view.node(crop)));
    Tensor weights = const_value(view.node(w));
    bool nhwc = !cv.attr().count("data_format") || cv.attr().at("data_format").s() == "NHWC";
    bool stride1 = true;
    if (cv.attr().count("strides"))
      for (auto st : cv.attr().at("strides").list().i()) stride1 &= st == 1;
    bool valid_conv = cv.attr().count("padding") && cv.attr().at("padding").s() == "VALID";
    if (b.size() != 2 || b != b2 || p.size() != 4 || cr.size() != 4 || weights.shape.size() != 4 || !nhwc || !stride1 || !valid_conv) {
      refuse("not a 2-D NHWC stride-1 VALID convolution between matching space/batch ops");
      continue;
    }
    std::string padding;
    for (int d = 0; d < 2 && (d == 0 || !padding.empty()); ++d) {
      const std::int64_t extent = (weights.shape[static_cast<std::size_t>(d)] - 1) * b[static_cast<std::size_t>(d)] + 1;
      std::string name = padding_name(p[2 * d] - cr[2 * d], p[2 * d + 1] - cr[2 * d + 1], extent);
      padding = d == 0 || name == padding ? name : "";
    }
    if (padding.empty()) {
      refuse("the paddings and crops are neither SAME nor VALID for the dilated filter");
      continue;
    }
    tf::NodeDef dilated = cv;
    dilated.set_name(b2s.name());
    dilated.set_input(0, view.node(s2b).input(0));
    dilated.set_device(b2s.device());
    auto* dil = (*dilated.mutable_attr())["dilations"].mutable_list();
    dil->clear_i();
    for (std::int64_t v : {std::int64_t{1}, b[0], b[1], std::int64_t{1}}) dil->add_i(v);
    (*dilated.mutable_attr())["padding"].set_s(padding);
    rewritten.emplace_back(i, std::move(dilated));
    remove[static_cast<std::size_t>(conv)] = remove[static_cast<std::size_t>(s2b)] = true;
    ++report.changed;
  }
  for (auto& [i, n] : rewritten) *graph->mutable_node(i) = std::move(n);
  erase_nodes(graph, remove);
  return report;
}

}  // namespace

void register_flatten_atrous_conv(PassRegistry& r) {
  r.add("flatten_atrous_conv", flatten_atrous_conv, "SpaceToBatchND -> conv -> BatchToSpaceND -> one conv with dilations");
}

}  // namespace tffreeze::passes
