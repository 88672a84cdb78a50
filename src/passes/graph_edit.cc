#include "passes/graph_edit.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>

#include "graph/mapped_constants.h"

namespace tffreeze::passes {

const graph::Edge* data_input(const graph::GraphView& view, int i, int slot) {
  for (const auto& e : view.inputs(i))
    if (!e.control() && e.input_slot == slot) return &e;
  return nullptr;
}

int const_through_identity(const graph::GraphView& view, int i, int slot, std::vector<int>* chain) {
  const graph::Edge* e = data_input(view, i, slot);
  for (int hops = 0; e && hops < 16; ++hops) {
    const std::string& op = view.node(e->producer).op();
    if (op == "Const") return view.node(e->producer).attr().count("value") ? e->producer : -1;
    if (op != "Identity") return -1;
    if (chain) chain->push_back(e->producer);
    e = data_input(view, e->producer, 0);
  }
  return -1;
}

int consumer_count(const graph::GraphView& view, int i) { return static_cast<int>(view.consumers(i).size()); }

Tensor const_value(const tf::NodeDef& node) { return graph::constant_value(node); }

void erase_nodes(tf::GraphDef* graph, const std::vector<bool>& remove) {
  tf::GraphDef kept;
  kept.mutable_node()->Reserve(graph->node_size());
  for (int i = 0; i < graph->node_size(); ++i)
    if (!remove[static_cast<std::size_t>(i)]) kept.add_node()->Swap(graph->mutable_node(i));
  graph->mutable_node()->Swap(kept.mutable_node());
}

bool is_interface(const std::vector<std::string>& names, const std::string& node) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return graph::parse_input(n).node == node; });
}

std::vector<float> floats_of(const Tensor& t) {
  std::vector<float> v(static_cast<std::size_t>(t.num_elements()));
  if (t.dtype == tf::DT_FLOAT && t.bytes.size() == v.size() * 4) {
    if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(element_as_double(t, static_cast<std::int64_t>(i)));
  return v;
}

FloatConst read_float_const(const tf::NodeDef& node) {
  FloatConst c;
  const auto& t = node.attr().at("value").tensor();
  c.dtype = t.dtype();
  for (const auto& d : t.tensor_shape().dim()) c.shape.push_back(d.size());
  if (c.dtype != tf::DT_FLOAT) return c;
  c.bytes = const_value(node).bytes;  // content, mapped or float_val form: validated by the decoder
  return c;
}

void write_float_const(tf::NodeDef* node, FloatConst&& value) {
  node->mutable_attr()->erase(graph::kMappedValueAttr);  // the value is the new one, in the node
  auto* t = (*node->mutable_attr())["value"].mutable_tensor();
  t->Clear();
  t->set_dtype(tf::DT_FLOAT);
  for (auto d : value.shape) t->mutable_tensor_shape()->add_dim()->set_size(d);
  t->set_tensor_content(std::move(value.bytes));
  (*node->mutable_attr())["dtype"].set_type(tf::DT_FLOAT);
}

Tensor float_tensor(std::vector<std::int64_t> shape, const std::vector<float>& v) {
  Tensor t{tf::DT_FLOAT, std::move(shape), std::string(v.size() * 4, '\0'), {}, {}};
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), v.size() * 4);
  return t;
}

std::vector<float> channel_vector(const Tensor& t, std::size_t C) {
  if (t.dtype != tf::DT_FLOAT) return {};
  for (std::size_t d = 0; d + 1 < t.shape.size(); ++d)
    if (t.shape[d] != 1) return {};
  auto v = floats_of(t);
  if (v.size() == 1) return std::vector<float>(C, v[0]);
  return v.size() == C ? v : std::vector<float>{};
}

tf::NodeDef bias_add_node(const std::string& name, const std::string& input, const std::string& bias, const tf::NodeDef& like,
                          const std::string& data_format) {
  tf::NodeDef n;
  n.set_name(name);
  n.set_op("BiasAdd");
  n.add_input(input);
  n.add_input(bias);
  for (const auto& in : like.input())
    if (!in.empty() && in[0] == '^') n.add_input(in);
  (*n.mutable_attr())["T"].set_type(tf::DT_FLOAT);
  (*n.mutable_attr())["data_format"].set_s(data_format);
  n.set_device(like.device());
  return n;
}

}  // namespace tffreeze::passes

namespace tffreeze::passes {

std::string tensor_key(const std::string& input) {
  graph::TensorRef ref = graph::parse_input(input);
  return graph::tensor_name(ref.node, ref.index);
}

void apply_rewrite(tf::GraphDef* graph, const Rewrite& rw) {
  // Data: follow replacements (bounded: a cycle of replacements is a pass bug, not an input).
  auto resolve_data = [&](std::string in, std::vector<std::string>* carried) {
    for (int hops = 0; hops < 10000; ++hops) {
      auto it = rw.tensor.find(tensor_key(in));
      if (it == rw.tensor.end()) break;
      if (auto c = rw.carried.find(std::string(graph::parse_input(in).node)); c != rw.carried.end())
        carried->insert(carried->end(), c->second.begin(), c->second.end());
      in = it->second;
    }
    return in;
  };
  std::unordered_map<std::string_view, int> index;
  for (int i = 0; i < graph->node_size(); ++i) index.emplace(graph->node(i).name(), i);
  auto removed = [&](const std::string& node) {
    auto it = index.find(node);
    return it != index.end() && rw.remove[static_cast<std::size_t>(it->second)];
  };
  // Control: substitute, transitively; drop controls on erased nodes.
  std::function<void(const std::string&, std::vector<std::string>*, int)> resolve_control =
      [&](const std::string& node, std::vector<std::string>* out, int depth) {
        if (depth > 64) return;
        auto it = rw.control.find(node);
        if (it != rw.control.end()) {
          for (const auto& c : it->second) resolve_control(std::string(graph::parse_input(c).node), out, depth + 1);
          return;
        }
        if (!removed(node)) out->push_back("^" + node);
      };
  for (int i = 0; i < graph->node_size(); ++i) {
    if (rw.remove[static_cast<std::size_t>(i)]) continue;
    auto* node = graph->mutable_node(i);
    std::vector<std::string> data, controls, carried;
    for (const auto& in : node->input()) {
      if (!in.empty() && in[0] == '^') resolve_control(in.substr(1), &controls, 0);
      else data.push_back(resolve_data(in, &carried));
    }
    for (const auto& c : carried) resolve_control(std::string(graph::parse_input(c).node), &controls, 0);
    std::set<std::string> seen;
    node->clear_input();
    for (auto& d : data) node->add_input(d);
    for (auto& c : controls)
      if (seen.insert(c).second) node->add_input(c);
  }
  erase_nodes(graph, rw.remove);
}

int remove_unneeded(tf::GraphDef* graph, const std::vector<std::string>& outputs, const std::vector<std::string>& inputs) {
  if (outputs.empty()) return 0;
  graph::GraphView view(*graph);
  std::vector<bool> needed = view.needed_by(outputs, inputs);
  std::vector<bool> remove(needed.size());
  int n = 0;
  for (std::size_t k = 0; k < needed.size(); ++k) n += (remove[k] = !needed[k]);
  erase_nodes(graph, remove);
  return n;
}

}  // namespace tffreeze::passes
