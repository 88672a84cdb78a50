// What every TF→ONNX converter works with: the ONNX graph being built, the TF graph's tensors
// (static shapes and dtypes from one executor run, constant values), and helpers that add
// nodes, attributes and initializers under unique names. ONNX values are named after the TF
// tensors they carry ("conv/Relu", "split:1"), so graph inputs keep the placeholders' names
// and outputs the names the user gave.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/tensor.h"
#include "tffreeze/tf/graph.pb.h"

namespace tffreeze::onnx_export {

namespace tf = ::tffreeze::tf;

// A TF tensor as one executor run saw it.
struct TensorInfo {
  tf::DataType dtype = tf::DT_INVALID;
  std::vector<std::int64_t> shape;  // dims seen to differ between runs or iterations are -1
  bool rank_varies = false;          // seen with different ranks (a v1 loop variable may be): `shape` is the first
};

// ONNX's TensorProto.DataType for a TF dtype; 0 (UNDEFINED) when ONNX has none.
int onnx_dtype(tf::DataType dtype);

class ExportContext {
 public:
  ExportContext(onnx::GraphProto* graph, int opset, std::map<std::string, TensorInfo> info, std::map<std::string, const tf::NodeDef*> constants);
  // A context for a subgraph (a Loop body, an If branch) nested in `parent`: nodes go to
  // `graph`, initializers to the outermost graph (ONNX lets a subgraph read outer values), and
  // names, shapes and constants are shared, so that names stay unique across every scope.
  ExportContext(ExportContext& parent, onnx::GraphProto* graph);

  int opset() const { return opset_; }
  onnx::GraphProto& graph() { return *graph_; }
  // Records what a tensor the run did not see is (a renamed copy of a node, a subgraph input).
  void set_info(const std::string& tf_input, const TensorInfo& info);

  // The ONNX value carrying a TF input reference ("x", "x:0", "x:1"); control inputs have none.
  static std::string value(const std::string& tf_input);
  // TF output k of `node` as an ONNX value name.
  static std::string output(const tf::NodeDef& node, int k = 0);

  // Static shape and dtype of a TF tensor; Error (exit 4) naming the node when the run did not
  // see it (e.g. inside a loop).
  const TensorInfo& info(const std::string& tf_input) const;
  bool has_info(const std::string& tf_input) const;
  // The value of input `tf_input` when its producer is a Const, else nullptr.
  const Tensor* constant(const std::string& tf_input);

  // A fresh ONNX name from `wanted` (node names and values share one namespace here).
  std::string fresh(const std::string& wanted);
  // Adds a node; `outputs` empty: one output, a fresh name from `name`. Returns the node.
  onnx::NodeProto* add_node(const std::string& op_type, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                            const std::string& name);
  // Adds an initializer under a fresh name from `wanted`; returns that name.
  std::string add_initializer(const std::string& wanted, const Tensor& value);
  std::string add_ints(const std::string& wanted, const std::vector<std::int64_t>& values, bool scalar = false);
  std::string add_floats(const std::string& wanted, const std::vector<float>& values, std::vector<std::int64_t> shape);

 private:
  struct Shared {
    std::map<std::string, TensorInfo> info;
    std::map<std::string, const tf::NodeDef*> constants;
    std::map<std::string, Tensor> decoded;
    std::unordered_set<std::string> taken;
  };
  onnx::GraphProto* graph_;
  onnx::GraphProto* root_;  // where initializers go
  int opset_;
  std::shared_ptr<Shared> shared_;
};

// Attribute setters for ONNX nodes.
void set_int(onnx::NodeProto* node, const std::string& name, std::int64_t value);
void set_float(onnx::NodeProto* node, const std::string& name, float value);
void set_string(onnx::NodeProto* node, const std::string& name, const std::string& value);
void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<std::int64_t>& values);

// TF Tensor -> ONNX TensorProto (raw_data, little-endian). Error (exit 4) for a dtype ONNX lacks.
void to_onnx_tensor(const Tensor& value, const std::string& name, onnx::TensorProto* out);

}  // namespace tffreeze::onnx_export
