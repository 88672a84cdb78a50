#include "freeze/feeds.h"

#include <charconv>

#include "common/dtype.h"
#include "common/error.h"
#include "common/tensor.h"
#include "graph/node_builders.h"
#include "graph/tensor_ref.h"

namespace tffreeze::freeze {
namespace {

tf::NodeDef* find_node(tf::GraphDef* g, std::string_view name) {
  for (auto& n : *g->mutable_node())
    if (n.name() == name) return &n;
  return nullptr;
}

// Fills `t` (dtype and shape set) with `value`; throws with `where` on a bad value.
void fill(Tensor* t, const std::string& value, const std::string& where) {
  const std::int64_t n = t->num_elements();
  if (t->dtype == tf::DT_BOOL) {
    bool b;
    if (value == "true" || value == "True" || value == "1") b = true;
    else if (value == "false" || value == "False" || value == "0") b = false;
    else throw Error(ExitCode::kUsage, where + ": '" + value + "' is not a bool (true/false)");
    t->bytes.assign(static_cast<std::size_t>(n), static_cast<char>(b));
    return;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size()) throw Error(ExitCode::kUsage, where + ": '" + value + "' is not a number");
  const int esize = dtype_size(t->dtype);
  t->bytes.resize(static_cast<std::size_t>(n * esize));
  for (std::int64_t i = 0; i < n; ++i) {
    char* p = t->bytes.data() + i * esize;
    switch (t->dtype) {
      case tf::DT_FLOAT: { float f = static_cast<float>(v); std::memcpy(p, &f, 4); break; }
      case tf::DT_DOUBLE: std::memcpy(p, &v, 8); break;
      case tf::DT_INT32: { auto x = static_cast<std::int32_t>(v); std::memcpy(p, &x, 4); break; }
      case tf::DT_INT64: { auto x = static_cast<std::int64_t>(v); std::memcpy(p, &x, 8); break; }
      case tf::DT_UINT8: { auto x = static_cast<std::uint8_t>(v); std::memcpy(p, &x, 1); break; }
      default: throw Error(ExitCode::kUnsupported, where + ": --set does not support dtype " + dtype_name(t->dtype));
    }
  }
}

}  // namespace

void set_placeholder_value(tf::GraphDef* graph, const std::string& name, const std::string& value) {
  tf::NodeDef* node = find_node(graph, graph::parse_input(name).node);
  if (!node) throw Error(ExitCode::kBadInput, "--set " + name + ": no such node in the graph");
  const std::string where = "--set " + name;
  if (node->op() != "Placeholder" && node->op() != "PlaceholderWithDefault") {
    throw Error(ExitCode::kUsage, where + ": node is a " + node->op() + ", not a placeholder");
  }
  Tensor t;
  t.dtype = base_type(node->attr().count("dtype") ? node->attr().at("dtype").type() : tf::DT_INVALID);
  auto shape = node->attr().find("shape");
  if (shape != node->attr().end() && !shape->second.shape().unknown_rank()) {
    for (const auto& d : shape->second.shape().dim()) {
      if (d.size() < 0) throw Error(ExitCode::kUsage, where + ": placeholder shape " + shape_string(shape->second.shape()) + " is not fully known");
      t.shape.push_back(d.size());
    }
  }
  if (t.num_elements() > (1 << 24)) throw Error(ExitCode::kUsage, where + ": placeholder is too large to fill");
  fill(&t, value, where);
  tf::NodeDef replacement = graph::make_const(node->name(), t);
  replacement.set_device(node->device());
  *node = std::move(replacement);
}

std::string replace_input(tf::GraphDef* graph, const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos) throw Error(ExitCode::kUsage, "--replace-input " + spec + ": expected NAME=DTYPE[SHAPE]");
  const std::string name = spec.substr(0, eq);
  std::string type = spec.substr(eq + 1);
  tf::TensorShapeProto shape;
  auto bracket = type.find('[');
  if (bracket == std::string::npos) {
    shape.set_unknown_rank(true);
  } else {
    if (type.back() != ']') throw Error(ExitCode::kUsage, "--replace-input " + spec + ": shape must end with ']'");
    std::string dims = type.substr(bracket + 1, type.size() - bracket - 2);
    type = type.substr(0, bracket);
    std::size_t pos = 0;
    while (pos < dims.size()) {
      auto comma = dims.find(',', pos);
      std::string d = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      long long size = -1;
      if (d != "?" && d != "-1") {
        auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), size);
        if (ec != std::errc() || end != d.data() + d.size() || size < 0) {
          throw Error(ExitCode::kUsage, "--replace-input " + spec + ": bad dimension '" + d + "'");
        }
      }
      shape.add_dim()->set_size(size);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  auto dtype = parse_dtype(type);
  if (!dtype) throw Error(ExitCode::kUsage, "--replace-input " + spec + ": unknown dtype '" + type + "'");
  graph::TensorRef ref = graph::parse_input(name);
  if (!ref.valid || ref.control) throw Error(ExitCode::kUsage, "--replace-input " + spec + ": bad tensor name");
  tf::NodeDef* node = find_node(graph, ref.node);
  if (!node) throw Error(ExitCode::kBadInput, "--replace-input " + name + ": no such node in the graph");
  if (ref.index == 0) {
    // Other outputs still read (a dequeue's labels, used by the loss): the original node moves
    // to "<name>/replaced" and keeps serving them; pruning to the outputs usually drops it.
    const std::string original(ref.node), moved = original + "/replaced";
    bool others_used = false;
    for (const auto& n : graph->node())
      for (const auto& in : n.input()) {
        graph::TensorRef r = graph::parse_input(in);
        others_used |= r.node == ref.node && !r.control && r.index > 0;
      }
    if (others_used) {
      if (find_node(graph, moved)) throw Error(ExitCode::kUnsupported, "--replace-input " + name + ": a node named " + moved + " exists");
      for (auto& n : *graph->mutable_node())
        for (auto& in : *n.mutable_input()) {
          graph::TensorRef r = graph::parse_input(in);
          if (r.node == original && !r.control && r.index > 0) in = graph::tensor_name(moved, r.index);
        }
      tf::NodeDef copy = *node;
      copy.set_name(moved);
      *graph->add_node() = std::move(copy);
      node = find_node(graph, original);
    }
    tf::NodeDef placeholder = graph::make_placeholder(original, *dtype, shape);
    *node = std::move(placeholder);
    return original;
  }
  const std::string new_name = std::string(ref.node) + "_" + std::to_string(ref.index);
  if (find_node(graph, new_name)) throw Error(ExitCode::kUnsupported, "--replace-input " + name + ": a node named " + new_name + " exists");
  for (auto& n : *graph->mutable_node()) {
    for (auto& in : *n.mutable_input()) {
      graph::TensorRef r = graph::parse_input(in);
      if (r.node == ref.node && !r.control && r.index == ref.index) in = new_name;
    }
  }
  *graph->add_node() = graph::make_placeholder(new_name, *dtype, shape);
  return new_name;
}

}  // namespace tffreeze::freeze
