// What the ONNX target rules ask of a model: which values are constants (initializers or
// Constant nodes) and their integer values, each value's element type and shape (ONNX's own
// shape inference, run once on a copy), and who reads a value.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tffreeze::targets {

class OnnxView {
 public:
  explicit OnnxView(const onnx::ModelProto& model);

  const onnx::GraphProto& graph() const { return model_.graph(); }
  // The opset the model imports for `domain` ("" = ai.onnx), -1 when it imports none.
  int opset(const std::string& domain = "") const;

  // The value of an initializer or of a Constant node's `value` attribute, else nullptr.
  const onnx::TensorProto* constant(const std::string& value) const;
  // Integer values of a constant (inline data only; a weight in an external file has none here).
  std::optional<std::vector<std::int64_t>> ints(const std::string& value) const;
  std::optional<std::vector<double>> floats(const std::string& value) const;

  // TensorProto element type of a value (0: unknown); its shape (nullopt: unknown rank; -1: an unknown dim).
  int elem_type(const std::string& value) const;
  std::optional<std::vector<std::int64_t>> shape(const std::string& value) const;

  int readers(const std::string& value) const;  // nodes reading it, graph outputs included
  bool is_graph_input(const std::string& value) const;

 private:
  const onnx::ModelProto& model_;
  std::map<std::string, const onnx::TensorProto*> constants_;
  std::map<std::string, const onnx::ValueInfoProto*> infos_;
  std::map<std::string, int> readers_;
  onnx::ModelProto inferred_;  // the model's value infos after ONNX's shape inference (no weights copied)
};

// A node's name as check prints it: its name, else its first output.
std::string onnx_node_name(const onnx::NodeProto& node);

std::int64_t onnx_attr_int(const onnx::NodeProto& node, const std::string& name, std::int64_t fallback);
float onnx_attr_float(const onnx::NodeProto& node, const std::string& name, float fallback);
std::string onnx_attr_string(const onnx::NodeProto& node, const std::string& name, const std::string& fallback);
std::optional<std::vector<std::int64_t>> onnx_attr_ints(const onnx::NodeProto& node, const std::string& name);
bool onnx_has_attr(const onnx::NodeProto& node, const std::string& name);
// Input k, or "" when the node has no such input (ONNX also writes "" for an omitted optional one).
std::string onnx_input(const onnx::NodeProto& node, int k);

}  // namespace tffreeze::targets
