// strip_unused_nodes(type=float32, shape="1,224,224,3"): keep only what the outputs need
// (stopping at the inputs). With type/shape, the inputs (--inputs, else every Placeholder left)
// become Placeholders of that dtype and shape, as in TensorFlow's transform of the same name.
#include <optional>
#include <sstream>

#include "common/dtype.h"
#include "common/error.h"
#include "graph/node_builders.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport strip_unused_nodes(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  if (ctx.outputs.empty()) {
    report.refused.push_back("no outputs given (--outputs): nothing stripped");
    return report;
  }
  graph::GraphView view(*graph);
  auto keep = view.needed_by(ctx.outputs, ctx.inputs);
  std::vector<bool> remove(keep.size());
  for (std::size_t i = 0; i < keep.size(); ++i) {
    remove[i] = !keep[i];
    report.changed += remove[i];
  }
  erase_nodes(graph, remove);
  if (!ctx.args.count("type") && !ctx.args.count("shape")) return report;
  std::optional<tf::DataType> dtype;
  if (ctx.args.count("type")) {
    dtype = parse_dtype(ctx.args.at("type"));
    if (!dtype) throw Error(ExitCode::kUsage, "--transforms: strip_unused_nodes: unknown type '" + ctx.args.at("type") + "'");
  }
  std::optional<tf::TensorShapeProto> shape;
  if (ctx.args.count("shape")) {
    shape.emplace();
    std::stringstream dims(ctx.args.at("shape"));
    for (std::string d; std::getline(dims, d, ',');) {
      try {
        std::size_t used = 0;
        shape->add_dim()->set_size(std::stoll(d, &used));
        if (used != d.size()) throw std::invalid_argument(d);
      } catch (const std::exception&) {
        throw Error(ExitCode::kUsage, "--transforms: strip_unused_nodes: bad shape '" + ctx.args.at("shape") + "'");
      }
    }
  }
  for (auto& node : *graph->mutable_node()) {
    const bool input = ctx.inputs.empty() ? node.op() == "Placeholder" : is_interface(ctx.inputs, node.name());
    if (!input) continue;
    tf::DataType t = dtype ? *dtype : node.attr().count("dtype") ? node.attr().at("dtype").type()
                                    : node.attr().count("T") ? node.attr().at("T").type() : tf::DT_FLOAT;
    tf::TensorShapeProto s = shape ? *shape : node.attr().count("shape") ? node.attr().at("shape").shape() : tf::TensorShapeProto();
    if (!shape && !node.attr().count("shape")) s.set_unknown_rank(true);
    const std::string name = node.name();  // a copy: the node is overwritten
    node = graph::make_placeholder(name, t, s);
    ++report.changed;
  }
  return report;
}

}  // namespace

void register_strip_unused_nodes(PassRegistry& r) {
  r.add("strip_unused_nodes", strip_unused_nodes, "keep only the nodes the outputs need; type=T, shape=\"1,224,224,3\" make the inputs such Placeholders");
}

}  // namespace tffreeze::passes
