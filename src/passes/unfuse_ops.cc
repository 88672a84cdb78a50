// unfuse_ops: TF-internal fused ops, which only TensorFlow's own runtime (and TF.js) know, back
// into their standard parts, for targets without them:
//   _FusedConv2D(x, w, args…; fused_ops=[BiasAdd, Relu])  ->  Relu(BiasAdd(Conv2D(x, w), b))
//   FusedDepthwiseConv2dNative                            ->  DepthwiseConv2dNative + …
//   _FusedMatMul                                          ->  MatMul + …
// Post-ops: BiasAdd, Add (AddV2), FusedBatchNorm (FusedBatchNormV3, inference), Relu, Relu6,
// Elu, LeakyRelu, Sigmoid, Tanh. The last part keeps the fused node's name, so consumers are
// unchanged; the others are named "<name>/<Op>". Unknown post-ops are left fused, with the reason.
#include <set>

#include "graph/unique_names.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

const std::map<std::string, std::string>& base_ops() {
  static const std::map<std::string, std::string> kOps = {
      {"_FusedConv2D", "Conv2D"}, {"FusedDepthwiseConv2dNative", "DepthwiseConv2dNative"}, {"_FusedMatMul", "MatMul"}};
  return kOps;
}

void copy_attrs(const tf::NodeDef& from, tf::NodeDef* to, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (from.attr().count(name)) (*to->mutable_attr())[name] = from.attr().at(name);
}

// The parts of one fused node, or an error message.
std::vector<tf::NodeDef> unfuse(const tf::NodeDef& fused, graph::UniqueNames& names, std::string* why) {
  std::vector<std::string> post;
  if (fused.attr().count("fused_ops"))
    for (const auto& s : fused.attr().at("fused_ops").list().s()) post.push_back(s);
  static const std::set<std::string> kUnary = {"Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Tanh"};
  std::vector<tf::NodeDef> parts;
  tf::NodeDef base;
  base.set_op(base_ops().at(fused.op()));
  base.add_input(fused.input(0));
  base.add_input(fused.input(1));
  copy_attrs(fused, &base, {"T", "strides", "padding", "explicit_paddings", "data_format", "dilations", "use_cudnn_on_gpu",
                            "transpose_a", "transpose_b"});
  if (base.op() != "Conv2D") base.mutable_attr()->erase("use_cudnn_on_gpu");
  if (base.op() == "MatMul") {
    for (const char* a : {"strides", "padding", "explicit_paddings", "data_format", "dilations"}) base.mutable_attr()->erase(a);
  }
  parts.push_back(base);
  const std::string data_format = fused.attr().count("data_format") ? fused.attr().at("data_format").s() : "NHWC";
  int arg = 2;
  auto next_arg = [&]() -> std::string {
    if (arg >= fused.input_size() || fused.input(arg).rfind('^', 0) == 0) return "";
    return fused.input(arg++);
  };
  for (const auto& op : post) {
    tf::NodeDef part;
    part.set_op(op);
    copy_attrs(fused, &part, {"T"});
    if (op == "BiasAdd" || op == "Add") {
      std::string b = next_arg();
      if (b.empty()) {
        *why = "fused op '" + op + "' has no argument";
        return {};
      }
      if (op == "Add") part.set_op("AddV2");
      part.add_input("");
      part.add_input(b);
      if (op == "BiasAdd" && base.op() != "MatMul") (*part.mutable_attr())["data_format"].set_s(data_format);
    } else if (op == "FusedBatchNorm") {
      part.set_op("FusedBatchNormV3");
      part.add_input("");
      for (int k = 0; k < 4; ++k) {
        std::string p = next_arg();
        if (p.empty()) {
          *why = "FusedBatchNorm needs 4 arguments";
          return {};
        }
        part.add_input(p);
      }
      (*part.mutable_attr())["U"].set_type(tf::DT_FLOAT);
      (*part.mutable_attr())["is_training"].set_b(false);
      (*part.mutable_attr())["data_format"].set_s(base.op() == "MatMul" ? "NHWC" : data_format);
      copy_attrs(fused, &part, {"epsilon"});
    } else if (kUnary.count(op)) {
      part.add_input("");
      if (op == "LeakyRelu" && fused.attr().count("leakyrelu_alpha")) (*part.mutable_attr())["alpha"] = fused.attr().at("leakyrelu_alpha");
    } else {
      *why = "fused op '" + op + "' has no standard equivalent here";
      return {};
    }
    parts.push_back(part);
  }
  // Names and chaining: the last part is the fused node itself.
  for (std::size_t k = 0; k < parts.size(); ++k) {
    parts[k].set_name(k + 1 == parts.size() ? fused.name() : names.fresh(fused.name() + "/" + parts[k].op()));
    parts[k].set_device(fused.device());
    if (k > 0) parts[k].set_input(0, parts[k - 1].name());
  }
  for (const auto& in : fused.input())
    if (!in.empty() && in[0] == '^') parts.front().add_input(in);
  return parts;
}

PassReport unfuse_ops(tf::GraphDef* graph, const PassContext&) {
  PassReport report;
  tf::GraphDef out;
  graph::UniqueNames names(*graph);
  for (auto& node : *graph->mutable_node()) {
    if (!base_ops().count(node.op())) {
      out.add_node()->Swap(&node);
      continue;
    }
    std::string why;
    auto parts = unfuse(node, names, &why);
    if (parts.empty()) {
      report.refused.push_back("node '" + node.name() + "': " + why);
      out.add_node()->Swap(&node);
      continue;
    }
    for (auto& p : parts) *out.add_node() = std::move(p);
    ++report.changed;
  }
  graph->mutable_node()->Swap(out.mutable_node());
  return report;
}

}  // namespace

void register_unfuse_ops(PassRegistry& r) {
  r.add("unfuse_ops", unfuse_ops, "_FusedConv2D / _FusedMatMul / FusedDepthwiseConv2dNative -> standard op + BiasAdd + activation");
}

}  // namespace tffreeze::passes
