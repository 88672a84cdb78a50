// strip_attrs(names=_class|_output_shapes): remove attributes that only TensorFlow's runtime
// reads. Default: every attribute whose name starts with '_' (_class colocation,
// _output_shapes, _XlaCompile, _grappler_*, ...); no op definition declares one.
#include <set>
#include <sstream>

#include "graph/mapped_constants.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport strip_attrs(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  std::set<std::string> names;
  if (auto it = ctx.args.find("names"); it != ctx.args.end()) {
    std::stringstream spec(it->second);
    for (std::string n; std::getline(spec, n, '|');) names.insert(n);
  }
  for (auto& node : *graph->mutable_node()) {
    std::vector<std::string> doomed;
    for (const auto& [key, value] : node.attr())
      if (key == graph::kMappedValueAttr) continue;  // where the value is, not an attr of the graph
      else if (names.empty() ? key.rfind('_', 0) == 0 : names.count(key) > 0) doomed.push_back(key);
    for (const auto& key : doomed) node.mutable_attr()->erase(key);
    report.changed += static_cast<int>(doomed.size());
  }
  return report;
}

}  // namespace

void register_strip_attrs(PassRegistry& r) {
  r.add("strip_attrs", strip_attrs, "remove runtime-only attrs: names=a|b (default: every attr starting with '_')");
}

}  // namespace tffreeze::passes
