// What a fusion pattern asks of the ONNX graph (who produces a value, who reads it, constant
// values, static shapes), and the one edit a fusion makes: the pattern's last node becomes the
// fused op, over the pattern's inputs, and the pattern's other nodes go. The last node keeps its
// place and outputs, so the graph stays in topological order and its readers are untouched.
#pragma once

#include <onnx/onnx_pb.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "targets/onnx_view.h"

namespace tffreeze::onnx_export {

class FusionGraph {
 public:
  explicit FusionGraph(onnx::ModelProto* model);

  int opset() const { return view_.opset(); }
  // The node computing `value` (nullptr: an input, a weight, or a node fused away this round).
  const onnx::NodeProto* producer(const std::string& value) const;
  // `node` is free to fuse when its only reader is the pattern (not a graph output either).
  bool only_read_once(const onnx::NodeProto& node) const;
  std::optional<std::vector<double>> floats(const std::string& value) const { return view_.floats(value); }
  std::optional<std::vector<std::int64_t>> shape(const std::string& value) const { return view_.shape(value); }
  int elem_type(const std::string& value) const { return view_.elem_type(value); }
  bool is_constant(const std::string& value) const { return view_.constant(value) != nullptr; }
  // A scalar float constant (one element, any rank).
  std::optional<double> scalar(const std::string& value) const;

  // `last` becomes `op` over `inputs`, attributes cleared; `removed` (the pattern's other nodes)
  // go when the round commits. Returns `last` for the caller's attributes.
  onnx::NodeProto* fuse(const onnx::NodeProto& last, const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<const onnx::NodeProto*>& removed);
  std::string add_float_initializer(const std::string& wanted, const std::vector<float>& values, const std::vector<std::int64_t>& dims);
  // Erases the removed nodes and the weights nobody reads any more; false when nothing was fused.
  bool commit();

 private:
  onnx::ModelProto* model_;
  targets::OnnxView view_;
  std::map<std::string, const onnx::NodeProto*> producers_;
  std::set<const onnx::NodeProto*> removed_, fused_;
  bool has_subgraphs_ = false;
};

// One pattern: rewrites at `node` (the pattern's last node) and says what it did, or returns "".
using FusionPattern = std::string (*)(const onnx::NodeProto& node, FusionGraph& graph);

std::string fuse_matmul_add_as_gemm(const onnx::NodeProto& node, FusionGraph& graph);
std::string fuse_hard_sigmoid(const onnx::NodeProto& node, FusionGraph& graph);
std::string fuse_hard_swish(const onnx::NodeProto& node, FusionGraph& graph);
std::string fuse_relu_difference_as_prelu(const onnx::NodeProto& node, FusionGraph& graph);
std::string fuse_max_as_prelu(const onnx::NodeProto& node, FusionGraph& graph);

// The other operand of a binary node, when `value` is one of its two inputs; "" otherwise.
std::string other_operand(const onnx::NodeProto& node, const std::string& value);

}  // namespace tffreeze::onnx_export
