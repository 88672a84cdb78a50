#include "api/run.h"

#include <algorithm>

#include "api/executable_model.h"
#include "api/optimize.h"
#include "common/error.h"
#include "freeze/freeze.h"
#include "graph/default_attrs.h"
#include "graph/graph_view.h"
#include "graph/summary.h"
#include "io/checkpoint/checkpoint.h"
#include "runtime/executor.h"

namespace tffreeze::api {

Runnable runnable_model(io::Model model, const std::vector<std::string>& outputs) {
  model = executable_model(std::move(model));
  Runnable r;
  r.outputs = outputs.empty() ? graph::likely_outputs(model) : outputs;
  if (r.outputs.empty()) throw Error(ExitCode::kUsage, model.path + ": no outputs found; give --output");
  r.graph = std::move(*model.mutable_graph());
  return r;
}

Runnable runnable_model(const std::string& path, const std::string& checkpoint, const std::vector<std::string>& tags,
                        const std::vector<std::string>& outputs) {
  if (checkpoint.empty()) return runnable_model(io::load_model(path, {tags}), outputs);
  // With a checkpoint the model is frozen in memory for exactly these outputs.
  io::Model model = io::load_model(path, {tags});
  Runnable r;
  r.outputs = outputs.empty() ? graph::likely_outputs(model) : outputs;
  if (r.outputs.empty()) throw Error(ExitCode::kUsage, path + ": no outputs found; give --output");
  auto ckpt = io::checkpoint::open_checkpoint(checkpoint);
  freeze::FreezeOptions options;
  options.outputs = r.outputs;
  r.graph = freeze::freeze_model(model, ckpt.get(), options).graph;
  return r;
}

void check_feeds(const tf::GraphDef& graph, const std::map<std::string, Tensor>& feeds) {
  for (const auto& [name, value] : feeds) runtime::check_feed(graph, name, value);
}

std::vector<Tensor> run_graph(const tf::GraphDef& graph, const std::vector<std::string>& outputs, const std::map<std::string, Tensor>& feeds) {
  check_feeds(graph, feeds);
  return runtime::Executor(graph).run(feeds, outputs);
}

namespace {

// The outputs' shapes on random inputs whose unknown dims are `unknown_dim`; nullopt when the
// graph does not run on them.
std::optional<std::vector<Tensor>> shapes_at(const tf::GraphDef& graph, const std::vector<std::string>& outputs, std::int64_t unknown_dim) {
  std::map<std::string, std::vector<std::int64_t>> shapes;
  const auto placeholders = runtime::needed_placeholders(graph, outputs);
  for (const auto* p : placeholders) {
    auto it = p->attr().find("shape");
    if (it == p->attr().end() || it->second.shape().unknown_rank()) return std::nullopt;
    std::vector<std::int64_t> dims;
    for (const auto& d : it->second.shape().dim()) dims.push_back(d.size() < 0 ? unknown_dim : d.size());
    shapes[p->name()] = dims;
  }
  try {
    return runtime::Executor(graph).run(runtime::random_feeds(placeholders, shapes, 1), outputs);
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<OutputInfo> output_infos(const tf::GraphDef& graph, const std::vector<std::string>& outputs) {
  graph::GraphView view(graph);
  auto once = shapes_at(graph, outputs, 1), twice = shapes_at(graph, outputs, 2);
  std::vector<OutputInfo> out;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    OutputInfo info{outputs[k], "", tf::DT_INVALID, std::nullopt};
    const graph::TensorRef ref = graph::parse_input(outputs[k]);
    if (const int i = view.find(ref.node); i >= 0) {
      info.op = view.node(i).op();
      info.dtype = graph::output_dtype(view.node(i), ref.index).value_or(tf::DT_INVALID);
    }
    if (once && twice) {
      std::vector<std::int64_t> dims = (*once)[k].shape;
      const auto& other = (*twice)[k].shape;
      for (std::size_t d = 0; d < dims.size(); ++d)
        if (other.size() != dims.size() || other[d] != dims[d]) dims[d] = -1;
      info.shape = dims;
    }
    out.push_back(std::move(info));
  }
  return out;
}

bool Verified::equal() const {
  return std::all_of(differences.begin(), differences.end(), [](const auto& d) { return d.second.within_tolerance; });
}

Verified verify_models(io::Model a, io::Model b, const VerifyOptions& v) {
  io::Model ma = executable_model(std::move(a)), mb = executable_model(std::move(b));
  std::vector<std::string> outputs = v.outputs.empty() ? graph::likely_outputs(ma) : v.outputs;
  graph::GraphView vb(mb.graph());
  std::vector<std::string> common;
  for (const auto& o : outputs)
    if (vb.find(graph::parse_input(o).node) >= 0) common.push_back(o);
  if (common.empty()) throw Error(ExitCode::kBadInput, mb.path + ": none of the outputs of " + ma.path + " exists in it");
  Verified out;
  out.batches = v.feeds.empty() ? std::max(v.random, 1) : 1;
  out.differences = runtime::compare_graphs(ma.graph(), mb.graph(), common, v.feeds, parse_shapes(v.shapes), out.batches, v.seed, v.rtol, v.atol);
  if (!out.equal()) {
    auto feeds = v.feeds.empty() ? runtime::random_feeds(runtime::needed_placeholders(ma.graph(), common), parse_shapes(v.shapes), v.seed) : v.feeds;
    out.departure = runtime::first_departure(ma.graph(), mb.graph(), common, feeds, v.rtol, v.atol);
  }
  return out;
}

}  // namespace tffreeze::api
