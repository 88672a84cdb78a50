#include "runtime/verify.h"

#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "common/dtype.h"
#include "common/error.h"
#include "graph/graph_view.h"
#include "graph/training_ops.h"
#include "runtime/executor.h"

namespace tffreeze::runtime {

std::vector<const tf::NodeDef*> needed_placeholders(const tf::GraphDef& graph, const std::vector<std::string>& fetches) {
  graph::GraphView view(graph);
  auto keep = view.needed_by(fetches);
  std::vector<const tf::NodeDef*> out;
  for (int i = 0; i < view.size(); ++i)
    if (keep[i] && view.node(i).op() == "Placeholder") out.push_back(&view.node(i));
  return out;
}

std::map<std::string, Tensor> random_feeds(const std::vector<const tf::NodeDef*>& placeholders,
                                           const std::map<std::string, std::vector<std::int64_t>>& shapes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, Tensor> feeds;
  for (const tf::NodeDef* p : placeholders) {
    Tensor t;
    t.dtype = base_type(p->attr().count("dtype") ? p->attr().at("dtype").type() : tf::DT_FLOAT);
    if (auto it = shapes.find(p->name()); it != shapes.end()) {
      t.shape = it->second;
    } else if (p->attr().count("shape") && !p->attr().at("shape").shape().unknown_rank()) {
      for (const auto& d : p->attr().at("shape").shape().dim()) t.shape.push_back(d.size() < 0 ? 1 : d.size());
    }
    if (graph::is_training_flag(*p)) {
      std::string leaf = p->name().substr(p->name().rfind('/') + 1);
      const bool keep = leaf.find("keep") != std::string::npos;
      t.shape.clear();
      t.bytes.assign(static_cast<std::size_t>(dtype_size(t.dtype)), '\0');
      if (t.dtype == tf::DT_FLOAT && keep) { float one = 1; std::memcpy(t.bytes.data(), &one, 4); }
      if (t.dtype == tf::DT_DOUBLE && keep) { double one = 1; std::memcpy(t.bytes.data(), &one, 8); }
      feeds[p->name()] = std::move(t);
      continue;
    }
    const std::int64_t n = t.num_elements();
    if (n > kMaxExpandedTensorBytes / 8) throw Error(ExitCode::kBadInput, "input '" + p->name() + "' is too large to draw");
    const int esize = dtype_size(t.dtype);
    if (esize == 0) throw Error(ExitCode::kUnsupported, "input '" + p->name() + "' of dtype " + dtype_name(t.dtype) + " cannot be drawn at random (give it with -i, or skip the proof with --no-verify)");
    t.bytes.resize(static_cast<std::size_t>(n * esize));
    std::uniform_real_distribution<double> real(-1.0, 1.0);
    std::uniform_int_distribution<int> small(0, 9);
    for (std::int64_t i = 0; i < n; ++i) {
      char* at = t.bytes.data() + i * esize;
      switch (t.dtype) {
        case tf::DT_FLOAT: { float v = static_cast<float>(real(rng)); std::memcpy(at, &v, 4); break; }
        case tf::DT_DOUBLE: { double v = real(rng); std::memcpy(at, &v, 8); break; }
        case tf::DT_INT32: { std::int32_t v = small(rng); std::memcpy(at, &v, 4); break; }
        case tf::DT_INT64: { std::int64_t v = small(rng); std::memcpy(at, &v, 8); break; }
        case tf::DT_UINT8: { std::uint8_t v = static_cast<std::uint8_t>(small(rng)); std::memcpy(at, &v, 1); break; }
        case tf::DT_BOOL: *at = static_cast<char>(small(rng) % 2); break;
        default: throw Error(ExitCode::kUnsupported, "input '" + p->name() + "' of dtype " + dtype_name(t.dtype) + " cannot be drawn at random (give it with -i, or skip the proof with --no-verify)");
      }
    }
    feeds[p->name()] = std::move(t);
  }
  return feeds;
}

void check_feed(const tf::GraphDef& graph, const std::string& name, const Tensor& value) {
  std::string_view node_name = graph::parse_input(name).node;
  for (const auto& n : graph.node()) {
    if (n.name() != node_name) continue;
    if (n.op() != "Placeholder" && n.op() != "PlaceholderWithDefault") return;  // feeding an inner tensor: TF allows it
    tf::DataType want = base_type(n.attr().count("dtype") ? n.attr().at("dtype").type() : value.dtype);
    if (want != value.dtype) {
      throw Error(ExitCode::kBadInput, "input '" + name + "' is " + dtype_name(value.dtype) + ", the placeholder wants " + dtype_name(want));
    }
    if (n.attr().count("shape") && !n.attr().at("shape").shape().unknown_rank()) {
      const auto& dims = n.attr().at("shape").shape().dim();
      bool ok = dims.size() == static_cast<int>(value.shape.size());
      for (int d = 0; ok && d < dims.size(); ++d) ok = dims[d].size() < 0 || dims[d].size() == value.shape[static_cast<std::size_t>(d)];
      if (!ok) {
        throw Error(ExitCode::kBadInput, "input '" + name + "' has shape " + dims_string(value.shape) + ", the placeholder wants " +
                                             shape_string(n.attr().at("shape").shape()));
      }
    }
    return;
  }
  throw Error(ExitCode::kBadInput, "input '" + name + "' is not a node of the graph");
}

Difference compare_tensors(const Tensor& a, const Tensor& b, double rtol, double atol) {
  Difference d;
  if (a.dtype != b.dtype || a.shape != b.shape) {
    d.within_tolerance = false;
    d.mismatch = dtype_name(a.dtype) + dims_string(a.shape) + " vs " + dtype_name(b.dtype) + dims_string(b.shape);
    return d;
  }
  if (a.dtype == tf::DT_STRING) {
    d.within_tolerance = a.strings == b.strings;
    return d;
  }
  for (std::int64_t i = 0, n = a.num_elements(); i < n; ++i) {
    const double x = element_as_double(a, i), y = element_as_double(b, i);
    if (std::isnan(x) && std::isnan(y)) continue;
    const double diff = std::isnan(x) || std::isnan(y) ? INFINITY : std::abs(x - y);
    d.max_abs = std::max(d.max_abs, diff);
    if (y != 0) d.max_rel = std::max(d.max_rel, diff / std::abs(y));
    if (!(diff <= atol + rtol * std::abs(y))) d.within_tolerance = false;
  }
  return d;
}

}  // namespace tffreeze::runtime

namespace tffreeze::runtime {

std::map<std::string, Difference> compare_graphs(const tf::GraphDef& reference, const tf::GraphDef& candidate,
                                                 const std::vector<std::string>& fetches, const std::map<std::string, Tensor>& given,
                                                 const std::map<std::string, std::vector<std::int64_t>>& shapes, int batches,
                                                 std::uint64_t seed, double rtol, double atol) {
  auto placeholders = needed_placeholders(reference, fetches);
  std::set<std::string> candidate_inputs;
  for (const auto* p : needed_placeholders(candidate, fetches)) candidate_inputs.insert(p->name());
  std::vector<std::map<std::string, Tensor>> batch_feeds;
  for (int batch = 0; batch < std::max(batches, 1) && (given.empty() || batch == 0); ++batch)
    batch_feeds.push_back(given.empty() ? random_feeds(placeholders, shapes, seed + static_cast<std::uint64_t>(batch)) : given);
  // One graph at a time, and for one batch each weight only while it is read: only the outputs
  // need to outlive a run.
  const bool keep_constants = batch_feeds.size() > 1;
  std::vector<std::vector<Tensor>> want;
  {
    Executor ea(reference);
    ea.set_keep_constants(keep_constants);
    for (const auto& feeds : batch_feeds) want.push_back(ea.run(feeds, fetches));
  }
  Executor eb(candidate);
  eb.set_keep_constants(keep_constants);
  std::map<std::string, Difference> worst;
  for (std::size_t batch = 0; batch < batch_feeds.size(); ++batch) {
    std::map<std::string, Tensor> feeds_b;
    for (const auto& [name, t] : batch_feeds[batch])
      if (candidate_inputs.count(std::string(graph::parse_input(name).node))) feeds_b[name] = t;
    const auto& ra = want[batch];
    auto rb = eb.run(feeds_b, fetches);
    for (std::size_t i = 0; i < fetches.size(); ++i) {
      auto d = compare_tensors(ra[i], rb[i], rtol, atol);
      auto& w = worst[fetches[i]];
      w.max_abs = std::max(w.max_abs, d.max_abs);
      w.max_rel = std::max(w.max_rel, d.max_rel);
      w.within_tolerance = w.within_tolerance && d.within_tolerance;
      if (!d.mismatch.empty()) w.mismatch = d.mismatch;
    }
  }
  return worst;
}

// Both graphs run once more, watched: the reference's tensors are kept where the candidate has a
// node of that name (this runs only when a proof failed), then the candidate's are compared as
// they are computed.
std::optional<Departure> first_departure(const tf::GraphDef& reference, const tf::GraphDef& candidate, const std::vector<std::string>& fetches,
                                         const std::map<std::string, Tensor>& feeds, double rtol, double atol) {
  std::set<std::string> candidate_nodes;
  for (const auto& n : candidate.node()) candidate_nodes.insert(n.name());
  std::map<std::string, Tensor> seen;
  Executor ea(reference);
  ea.set_keep_constants(false);
  ea.set_observer([&](const tf::NodeDef& node, int k, const Tensor& t) {
    if (candidate_nodes.count(node.name()) && node.op() != "Const") seen.emplace(graph::tensor_name(node.name(), k), t);
  });
  ea.run(feeds, fetches);
  std::optional<Departure> first;
  Executor eb(candidate);
  eb.set_keep_constants(false);
  eb.set_observer([&](const tf::NodeDef& node, int k, const Tensor& t) {
    if (first) return;
    auto it = seen.find(graph::tensor_name(node.name(), k));
    if (it == seen.end() || it->second.dtype != t.dtype || it->second.shape != t.shape) return;
    auto d = compare_tensors(t, it->second, rtol, atol);
    if (!d.within_tolerance) first = Departure{it->first, node.op(), d};
  });
  std::map<std::string, Tensor> candidate_feeds;
  for (const auto& [name, t] : feeds)
    if (candidate_nodes.count(std::string(graph::parse_input(name).node))) candidate_feeds[name] = t;
  eb.run(candidate_feeds, fetches);
  return first;
}

}  // namespace tffreeze::runtime
