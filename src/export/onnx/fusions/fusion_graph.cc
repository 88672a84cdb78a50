#include "export/onnx/fusions/fusion_graph.h"

#include <cstring>

namespace tffreeze::onnx_export {

FusionGraph::FusionGraph(onnx::ModelProto* model) : model_(model), view_(*model) {
  for (const auto& n : model->graph().node()) {
    for (const auto& o : n.output()) producers_[o] = &n;
    for (const auto& a : n.attribute()) has_subgraphs_ = has_subgraphs_ || a.has_g() || a.graphs_size() > 0;
  }
}

const onnx::NodeProto* FusionGraph::producer(const std::string& value) const {
  auto it = producers_.find(value);
  if (it == producers_.end() || removed_.count(it->second) || fused_.count(it->second)) return nullptr;
  return it->second;
}

// Subgraphs (Loop bodies, If branches) may read an outer value too: the view counts only the main
// graph's readers, so a value a subgraph names is never taken as free.
bool FusionGraph::only_read_once(const onnx::NodeProto& node) const {
  return !has_subgraphs_ && node.output_size() == 1 && view_.readers(node.output(0)) == 1;
}

std::optional<double> FusionGraph::scalar(const std::string& value) const {
  auto v = view_.floats(value);
  if (!v || v->size() != 1) return std::nullopt;
  return (*v)[0];
}

onnx::NodeProto* FusionGraph::fuse(const onnx::NodeProto& last, const std::string& op, const std::vector<std::string>& inputs,
                                   const std::vector<const onnx::NodeProto*>& removed) {
  auto* node = const_cast<onnx::NodeProto*>(&last);  // a node of model_, which this class edits
  node->set_op_type(op);
  node->clear_attribute();
  node->clear_input();
  for (const auto& i : inputs) node->add_input(i);
  fused_.insert(node);
  removed_.insert(removed.begin(), removed.end());
  return node;
}

std::string FusionGraph::add_float_initializer(const std::string& wanted, const std::vector<float>& values, const std::vector<std::int64_t>& dims) {
  std::string name = wanted;
  for (int k = 1; producers_.count(name) || view_.constant(name); ++k) name = wanted + "_" + std::to_string(k);
  auto* t = model_->mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->add_dims(d);
  std::string raw(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  t->set_raw_data(std::move(raw));
  producers_[name] = nullptr;  // taken
  return name;
}

bool FusionGraph::commit() {
  if (fused_.empty()) return false;
  auto* nodes = model_->mutable_graph()->mutable_node();
  for (int i = nodes->size() - 1; i >= 0; --i)
    if (removed_.count(&nodes->Get(i))) nodes->DeleteSubrange(i, 1);
  std::set<std::string> read;
  for (const auto& n : model_->graph().node())
    for (const auto& in : n.input()) read.insert(in);
  for (const auto& o : model_->graph().output()) read.insert(o.name());
  auto* inits = model_->mutable_graph()->mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (!read.count(inits->Get(i).name())) inits->DeleteSubrange(i, 1);
  return true;
}

std::string other_operand(const onnx::NodeProto& node, const std::string& value) {
  if (node.input_size() != 2) return "";
  if (node.input(0) == value) return node.input(1);
  if (node.input(1) == value) return node.input(0);
  return "";
}

}  // namespace tffreeze::onnx_export
