// Shared by the pass tests: run one pass, count ops, compare two graphs numerically.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "graph/builder.h"
#include "passes/pass.h"
#include "runtime/executor.h"
#include "runtime/verify.h"

namespace tffreeze::passes::test_support {

inline PassReport run_pass(const std::string& name, tf::GraphDef* g, std::vector<std::string> outputs,
                           std::map<std::string, std::string> args = {}) {
  PassContext ctx;
  ctx.outputs = std::move(outputs);
  ctx.args = std::move(args);
  return PassRegistry::global().find(name)->run(g, ctx);
}

// Runs both graphs on the same random inputs (training flags at their inference values); the
// largest difference over the outputs.
inline double max_difference(const tf::GraphDef& a, const tf::GraphDef& b, const std::vector<std::string>& outputs,
                             const std::map<std::string, std::vector<std::int64_t>>& shapes = {}) {
  double worst = 0;
  for (const auto& [name, d] : runtime::compare_graphs(a, b, outputs, {}, shapes, 2, 3, 0, 0)) worst = std::max(worst, d.max_abs);
  return worst;
}

inline int count_op(const tf::GraphDef& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.node()) n += node.op() == op;
  return n;
}

inline const tf::NodeDef* find_node(const tf::GraphDef& g, const std::string& name) {
  for (const auto& n : g.node())
    if (n.name() == name) return &n;
  return nullptr;
}

inline bool said(const PassReport& r, const std::string& node, const std::string& why) {
  for (const auto& s : r.refused)
    if (s.find("'" + node + "'") != std::string::npos && s.find(why) != std::string::npos) return true;
  return false;
}

}  // namespace tffreeze::passes::test_support
