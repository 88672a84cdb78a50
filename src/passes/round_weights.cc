// round_weights(num_steps=256, min_elements=1024): round each large float constant to
// num_steps evenly spaced levels between its minimum and maximum, so the file compresses well;
// the graph and its dtype stay the same (TensorFlow graph_transforms' round_weights). This
// changes the numbers: optimize's built-in check decides whether the change is tolerable.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "graph/node_builders.h"
#include "passes/graph_edit.h"
#include "passes/pass.h"

namespace tffreeze::passes {
namespace {

PassReport round_weights(tf::GraphDef* graph, const PassContext& ctx) {
  PassReport report;
  const std::int64_t steps = int_arg(ctx, "num_steps", 256, 2);
  const std::int64_t min_elements = int_arg(ctx, "min_elements", 1024, 1);
  for (auto& node : *graph->mutable_node()) {
    if (node.op() != "Const" || !node.attr().count("value")) continue;
    Tensor t = const_value(node);
    if (t.dtype != tf::DT_FLOAT || t.num_elements() < min_elements) continue;
    std::vector<float> v(static_cast<std::size_t>(t.num_elements()));
    std::memcpy(v.data(), t.bytes.data(), v.size() * 4);
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const float min = *lo, range = *hi - *lo;
    if (range <= 0) continue;
    const float step = range / static_cast<float>(steps - 1);
    for (float& x : v) x = min + std::round((x - min) / step) * step;
    std::memcpy(t.bytes.data(), v.data(), v.size() * 4);
    tf::NodeDef rounded = graph::make_const(node.name(), t);
    rounded.set_device(node.device());
    node = rounded;
    ++report.changed;
  }
  return report;
}

}  // namespace

void register_round_weights(PassRegistry& r) {
  r.add("round_weights", round_weights, "round large float constants to num_steps levels (num_steps=256, min_elements=1024)");
}

}  // namespace tffreeze::passes
